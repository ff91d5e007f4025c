import { EventEmitter, getEventListeners } from 'node:events';
import type { Notification } from 'pg';
import { describe, expect, test } from 'vitest';
import { watchSession, type SessionDeps } from '../../../src/cli/watch-session.js';
import { notifiedLineage } from '../../../src/cli/watch-command.js';

const NAME = 'a.example.org';

/** Turns of the event loop until `done()` holds (no wall clock involved). */
async function until(what: string, done: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000; i++) {
    if (done()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`never happened: ${what}`);
}

const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
const abortListeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;
const notification = (payload: string): Notification => ({ processId: 1, channel: 'gxit_cert_versions', payload });

function listenerCounts(...emitters: EventEmitter[]): number[] {
  return emitters.flatMap((e) => ['notification', 'error', 'end'].map((event) => e.listenerCount(event)));
}

/** A session over fake connections, recording what it asks of the node and the database. */
function fakeSession(stop: AbortSignal, opts: { local?: number; gate?: boolean } = {}) {
  const listener = new EventEmitter();
  const db = new EventEmitter();
  const record = { listens: 0, localChecks: 0, syncs: 0, listening: 0 };
  const gates: (() => void)[] = [];
  let failWith: Error | undefined;
  const configured = new Set([NAME]);
  const deps: SessionDeps = {
    listener,
    listen: async () => {
      record.listens++;
    },
    watched: [db],
    configured,
    notified: (payload) => notifiedLineage(payload, configured),
    localVersion: async () => {
      record.localChecks++;
      return opts.local ?? 1;
    },
    sync: async () => {
      record.syncs++;
      if (opts.gate) await new Promise<void>((resolve) => gates.push(resolve));
      return failWith;
    },
    reconcileMs: 600_000,
    stop,
    onListening: () => {
      record.listening++;
    },
  };
  return {
    listener,
    db,
    record,
    release: () => gates.splice(0).forEach((open) => open()),
    failNextWith: (error: Error) => (failWith = error),
    run: () => watchSession(deps),
  };
}

describe('watch session', () => {
  test('a burst of 1000 notifications during a sync costs one more sync and one local check, nothing per notification', async () => {
    const stop = new AbortController();
    const f = fakeSession(stop.signal, { gate: true });
    const session = f.run();
    await until('the reconcile sync', () => f.record.syncs === 1);
    for (let i = 0; i < 1000; i++) f.listener.emit('notification', notification(JSON.stringify({ lineage: NAME, version: 2 + (i % 3) })));
    f.release();
    await until('the coalesced sync', () => f.record.syncs === 2);
    f.release();
    // The reconcile does not look at the local version; the one coalesced notification does.
    expect(f.record.localChecks).toBe(1);
    stop.abort();
    expect(await session).toBeUndefined();
    expect(f.record.syncs).toBe(2);
  });

  test('listeners, timers and signal listeners stay the same from the 10th to the 500th notification, and are gone afterwards', async () => {
    const stop = new AbortController();
    const before = { timers: timers(), abort: abortListeners(stop.signal) };
    const f = fakeSession(stop.signal);
    const session = f.run();
    await until('listening', () => f.record.listening === 1);
    const snapshot = (): unknown => ({ timers: timers(), abort: abortListeners(stop.signal), counts: listenerCounts(f.listener, f.db) });
    let atTen: unknown;
    for (let i = 1; i <= 500; i++) {
      const syncs = f.record.syncs;
      f.listener.emit('notification', notification(JSON.stringify({ lineage: NAME, version: 1 + i })));
      await until(`sync ${i}`, () => f.record.syncs === syncs + 1);
      if (i === 10) atTen = snapshot();
    }
    expect(snapshot()).toEqual(atTen);
    // While it runs: one timer (the reconcile), one listener per event on the LISTEN connection, one error listener on the store's.
    expect(atTen).toEqual({ timers: before.timers + 1, abort: before.abort + 1, counts: [1, 1, 1, 0, 1, 0] });
    stop.abort();
    await session;
    expect({ timers: timers(), counts: listenerCounts(f.listener, f.db) }).toEqual({ timers: before.timers, counts: [0, 0, 0, 0, 0, 0] });
  });

  test('200 reconnects (the connection ends each time) leave no listener on the process-wide stop signal and no timer', async () => {
    const stop = new AbortController();
    const before = { timers: timers(), abort: abortListeners(stop.signal) };
    for (let i = 0; i < 200; i++) {
      const f = fakeSession(stop.signal);
      const session = f.run();
      await until('listening', () => f.record.listening === 1);
      f.listener.emit('end');
      expect(await session).toEqual(new Error('the connection ended'));
      expect(listenerCounts(f.listener, f.db)).toEqual([0, 0, 0, 0, 0, 0]);
    }
    expect({ timers: timers(), abort: abortListeners(stop.signal) }).toEqual(before);
  });

  test('a notified version this node has needs no sync; others, and ones without a version, do', async () => {
    const stop = new AbortController();
    const f = fakeSession(stop.signal, { local: 5 });
    const session = f.run();
    await until('the reconcile sync', () => f.record.syncs === 1);
    const notify = async (payload: object): Promise<void> => {
      const checks = f.record.localChecks;
      const syncs = f.record.syncs;
      f.listener.emit('notification', notification(JSON.stringify(payload)));
      // Either it checked the local version (and maybe synced), or it synced without checking.
      await until('handled', () => f.record.localChecks > checks || f.record.syncs > syncs);
      // A full turn: whatever that check leads to has happened.
      await new Promise((resolve) => setImmediate(resolve));
    };
    await notify({ lineage: NAME, version: 5 });
    expect(f.record.syncs).toBe(1);
    await notify({ lineage: NAME, version: 6 });
    expect(f.record.syncs).toBe(2);
    await notify({ lineage: NAME });
    expect(f.record.syncs).toBe(3);
    f.listener.emit('notification', notification(JSON.stringify({ lineage: 'other.example.org', version: 9 })));
    stop.abort();
    await session;
    expect(f.record.syncs).toBe(3);
  });

  test('a failed sync, an error on either connection: the session ends with that error (the caller reconnects)', async () => {
    const stop = new AbortController();
    const failed = fakeSession(stop.signal);
    failed.failNextWith(new Error('database gone'));
    expect(await failed.run()).toEqual(new Error('database gone'));

    for (const side of ['listener', 'db'] as const) {
      const f = fakeSession(stop.signal);
      const session = f.run();
      await until('listening', () => f.record.listening === 1);
      f[side].emit('error', new Error(`${side} reset`));
      expect(await session).toEqual(new Error(`${side} reset`));
    }
    expect(abortListeners(stop.signal)).toBe(0);
  });
});
