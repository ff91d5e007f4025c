/**
 * The hooks of one phase, one after the other, each with the same environment. All of them run even
 * when one fails (a failed install-files does not make a reload harmful), except where the caller
 * asks to stop at the first failure (pre hooks: a failed one means no order is placed).
 */
import type { HookCommand } from '../config/types.js';
import { hookEnvironment, type HookFacts } from './env.js';
import { hookLabel, runHook, type HookRun } from './run.js';

export interface PhaseOptions {
  hooks: readonly HookCommand[];
  facts: HookFacts;
  /** gxit-cert's own environment; only what env.ts allows is passed on. */
  parentEnv: NodeJS.ProcessEnv;
  cwd: string;
  timeoutMs: number;
  stopOnFailure?: boolean;
  onStart?: (label: string) => void;
  onOutput?: (label: string, text: string) => void;
  killGraceMs?: number;
  /** Aborted: the running hook is killed and the rest are not started. */
  signal?: AbortSignal;
}

export async function runPhase(opts: PhaseOptions): Promise<HookRun[]> {
  const env = hookEnvironment(opts.parentEnv, opts.facts);
  const runs: HookRun[] = [];
  for (const hook of opts.hooks) {
    if (opts.signal?.aborted) break;
    const label = hookLabel(hook);
    opts.onStart?.(label);
    const run = await runHook(hook, {
      phase: opts.facts.phase,
      env,
      cwd: opts.cwd,
      timeoutMs: opts.timeoutMs,
      ...(opts.killGraceMs === undefined ? {} : { killGraceMs: opts.killGraceMs }),
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
      ...(opts.onOutput === undefined ? {} : { onOutput: (text: string) => opts.onOutput?.(label, text) }),
    });
    runs.push(run);
    if (!run.ok && opts.stopOnFailure) break;
  }
  return runs;
}
