import { describe, expect, test } from 'vitest';
import { SyncQueue } from '../../../src/cli/sync-queue.js';

/** A work function whose calls finish when the test says so. */
function gatedWork() {
  const calls: string[] = [];
  const versions: (number | undefined)[] = [];
  const gates: (() => void)[] = [];
  const work = (name: string, version: number | undefined): Promise<void> => {
    calls.push(name);
    versions.push(version);
    return new Promise<void>((resolve) => gates.push(resolve));
  };
  const finishNext = async (): Promise<void> => {
    gates.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { calls, versions, work, finishNext };
}

describe('SyncQueue (watch)', () => {
  test('one sync at a time; a name added ten times while one runs is synced once more', async () => {
    const { calls, work, finishNext } = gatedWork();
    const queue = new SyncQueue(work, new AbortController().signal, () => undefined);
    queue.add(['a']);
    for (let i = 0; i < 10; i++) queue.add(['a', 'b']);
    expect(calls).toEqual(['a']);
    await finishNext();
    expect(calls).toEqual(['a', 'a']);
    await finishNext();
    expect(calls).toEqual(['a', 'a', 'b']);
    await finishNext();
    await queue.idle();
    expect(calls).toEqual(['a', 'a', 'b']);
  });

  test('after stop nothing new starts, idle() resolves once the sync in progress is done, and it does not spin', async () => {
    const { calls, work, finishNext } = gatedWork();
    const stop = new AbortController();
    const queue = new SyncQueue(work, stop.signal, () => undefined);
    queue.add(['a', 'b', 'c']);
    stop.abort();
    queue.add(['d']);
    const idle = queue.idle();
    await finishNext();
    await idle;
    expect(calls).toEqual(['a']);
    // The event loop still turns (a queue that re-started itself forever would block this timer).
    await new Promise((resolve) => setTimeout(resolve, 10));
  });

  test('notifications during a sync coalesce into one entry per lineage with the newest version', async () => {
    const { calls, versions, work, finishNext } = gatedWork();
    const queue = new SyncQueue(work, new AbortController().signal, () => undefined);
    queue.notify('a', 3);
    for (let v = 1; v <= 1000; v++) queue.notify('a', v % 7 === 0 ? 9 : v % 5);
    queue.notify('b', 2);
    expect(queue.size).toBe(2);
    for (let i = 0; i < 3; i++) await finishNext();
    await queue.idle();
    expect(calls).toEqual(['a', 'a', 'b']);
    expect(versions).toEqual([3, 9, 2]);
    expect(queue.size).toBe(0);
  });

  test('a reconcile entry (no version) is not narrowed by later notifications, and a versionless notification widens one', async () => {
    const { versions, work, finishNext } = gatedWork();
    const queue = new SyncQueue(work, new AbortController().signal, () => undefined);
    queue.notify('busy', 1);
    queue.add(['a']);
    queue.notify('a', 4);
    queue.notify('b', 4);
    queue.notify('b', undefined);
    queue.notify('b', 6);
    for (let i = 0; i < 3; i++) await finishNext();
    await queue.idle();
    expect(versions).toEqual([1, undefined, undefined]);
  });

  test('a failing sync is reported and the next name still runs', async () => {
    const errors: string[] = [];
    const done: string[] = [];
    const queue = new SyncQueue(
      async (name) => {
        if (name === 'bad') throw new Error('boom');
        done.push(name);
      },
      new AbortController().signal,
      (name, error) => errors.push(`${name}: ${(error as Error).message}`),
    );
    queue.add(['bad', 'good']);
    await queue.idle();
    expect(errors).toEqual(['bad: boom']);
    expect(done).toEqual(['good']);
  });
});
