/**
 * One child process in its own process group, without a shell of ours: a timeout or an abort kills
 * the program and everything it started (SIGTERM to the group, SIGKILL after a grace period). Never
 * throws: a missing program, a timeout, an abort and an exit code are all outcomes the caller words.
 * Used by the hooks and by the exec DNS provider, each of which builds the environment from scratch.
 */
import { spawn } from 'node:child_process';

/** Kept of each stream (and of both together): enough for the last lines of a complaint. */
export const OUTPUT_LIMIT = 8192;

export interface GroupOptions {
  env: Record<string, string>;
  /** Working directory; gxit-cert's own when not given. */
  cwd?: string;
  timeoutMs: number;
  /** Between SIGTERM and SIGKILL. */
  killGraceMs?: number;
  /** Aborted (also before the start): the group is stopped as after a timeout. */
  signal?: AbortSignal;
  /** Receives output of either stream as it arrives. */
  onOutput?: (text: string) => void;
  /**
   * What the program left running in its group when it exits: 'stop' ends it too (SIGTERM, SIGKILL
   * after the grace period), 'leave' lets it run.
   */
  leftovers: 'stop' | 'leave';
}

export interface GroupRun {
  exitCode?: number;
  signal?: string;
  timedOut: boolean;
  aborted: boolean;
  /** Why it could not be started (ENOENT, EACCES, ...). */
  spawnError?: string;
  /** The end of stdout, of stderr, and of both as they arrived (each at most OUTPUT_LIMIT characters). */
  stdout: string;
  stderr: string;
  output: string;
}

const keepEnd = (kept: string, text: string): string => (kept + text).slice(-OUTPUT_LIMIT);

export function runInGroup(program: string, args: string[], opts: GroupOptions): Promise<GroupRun> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let output = '';
    let timedOut = false;
    let aborted = false;
    let settled = false;
    const child = spawn(program, args, { ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }), env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const collect = (chunk: Buffer): string => {
      const text = chunk.toString('utf8');
      opts.onOutput?.(text);
      output = keepEnd(output, text);
      return text;
    };
    child.stdout?.on('data', (chunk: Buffer) => { stdout = keepEnd(stdout, collect(chunk)); });
    child.stderr?.on('data', (chunk: Buffer) => { stderr = keepEnd(stderr, collect(chunk)); });

    const grace = opts.killGraceMs ?? 2000;
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
      killTimer = setTimeout(() => killGroup('SIGKILL'), grace);
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

    const finish = (result: Pick<GroupRun, 'exitCode' | 'signal' | 'spawnError'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (killTimer !== undefined && result.spawnError === undefined) {
        // The group may still hold children that ignored SIGTERM: the grace timer finishes them.
        killTimer.unref();
      }
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({ ...result, timedOut, aborted, stdout, stderr, output });
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      finish({ spawnError: error.code === 'ENOENT' ? `${program}: no such file` : error.code === 'EACCES' ? `${program}: permission denied (not executable?)` : error.message });
    });
    child.on('exit', (code, signal) => {
      if (opts.leftovers === 'stop') {
        // A process that left the group (setsid) is out of reach by design.
        killGroup('SIGTERM');
        setTimeout(() => killGroup('SIGKILL'), grace).unref();
      }
      // A background process may keep the pipes open: wait briefly for the rest of the output, not
      // for the pipes to close.
      setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish({ ...(code === null ? {} : { exitCode: code }), ...(signal === null ? {} : { signal }) });
      }, 50);
    });
  });
}

/** The last lines of a program's output on one line (the cause is often just above the final complaint). */
export function outputTail(text: string, cleanLine: (line: string) => string = (line) => line): string | undefined {
  const lines = text.split('\n').map((l) => cleanLine(l).trim()).filter((l) => l !== '');
  if (lines.length === 0) return undefined;
  const joined = lines.slice(-3).join(' / ');
  return joined.length > 400 ? `...${joined.slice(-397)}` : joined;
}
