// withStoreLock: the store-under-lock plumbing of account, revoke and delete, against the file store.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { withStoreLock } from '../../../src/cli/command-context.js';
import { GxitError } from '../../../src/errors.js';
import { GLOBAL_SCOPE } from '../../../src/store/contract.js';
import { fileLocker } from '../../../src/store/file-locker.js';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function stateDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gxit-locked-'));
  dirs.push(dir);
  return dir;
}

/** Whether the lock is free: a second acquire that does not wait (LOCKED at once when it is held). */
async function lockIsFree(dir: string): Promise<boolean> {
  try {
    const lock = await fileLocker(dir).acquire(GLOBAL_SCOPE, { waitMs: 0 });
    await lock.release();
    return true;
  } catch (error) {
    if (error instanceof GxitError && error.code === 'LOCKED') return false;
    throw error;
  }
}

describe('withStoreLock', () => {
  it('runs the work under the lock with SIGINT/SIGTERM listened for, and gives both up afterwards', async () => {
    const dir = await stateDir();
    const before = process.listenerCount('SIGINT');
    const seen = await withStoreLock({ stateDir: dir }, GLOBAL_SCOPE, async ({ store, lock, signal }) => ({
      free: await lockIsFree(dir),
      lost: lock.lost.aborted,
      aborted: signal.aborted,
      listeners: process.listenerCount('SIGINT') - before,
      lineages: await store.listLineages(),
    }));
    expect(seen).toEqual({ free: false, lost: false, aborted: false, listeners: 1, lineages: [] });
    expect(process.listenerCount('SIGINT')).toBe(before);
    expect(await lockIsFree(dir)).toBe(true);
  });

  it('with interrupts: false leaves SIGINT to Node and hands over a signal that never aborts', async () => {
    const dir = await stateDir();
    const before = process.listenerCount('SIGINT');
    const listeners = await withStoreLock({ stateDir: dir }, GLOBAL_SCOPE, async ({ signal }) => (signal.aborted ? -1 : process.listenerCount('SIGINT') - before), { interrupts: false });
    expect(listeners).toBe(0);
  });

  it('releases the lock and removes the listeners when the work throws, and passes the error on', async () => {
    const dir = await stateDir();
    const before = process.listenerCount('SIGTERM');
    const failure = new GxitError('USAGE', 'no lineage "x"', { subject: 'x' });
    await expect(withStoreLock({ stateDir: dir }, GLOBAL_SCOPE, async () => { throw failure; })).rejects.toBe(failure);
    expect(process.listenerCount('SIGTERM')).toBe(before);
    expect(await lockIsFree(dir)).toBe(true);
  });
});
