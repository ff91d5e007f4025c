/**
 * One run of a DNS script: in its own process group, so a timeout or an interrupt kills the script
 * and everything it started (SIGTERM, then SIGKILL after a grace period). Never throws: a missing
 * program, a timeout and an exit code are all outcomes the caller words.
 */
import { spawn } from 'node:child_process';

export interface ScriptRun {
  ok: boolean;
  exitCode?: number;
  signal?: string;
  timedOut: boolean;
  aborted: boolean;
  /** Why it could not be started (ENOENT, EACCES, ...). */
  spawnError?: string;
  /** What the script wrote to stdout (certbot hands the auth hook's output to the cleanup hook). */
  stdout: string;
  /** The end of what it wrote to stderr, for the error line. */
  stderr: string;
}

export interface ScriptOptions {
  env: Record<string, string>;
  timeoutMs: number;
  /** Between SIGTERM and SIGKILL. */
  killGraceMs?: number;
  signal?: AbortSignal;
}

/** Kept of each stream; enough for the last lines of a complaint. */
const OUTPUT_LIMIT = 8192;

/** Runs `program args...` without a shell. */
export function runScript(program: string, args: string[], opts: ScriptOptions): Promise<ScriptRun> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let aborted = false;
    let settled = false;
    const child = spawn(program, args, { env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.stdout?.on('data', (d: Buffer) => { stdout = (stdout + d.toString('utf8')).slice(-OUTPUT_LIMIT); });
    child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString('utf8')).slice(-OUTPUT_LIMIT); });

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
    const onAbort = (): void => {
      aborted = true;
      stop();
    };
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });

    const finish = (result: Pick<ScriptRun, 'ok' | 'exitCode' | 'signal' | 'spawnError'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (killTimer !== undefined && result.spawnError === undefined) {
        // The group may still hold children that ignored SIGTERM: the grace timer finishes them.
        killTimer.unref();
      }
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({ ...result, ok: result.ok && !timedOut && !aborted, timedOut, aborted, stdout, stderr });
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      finish({
        ok: false,
        spawnError: error.code === 'ENOENT' ? `${program}: no such file` : error.code === 'EACCES' ? `${program}: permission denied (not executable?)` : error.message,
      });
    });
    child.on('exit', (code, signal) => {
      // A background process the script started may keep the pipes open: take what has arrived.
      setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish({ ok: code === 0, ...(code === null ? {} : { exitCode: code }), ...(signal === null ? {} : { signal }) });
      }, 50);
    });
  });
}

/** The last lines of stderr on one line (the cause is often just above the final complaint). */
export function stderrTail(stderr: string): string | undefined {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  if (lines.length === 0) return undefined;
  const text = lines.slice(-3).join(' / ');
  return text.length > 400 ? `...${text.slice(-397)}` : text;
}
