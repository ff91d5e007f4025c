import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GxitError } from '../../../src/errors.js';
import {
  acquireLock,
  formatLockFile,
  lockStaleness,
  parseLockFile,
  type LockFacts,
  type LockHolder,
  type LockWaitInfo,
  type StateLock,
} from '../../../src/store/lock.js';

describe('lockStaleness (pure)', () => {
  const now = Date.parse('2025-06-01T12:00:00.000Z');
  const base: LockFacts = { pidAlive: true, heartbeatMs: now - 1_000, nowMs: now, staleMs: 60_000 };
  it.each<[string, Partial<LockFacts>, ReturnType<typeof lockStaleness>]>([
    ['alive pid, fresh heartbeat', {}, undefined],
    ['dead pid, fresh heartbeat', { pidAlive: false }, 'pid-dead'],
    ['dead pid, old heartbeat', { pidAlive: false, heartbeatMs: now - 3_600_000 }, 'pid-dead'],
    ['alive pid, heartbeat older than staleMs (hung process)', { heartbeatMs: now - 60_001 }, 'heartbeat-expired'],
    ['alive pid, heartbeat exactly staleMs old', { heartbeatMs: now - 60_000 }, undefined],
    ['other host (pid unknown), fresh heartbeat', { pidAlive: undefined }, undefined],
    ['other host (pid unknown), old heartbeat', { pidAlive: undefined, heartbeatMs: now - 120_000 }, 'heartbeat-expired'],
    ['heartbeat in the future (clock skew)', { pidAlive: undefined, heartbeatMs: now + 3_600_000 }, undefined],
    ['unparsable heartbeat', { pidAlive: undefined, heartbeatMs: Number.NaN }, 'heartbeat-expired'],
  ])('%s -> %s', (_label, facts, expected) => {
    expect(lockStaleness({ ...base, ...facts })).toBe(expected);
  });
});

describe('lock file format (pure)', () => {
  const holder: LockHolder = {
    pid: 4242,
    hostname: 'galaxy-1',
    token: '0123456789abcdef',
    acquiredAt: '2025-06-01T12:00:00.000Z',
    heartbeat: '2025-06-01T12:00:00.000Z',
  };

  it('round-trips', () => {
    expect(parseLockFile(formatLockFile(holder))).toEqual(holder);
  });

  it('has the same length for every heartbeat, so the holder can rewrite it in place', () => {
    const later = formatLockFile({ ...holder, heartbeat: '2031-12-31T23:59:59.999Z' });
    expect(later.length).toBe(formatLockFile(holder).length);
  });

  it.each<[string, string]>([
    ['empty (being written)', ''],
    ['truncated', formatLockFile(holder).slice(0, 20)],
    ['pid 0 (would signal our process group)', JSON.stringify({ ...holder, pid: 0 })],
    ['negative pid', JSON.stringify({ ...holder, pid: -1 })],
    ['pid as string', JSON.stringify({ ...holder, pid: '4242' })],
    ['no hostname', JSON.stringify({ ...holder, hostname: undefined })],
    ['no heartbeat', JSON.stringify({ ...holder, heartbeat: undefined })],
    ['null', 'null'],
  ])('rejects %s', (_label, text) => {
    expect(parseLockFile(text)).toBeUndefined();
  });
});

describe('acquireLock on a real state directory', () => {
  let root: string;
  let stateDir: string;
  let lockFile: string;
  const held: StateLock[] = [];
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'gxit-lock-'));
    stateDir = join(root, 'state');
    lockFile = join(stateDir, '.lock');
  });
  afterEach(async () => {
    for (const lock of held.splice(0)) await lock.release();
    for (const child of children.splice(0)) if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid);
    await rm(root, { recursive: true, force: true });
  });

  const acquire = async (options: Parameters<typeof acquireLock>[1]): Promise<StateLock> => {
    const lock = await acquireLock(stateDir, options);
    held.push(lock);
    return lock;
  };
  const holderOnDisk = async (): Promise<LockHolder | undefined> => parseLockFile(await readFile(lockFile, 'utf8'));
  const lockedError = async (promise: Promise<unknown>): Promise<GxitError> => {
    try {
      await promise;
    } catch (error) {
      expect(error).toBeInstanceOf(GxitError);
      return error as GxitError;
    }
    throw new Error('expected LOCKED');
  };
  const writeForeignLock = async (holder: Partial<LockHolder>): Promise<void> => {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    const now = new Date().toISOString();
    await writeFile(
      lockFile,
      formatLockFile({ pid: 1, hostname: hostname(), token: 'f'.repeat(16), acquiredAt: now, heartbeat: now, ...holder }),
    );
  };
  const deadPid = async (): Promise<number> => {
    const child = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => child.on('exit', resolve));
    if (child.pid === undefined) throw new Error('no pid');
    return child.pid;
  };
  const livePid = (): number => {
    const child = spawn('sleep', ['5']);
    children.push(child);
    if (child.pid === undefined) throw new Error('no pid');
    return child.pid;
  };

  it('creates the state directory (0700) and a lock file naming us; release removes it', async () => {
    const lock = await acquire({ waitMs: 0, staleMs: 60_000 });
    expect(lock.path).toBe(lockFile);
    expect((await stat(stateDir)).mode & 0o777).toBe(0o700);
    const holder = await holderOnDisk();
    expect(holder?.pid).toBe(process.pid);
    expect(holder?.hostname).toBe(hostname());
    await lock.release();
    await expect(stat(lockFile)).rejects.toMatchObject({ code: 'ENOENT' });
    await lock.release(); // idempotent
    const again = await acquire({ waitMs: 0, staleMs: 60_000 });
    expect((await holderOnDisk())?.pid).toBe(process.pid);
    await again.release();
  });

  it('a second acquire in the same process waits, then fails with LOCKED naming pid, path and fix', async () => {
    await acquire({ waitMs: 0, staleMs: 60_000 });
    const waits: LockWaitInfo[] = [];
    const started = Date.now();
    const error = await lockedError(
      acquireLock(stateDir, { waitMs: 250, staleMs: 60_000, pollMs: 20, onWait: (info) => waits.push(info) }),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    expect(error.code).toBe('LOCKED');
    expect(error.message).toContain(`pid ${process.pid}`);
    expect(error.message).toContain(stateDir);
    expect(error.subject).toBe(lockFile);
    expect(error.fix).toContain(lockFile);
    expect(waits).toHaveLength(1);
    expect(waits[0]?.holder?.pid).toBe(process.pid);
  });

  it('a waiting acquire gets the lock as soon as the holder releases it', async () => {
    const first = await acquireLock(stateDir, { waitMs: 0, staleMs: 60_000 });
    let releasedAt = 0;
    setTimeout(() => {
      releasedAt = Date.now();
      void first.release();
    }, 150);
    const second = await acquire({ waitMs: 5_000, staleMs: 60_000, pollMs: 20 });
    expect(releasedAt).toBeGreaterThan(0);
    const holder = await holderOnDisk();
    expect(holder?.pid).toBe(process.pid);
    await second.release();
  });

  it('keeps the heartbeat fresh while held, so a waiter does not take it over', async () => {
    // The lock's clock is the test's: "two staleMs later" is a jump of the clock, not a real sleep,
    // so a loaded machine cannot make the heartbeat look late.
    let clock = Date.parse('2026-12-03T10:00:00Z');
    const now = (): number => clock;
    await acquire({ waitMs: 0, staleMs: 300, heartbeatMs: 20, now });
    const before = await holderOnDisk();
    clock += 600; // two staleMs
    // Wait (boundedly) for the next heartbeat to be written with the new time.
    for (let i = 0; i < 500 && Date.parse((await holderOnDisk())?.heartbeat ?? '') < clock; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const after = await holderOnDisk();
    expect(after?.token).toBe(before?.token);
    expect(Date.parse(after?.heartbeat ?? '')).toBeGreaterThan(Date.parse(before?.heartbeat ?? ''));
    expect(now() - Date.parse(after?.heartbeat ?? '')).toBeLessThan(300);
    const error = await lockedError(acquireLock(stateDir, { waitMs: 0, staleMs: 300, pollMs: 20, now }));
    expect(error.code).toBe('LOCKED');
  });

  it('takes over the lock of a dead process on the same host at once', async () => {
    const pid = await deadPid();
    await writeForeignLock({ pid });
    const lock = await acquire({ waitMs: 0, staleMs: 60_000 });
    const holder = await holderOnDisk();
    expect(holder?.pid).toBe(process.pid);
    await lock.release();
    await expect(stat(lockFile)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('waits for a live foreign process and names it in LOCKED', async () => {
    const pid = livePid();
    await writeForeignLock({ pid });
    const waits: LockWaitInfo[] = [];
    const error = await lockedError(
      acquireLock(stateDir, { waitMs: 300, staleMs: 60_000, pollMs: 20, onWait: (info) => waits.push(info) }),
    );
    expect(error.code).toBe('LOCKED');
    expect(error.message).toContain(`pid ${pid}`);
    expect(error.fix).toContain(`pid ${pid}`);
    expect(error.fix).toContain(lockFile);
    expect(waits.map((w) => w.holder?.pid)).toEqual([pid]);
    expect((await holderOnDisk())?.pid).toBe(pid); // untouched
  });

  it('takes over a live process whose heartbeat is older than staleMs (hung)', async () => {
    const pid = livePid();
    await writeForeignLock({ pid, heartbeat: new Date(Date.now() - 120_000).toISOString() });
    await acquire({ waitMs: 0, staleMs: 60_000 });
    expect((await holderOnDisk())?.pid).toBe(process.pid);
  });

  it('judges a lock from another host by its heartbeat only', async () => {
    await writeForeignLock({ hostname: 'elsewhere.example', pid: 999_999 });
    const error = await lockedError(acquireLock(stateDir, { waitMs: 100, staleMs: 60_000, pollMs: 20 }));
    expect(error.message).toContain('on elsewhere.example');

    await writeForeignLock({ hostname: 'elsewhere.example', pid: 999_999, heartbeat: new Date(Date.now() - 61_000).toISOString() });
    await acquire({ waitMs: 0, staleMs: 60_000 });
    expect((await holderOnDisk())?.hostname).toBe(hostname());
  });

  it('waits on an unreadable lock file until its mtime is older than staleMs', async () => {
    await writeForeignLock({});
    await writeFile(lockFile, 'garbage');
    const error = await lockedError(acquireLock(stateDir, { waitMs: 100, staleMs: 60_000, pollMs: 20 }));
    expect(error.message).toContain('unreadable lock file');
    const old = new Date(Date.now() - 120_000);
    await utimes(lockFile, old, old);
    await acquire({ waitMs: 0, staleMs: 60_000 });
    expect((await holderOnDisk())?.pid).toBe(process.pid);
  });

  it('of several waiters on a stale lock exactly one takes it over', async () => {
    await writeForeignLock({ pid: await deadPid() });
    const attempts = Array.from({ length: 5 }, () => acquireLock(stateDir, { waitMs: 300, staleMs: 60_000, pollMs: 10 }));
    const results = await Promise.allSettled(attempts);
    const won = results.filter((r): r is PromiseFulfilledResult<StateLock> => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(4);
    for (const r of lost) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'LOCKED' });
    held.push(won[0]!.value);
    expect((await holderOnDisk())?.pid).toBe(process.pid);
  });

  it('clears a takeover guard left by a dead process', async () => {
    const pid = await deadPid();
    await writeForeignLock({ pid });
    await writeFile(`${lockFile}.takeover`, JSON.stringify({ pid, hostname: hostname() }));
    await acquire({ waitMs: 1_000, staleMs: 60_000, pollMs: 10 });
    expect((await holderOnDisk())?.pid).toBe(process.pid);
    await expect(stat(`${lockFile}.takeover`)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('an acquire waiting for a held lock stops with INTERRUPTED when its signal aborts', async () => {
    await acquire({ waitMs: 0, staleMs: 60_000 });
    const controller = new AbortController();
    const waiting = acquireLock(stateDir, { waitMs: 60_000, staleMs: 60_000, pollMs: 20, signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'INTERRUPTED' });
  });

  it('release never removes a lock that was taken over by someone else', async () => {
    const lock = await acquireLock(stateDir, { waitMs: 0, staleMs: 60_000, heartbeatMs: 20 });
    const foreign = join(stateDir, 'foreign');
    const now = new Date().toISOString();
    await writeFile(foreign, formatLockFile({ pid: 1, hostname: 'other', token: 'x'.repeat(16), acquiredAt: now, heartbeat: now }));
    await rename(foreign, lockFile);
    // The next heartbeat notices the loss, does not write, and aborts `lost`.
    await new Promise((resolve) => (lock.lost.aborted ? resolve(undefined) : lock.lost.addEventListener('abort', resolve, { once: true })));
    expect(lock.lost.reason).toMatchObject({ code: 'LOCK_LOST' });
    await lock.release();
    const holder = await holderOnDisk();
    expect(holder?.hostname).toBe('other');
    expect(holder?.heartbeat).toBe(now);
  });
});
