/**
 * One exclusive lock per state directory: <state_dir>/.lock.
 *
 * The lock file holds {pid, hostname, token, acquiredAt, heartbeat}. The holder rewrites the
 * heartbeat in place every heartbeatMs (an unref'd timer, so it never keeps the process alive).
 * A waiter takes the lock over when the holder is gone: same host and its pid is dead (ESRCH), or
 * its heartbeat is older than staleMs (a hung process, or another host). A takeover happens under
 * a second exclusive file (.lock.takeover), re-checks staleness there and then renames a complete
 * new lock file over the old one, so of several waiters exactly one wins.
 *
 * The lock file is created complete: written to a temp file, fsynced, then hard-linked to .lock
 * (link(2) fails with EEXIST like open(O_EXCL) does, but nobody can read a half-written lock).
 */
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { GxitError } from '../errors.js';
import { sleep as timerSleep } from '../timers.js';
import { isFileReadError, readBoundedText } from '../files/read.js';
import { ensureDir, errnoOf, nodeFs, storeIoError } from './fs.js';
import { parseJsonObject } from './json.js';
import { lockPath } from './layout.js';

export interface LockHolder {
  pid: number;
  hostname: string;
  /** Random per acquisition; tells two holders in one process apart. */
  token: string;
  /** ISO 8601. */
  acquiredAt: string;
  /** ISO 8601, refreshed while the lock is held. */
  heartbeat: string;
}

export interface LockWaitInfo {
  path: string;
  /** Undefined when the lock file could not be parsed (being replaced, or foreign). */
  holder: LockHolder | undefined;
}

export interface LockOptions {
  /** Give up with LOCKED after waiting this long (0: try once). */
  waitMs: number;
  /** A heartbeat older than this marks the lock stale. MUST be well above heartbeatMs. */
  staleMs: number;
  /** Interval between attempts while waiting; default 100 ms. */
  pollMs?: number;
  /** Interval of heartbeat refreshes; default staleMs / 3. */
  heartbeatMs?: number;
  /** Called once, when the first attempt finds the lock held (for "waiting for pid N ..."). */
  onWait?: (info: LockWaitInfo) => void;
  /** Clock, milliseconds since the epoch; Date.now by default. */
  now?: () => number;
  /** Aborting stops the wait: acquireLock rejects with INTERRUPTED. */
  signal?: AbortSignal;
}

/**
 * A held state lock (certmagic's Locker, reduced to one lock per state directory).
 *
 * Obligations of the holder:
 * - Re-check everything decided before acquiring (which lineages are due, whether an account
 *   exists): another run may have committed while we waited. Decide again under the lock.
 * - Call release() exactly once, also on failure (try/finally). A process that dies without
 *   releasing leaves a lock that the next run takes over (dead pid, or stale heartbeat).
 * - Keep the event loop turning: a process blocked longer than staleMs loses the lock to a waiter.
 * Guarantees: while the heartbeat runs, no other acquireLock on the same state_dir succeeds;
 * release() never removes a lock that has been taken over by someone else.
 */
export interface StateLock {
  readonly path: string;
  /** Aborted (LOCK_LOST) when the lock file was replaced or removed, or the heartbeat failed for staleMs. */
  readonly lost: AbortSignal;
  /** Stop the heartbeat and remove the lock file if it is still ours. Idempotent. */
  release(): Promise<void>;
}

export type StaleReason = 'pid-dead' | 'heartbeat-expired';

export interface LockFacts {
  /** false: same host and kill(pid, 0) gave ESRCH; undefined: cannot tell (other host, unreadable file). */
  pidAlive: boolean | undefined;
  /** Time of the last heartbeat, ms since the epoch. */
  heartbeatMs: number;
  nowMs: number;
  staleMs: number;
}

/** Why a lock may be taken over, or undefined when it is held (pure). */
export function lockStaleness(facts: LockFacts): StaleReason | undefined {
  if (facts.pidAlive === false) return 'pid-dead';
  if (!Number.isFinite(facts.heartbeatMs)) return 'heartbeat-expired';
  // A heartbeat in the future (clock skew between hosts) counts as fresh.
  if (facts.nowMs - facts.heartbeatMs > facts.staleMs) return 'heartbeat-expired';
  return undefined;
}

/** The text of a lock file: one JSON line of constant length for a holder (ISO times are fixed-width). */
export function formatLockFile(holder: LockHolder): string {
  return `${JSON.stringify({
    pid: holder.pid,
    hostname: holder.hostname,
    token: holder.token,
    acquiredAt: holder.acquiredAt,
    heartbeat: holder.heartbeat,
  })}\n`;
}

/** Parse a lock file; undefined for anything that is not a complete lock record. */
export function parseLockFile(text: string): LockHolder | undefined {
  const json = parseJsonObject(text);
  if (!json.ok) return undefined;
  const record = json.value;
  const { pid, hostname: host, token, acquiredAt, heartbeat } = record;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid < 1) return undefined;
  if (typeof host !== 'string' || typeof token !== 'string') return undefined;
  if (typeof acquiredAt !== 'string' || typeof heartbeat !== 'string') return undefined;
  return { pid, hostname: host, token, acquiredAt, heartbeat };
}

/** kill(pid, 0): ESRCH means gone; EPERM means alive but not ours. */
export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoOf(error) !== 'ESRCH';
  }
}

interface Observed {
  holder: LockHolder | undefined;
  mtimeMs: number;
}

/** Read the lock file; undefined when it vanished meanwhile. */
async function observe(path: string): Promise<Observed | undefined> {
  try {
    // lstat, then the bounded reader: a FIFO, device or huge file there is one error line, never a hang.
    const stat = await fsp.lstat(path);
    const holder = parseLockFile(await readBoundedText(path, { kind: 'lock' }));
    return { holder, mtimeMs: stat.mtimeMs };
  } catch (error) {
    if (errnoOf(error) === 'ENOENT' || (isFileReadError(error) && error.problem === 'missing')) return undefined;
    throw storeIoError('read the lock', path, error);
  }
}

function factsOf(observed: Observed, nowMs: number, staleMs: number): LockFacts {
  const holder = observed.holder;
  if (holder === undefined) return { pidAlive: undefined, heartbeatMs: observed.mtimeMs, nowMs, staleMs };
  const beat = Date.parse(holder.heartbeat);
  return {
    pidAlive: holder.hostname === hostname() ? isPidAlive(holder.pid) : undefined,
    heartbeatMs: Number.isNaN(beat) ? observed.mtimeMs : beat,
    nowMs,
    staleMs,
  };
}

/**
 * Put a complete lock file at `path`: 'create' fails (undefined) when one exists; 'replace'
 * renames over it. Returns an open handle on the new file (used for the heartbeat).
 */
async function installLockFile(path: string, content: string, how: 'create' | 'replace'): Promise<FileHandle | undefined> {
  const temp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  let handle: FileHandle | undefined;
  try {
    handle = await fsp.open(temp, 'wx', 0o644);
    await handle.writeFile(content);
    await handle.sync();
    if (how === 'create') {
      await fsp.link(temp, path);
      await fsp.unlink(temp).catch(() => undefined);
    } else {
      await fsp.rename(temp, path);
    }
    return handle;
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await fsp.unlink(temp).catch(() => undefined);
    if (how === 'create' && errnoOf(error) === 'EEXIST') return undefined;
    throw storeIoError(how === 'create' ? 'create the lock' : 'take over the lock', path, error);
  }
}

/** Take over a stale lock under the .takeover guard; undefined when someone else is at it or it is fresh again. */
async function takeOver(path: string, content: string, now: () => number, staleMs: number): Promise<FileHandle | undefined> {
  const guard = `${path}.takeover`;
  try {
    await fsp.writeFile(guard, JSON.stringify({ pid: process.pid, hostname: hostname() }), { flag: 'wx', mode: 0o644 });
  } catch (error) {
    if (errnoOf(error) !== 'EEXIST') throw storeIoError('create', guard, error);
    await clearStaleGuard(guard, now(), staleMs);
    return undefined;
  }
  try {
    const again = await observe(path);
    if (again === undefined) return await installLockFile(path, content, 'create');
    if (lockStaleness(factsOf(again, now(), staleMs)) === undefined) return undefined;
    return await installLockFile(path, content, 'replace');
  } finally {
    await fsp.unlink(guard).catch(() => undefined);
  }
}

/** A guard left by a process that died in the middle of a takeover. */
async function clearStaleGuard(guard: string, nowMs: number, staleMs: number): Promise<void> {
  try {
    const stat = await fsp.lstat(guard);
    let pidAlive: boolean | undefined;
    try {
      const value = JSON.parse(await readBoundedText(guard, { kind: 'lock' })) as { pid?: unknown; hostname?: unknown };
      if (typeof value.pid === 'number' && value.pid >= 1 && value.hostname === hostname()) pidAlive = isPidAlive(value.pid);
    } catch {
      pidAlive = undefined;
    }
    if (lockStaleness({ pidAlive, heartbeatMs: stat.mtimeMs, nowMs, staleMs }) !== undefined) await fsp.unlink(guard);
  } catch {
    // Gone already, or not ours to judge now: the next poll looks again.
  }
}

function lockedError(stateDir: string, path: string, observed: Observed, nowMs: number, waitedMs: number): GxitError {
  const holder = observed.holder;
  const waited = `waited ${(waitedMs / 1000).toFixed(1)} s`;
  if (holder === undefined) {
    return new GxitError('LOCKED', `state directory ${stateDir} is locked (unreadable lock file ${path}; ${waited})`, {
      subject: path,
      fix: `If no other gxit-cert run is active, delete ${path}.`,
    });
  }
  const beat = Date.parse(holder.heartbeat);
  const age = Number.isNaN(beat) ? 'unknown' : `${Math.max(0, Math.round((nowMs - beat) / 1000))} s ago`;
  return new GxitError(
    'LOCKED',
    `state directory ${stateDir} is locked by pid ${holder.pid} on ${holder.hostname} since ${holder.acquiredAt} ` +
      `(last heartbeat ${age}; ${waited})`,
    {
      subject: path,
      fix:
        `Wait for the gxit-cert run with pid ${holder.pid} to finish, or allow a longer lock wait; ` +
        `if pid ${holder.pid} on ${holder.hostname} is not gxit-cert, delete ${path}.`,
    },
  );
}

/** Sleep, cut short (rejecting with INTERRUPTED) when the signal aborts. */
const sleep = (ms: number, signal: AbortSignal | undefined): Promise<void> => timerSleep(ms, signal, interrupted);

function interrupted(): GxitError {
  return new GxitError('INTERRUPTED', 'interrupted while waiting for the state lock', {
    fix: 'Nothing was ordered; run again when the other run has finished.',
  });
}

/**
 * Acquire the lock of `stateDir` (created with mode 0700 if missing), waiting up to waitMs.
 * Throws LOCKED naming the holder, or STORE_IO when the lock file cannot be written.
 */
export async function acquireLock(stateDir: string, options: LockOptions): Promise<StateLock> {
  const path = lockPath(stateDir);
  const now = options.now ?? Date.now;
  const pollMs = options.pollMs ?? 100;
  const heartbeatMs = options.heartbeatMs ?? Math.max(10, Math.floor(options.staleMs / 3));
  await ensureDir(nodeFs, stateDir);

  const started = now();
  const identity = {
    pid: process.pid,
    hostname: hostname(),
    token: randomBytes(8).toString('hex'),
    acquiredAt: new Date(started).toISOString(),
  };
  const contentAt = (ms: number): string => formatLockFile({ ...identity, heartbeat: new Date(ms).toISOString() });
  let told = false;
  for (;;) {
    if (options.signal?.aborted) throw interrupted();
    const content = contentAt(now());
    const created = await installLockFile(path, content, 'create');
    if (created !== undefined) return hold(path, created, contentAt, now, heartbeatMs, options.staleMs);
    const observed = await observe(path);
    if (observed === undefined) continue; // released just now: try again at once
    if (lockStaleness(factsOf(observed, now(), options.staleMs)) !== undefined) {
      const taken = await takeOver(path, contentAt(now()), now, options.staleMs);
      if (taken !== undefined) return hold(path, taken, contentAt, now, heartbeatMs, options.staleMs);
    }
    const remaining = started + options.waitMs - now();
    if (remaining <= 0) throw lockedError(stateDir, path, observed, now(), now() - started);
    if (!told) {
      told = true;
      options.onWait?.({ path, holder: observed.holder });
    }
    await sleep(Math.min(pollMs, remaining), options.signal);
  }
}

function hold(
  path: string,
  handle: FileHandle,
  contentAt: (ms: number) => string,
  now: () => number,
  heartbeatMs: number,
  staleMs: number,
): StateLock {
  let released = false;
  let lost = false;
  let lastBeat = now();
  const lostController = new AbortController();
  let beating: Promise<void> = Promise.resolve();

  const loseIt = (why: string): void => {
    lost = true;
    clearInterval(timer);
    lostController.abort(
      new GxitError('LOCK_LOST', `the state lock ${path} was lost: ${why}`, {
        subject: path,
        fix: 'Another run took the lock over; check that only one gxit-cert runs per state_dir and run again.',
      }),
    );
  };

  /** Is the file at `path` still the inode we hold? */
  const stillOurs = async (): Promise<boolean> => {
    const [mine, there] = await Promise.all([handle.stat(), fsp.stat(path).catch(() => undefined)]);
    return there !== undefined && there.ino === mine.ino && there.dev === mine.dev;
  };

  const beat = async (): Promise<void> => {
    if (released || lost) return;
    try {
      if (!(await stillOurs())) {
        loseIt('another run replaced or removed the lock file');
        return;
      }
      // Same length every time, so an in-place write replaces the whole record.
      await handle.write(contentAt(now()), 0, 'utf8');
      lastBeat = now();
    } catch {
      // A missed beat is retried at the next tick; staleMs allows for a few. Past it, a waiter may take over.
      if (now() - lastBeat > staleMs) loseIt(`the heartbeat could not be written for ${Math.round(staleMs / 1000)} s`);
    }
  };

  const timer = setInterval(() => {
    beating = beating.then(beat);
  }, heartbeatMs);
  timer.unref();

  return {
    path,
    lost: lostController.signal,
    async release(): Promise<void> {
      if (released) return;
      released = true;
      clearInterval(timer);
      await beating;
      try {
        if (!lost && (await stillOurs())) await fsp.unlink(path);
      } catch (error) {
        if (errnoOf(error) !== 'ENOENT') throw storeIoError('remove the lock', path, error);
      } finally {
        await handle.close().catch(() => undefined);
      }
    },
  };
}
