/**
 * Running one hook: an argv list without a shell, or a string with /bin/sh -c; in its own process
 * group, so a timeout kills the hook and everything it started (SIGTERM, then SIGKILL after a grace
 * period), and what it leaves running in the background is killed when it exits. Never throws: every outcome, a missing program included, is a HookRun.
 */
import { spawn } from 'node:child_process';
import { basename } from 'node:path';
import type { HookCommand } from '../config/types.js';
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

export const OUTPUT_LIMIT = 8192;

export function hookLabel(hook: HookCommand): string {
  if ('argv' in hook) return basename(hook.argv[0] ?? '?');
  const text = hook.shell.trim().replace(/\s+/g, ' ');
  return text.length > 48 ? `${text.slice(0, 45)}...` : text;
}

export function runHook(hook: HookCommand, opts: HookRunOptions): Promise<HookRun> {
  const started = Date.now();
  const label = hookLabel(hook);
  const [program, args] = 'argv' in hook ? [hook.argv[0] ?? '', hook.argv.slice(1)] : ['/bin/sh', ['-c', hook.shell]];
  return new Promise((resolve) => {
    let output = '';
    let timedOut = false;
    let settled = false;
    const child = spawn(program, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const collect = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      opts.onOutput?.(text);
      output = (output + text).slice(-OUTPUT_LIMIT);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);

    const killGroup = (signal: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // the group is gone already
      }
    };
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (): void => {
      if (killTimer !== undefined) return;
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), opts.killGraceMs ?? 2000);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, opts.timeoutMs);
    opts.signal?.addEventListener('abort', stop, { once: true });

    const finish = (result: Omit<HookRun, 'phase' | 'label' | 'timedOut' | 'durationMs' | 'output'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', stop);
      resolve({ phase: opts.phase, label, timedOut, durationMs: Date.now() - started, output, ...result, ok: result.ok && !timedOut });
    };

    child.on('error', (error: NodeJS.ErrnoException) => {
      finish({ ok: false, spawnError: error.code === 'ENOENT' ? `${program}: no such file` : error.code === 'EACCES' ? `${program}: permission denied (not executable?)` : error.message });
    });
    child.on('exit', (code, signal) => {
      // What the hook left running in its process group (a `cmd &` in the shell) ends with it: a
      // hook is a step of the run, not a way to start daemons (those belong to systemd). SIGTERM
      // now, SIGKILL after the grace period for what ignores it; a process that left the group
      // (setsid) is out of reach by design.
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), opts.killGraceMs ?? 2000).unref();
      // A background process may keep stdout open: wait briefly for the rest of the output, not
      // for the pipes to close.
      setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish({ ok: code === 0, ...(code === null ? {} : { exitCode: code }), ...(signal === null ? {} : { signal }) });
      }, 50);
    });
  });
}

/** One line saying how a hook failed, with the last line of its output. */
export function describeHookFailure(run: HookRun, timeoutMs: number): string {
  const name = `${run.phase.replace('_', '-')} hook ${run.label}`;
  let what: string;
  if (run.spawnError !== undefined) what = `could not be started: ${run.spawnError}`;
  else if (run.timedOut) what = `did not finish within ${formatSeconds(timeoutMs)} and was killed`;
  else if (run.signal !== undefined) what = `was killed by ${run.signal}`;
  else what = `failed with exit code ${run.exitCode ?? '?'}`;
  const tail = outputTail(run.output);
  return tail === undefined ? `${name} ${what}` : `${name} ${what}: ${tail}`;
}

/** The last lines of the output on one line: the cause is often just above the final complaint (nginx -t). */
function outputTail(output: string): string | undefined {
  const lines = output.split('\n').map((l) => cleanOutputLine(l).trim()).filter((l) => l !== '');
  if (lines.length === 0) return undefined;
  const text = lines.slice(-3).join(' / ');
  return text.length > 400 ? `...${text.slice(-397)}` : text;
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}
