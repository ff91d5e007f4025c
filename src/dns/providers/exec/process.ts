/**
 * One run of a DNS script: in its own process group (process/group.ts), so a timeout or an interrupt
 * kills the script and everything it started (SIGTERM, then SIGKILL after a grace period). Never
 * throws: a missing program, a timeout and an exit code are all outcomes the caller words.
 */
import { runInGroup, type GroupRun } from '../../../process/group.js';

/**
 * stdout is what the script wrote there (certbot hands the auth hook's output to the cleanup hook);
 * the end of stderr is for the error line. `ok`: exit code 0, neither timed out nor interrupted.
 */
export interface ScriptRun extends Omit<GroupRun, 'output'> {
  ok: boolean;
}

export interface ScriptOptions {
  env: Record<string, string>;
  timeoutMs: number;
  /** Between SIGTERM and SIGKILL. */
  killGraceMs?: number;
  signal?: AbortSignal;
}

/** Runs `program args...` without a shell; what it leaves running in the background is its own business. */
export async function runScript(program: string, args: string[], opts: ScriptOptions): Promise<ScriptRun> {
  const run = await runInGroup(program, args, {
    env: opts.env,
    timeoutMs: opts.timeoutMs,
    leftovers: 'leave',
    ...(opts.killGraceMs === undefined ? {} : { killGraceMs: opts.killGraceMs }),
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
  });
  return {
    ok: run.exitCode === 0 && !run.timedOut && !run.aborted,
    ...(run.exitCode === undefined ? {} : { exitCode: run.exitCode }),
    ...(run.signal === undefined ? {} : { signal: run.signal }),
    ...(run.spawnError === undefined ? {} : { spawnError: run.spawnError }),
    timedOut: run.timedOut,
    aborted: run.aborted,
    stdout: run.stdout,
    stderr: run.stderr,
  };
}
