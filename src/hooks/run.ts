/**
 * Running one hook: an argv list without a shell, or a string with /bin/sh -c; in its own process
 * group (process/group.ts), so a timeout kills the hook and everything it started (SIGTERM, then
 * SIGKILL after a grace period), and what it leaves running in the background is killed when it
 * exits. Never throws: every outcome, a missing program included, is a HookRun.
 */
import { basename } from 'node:path';
import type { HookCommand } from '../config/types.js';
import { outputTail, runInGroup } from '../process/group.js';
import { cleanOutputLine } from '../redact.js';
import type { HookPhase } from './env.js';

export interface HookRun {
  phase: HookPhase;
  /** Short name for messages: the program's base name, or the start of the shell command. */
  label: string;
  ok: boolean;
  exitCode?: number;
  signal?: string;
  timedOut: boolean;
  durationMs: number;
  /** The end of what the hook wrote to stdout and stderr (at most OUTPUT_LIMIT characters). */
  output: string;
  /** Why it could not be started (ENOENT, EACCES, ...). */
  spawnError?: string;
}

export interface HookRunOptions {
  phase: HookPhase;
  env: Record<string, string>;
  cwd: string;
  timeoutMs: number;
  /** Between SIGTERM and SIGKILL after a timeout. */
  killGraceMs?: number;
  /** Receives output as it arrives (for --verbose). */
  onOutput?: (text: string) => void;
  /** Aborted (SIGINT/SIGTERM to gxit-cert): the hook is killed like after a timeout. */
  signal?: AbortSignal;
}

export { OUTPUT_LIMIT } from '../process/group.js';

export function hookLabel(hook: HookCommand): string {
  if ('argv' in hook) return basename(hook.argv[0] ?? '?');
  const text = hook.shell.trim().replace(/\s+/g, ' ');
  return text.length > 48 ? `${text.slice(0, 45)}...` : text;
}

export async function runHook(hook: HookCommand, opts: HookRunOptions): Promise<HookRun> {
  const started = Date.now();
  const label = hookLabel(hook);
  const [program, args] = 'argv' in hook ? [hook.argv[0] ?? '', hook.argv.slice(1)] : ['/bin/sh', ['-c', hook.shell]];
  // What the hook left running in its process group (a `cmd &` in the shell) ends with it: a hook is
  // a step of the run, not a way to start daemons (those belong to systemd).
  const run = await runInGroup(program, args, {
    env: opts.env,
    cwd: opts.cwd,
    timeoutMs: opts.timeoutMs,
    leftovers: 'stop',
    ...(opts.killGraceMs === undefined ? {} : { killGraceMs: opts.killGraceMs }),
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    ...(opts.onOutput === undefined ? {} : { onOutput: opts.onOutput }),
  });
  return {
    phase: opts.phase,
    label,
    ok: run.exitCode === 0 && !run.timedOut,
    ...(run.exitCode === undefined ? {} : { exitCode: run.exitCode }),
    ...(run.signal === undefined ? {} : { signal: run.signal }),
    timedOut: run.timedOut,
    durationMs: Date.now() - started,
    output: run.output,
    ...(run.spawnError === undefined ? {} : { spawnError: run.spawnError }),
  };
}

/** One line saying how a hook failed, with the last line of its output. */
export function describeHookFailure(run: HookRun, timeoutMs: number): string {
  const name = `${run.phase.replace('_', '-')} hook ${run.label}`;
  let what: string;
  if (run.spawnError !== undefined) what = `could not be started: ${run.spawnError}`;
  else if (run.timedOut) what = `did not finish within ${formatSeconds(timeoutMs)} and was killed`;
  else if (run.signal !== undefined) what = `was killed by ${run.signal}`;
  else what = `failed with exit code ${run.exitCode ?? '?'}`;
  // The cause is often just above the final complaint (nginx -t); escapes are stripped for the terminal.
  const tail = outputTail(run.output, cleanOutputLine);
  return tail === undefined ? `${name} ${what}` : `${name} ${what}: ${tail}`;
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}
