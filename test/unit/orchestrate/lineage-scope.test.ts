/**
 * A run locks the lineages it works on (on a backend that locks lineages apart, the cluster) and
 * reports the others as decideQuickly found them; on the file store it takes the global scope.
 */
import { describe, expect, it } from 'vitest';
import { decideQuickly, type RunOptions } from '../../../src/orchestrate/decide.js';
import { runOrders, type RunDeps } from '../../../src/orchestrate/run.js';
import { GLOBAL_SCOPE, type AcquireOptions, type Lock, type Locker } from '../../../src/store/contract.js';
import { makeCertificate } from '../renew/certs.js';
import { CERT, fakeDns, fakeProvider, fakeSession, memoryStore, quietReporter, testConfig, type Events } from './fakes.js';

const OTHER = { name: 'other.test', domains: ['other.test'], keyType: 'ecdsa-p256' as const };
const RENEW: RunOptions = { mode: 'renew', force: false, dryRun: false, runDeployHooks: false };
const DAY = 86_400_000;

/** A locker that records what was locked: lineage sets when `lineages` is on, else scopes. */
function recordingLocker(lineages: boolean): Locker & { taken: string[][] } {
  const taken: string[][] = [];
  const lock = (): Lock => ({ lost: new AbortController().signal, release: async () => undefined });
  const base = {
    taken,
    async acquire(scope: string, _options: AcquireOptions): Promise<Lock> {
      taken.push([`scope:${scope}`]);
      return lock();
    },
  };
  if (!lineages) return base;
  return {
    ...base,
    async acquireLineages(names: readonly string[], _options: AcquireOptions): Promise<Lock> {
      taken.push([...names]);
      return lock();
    },
  };
}

/** A store with `galaxy.test` current (issued now, 90 days) and `other.test` expiring in a day. */
async function storeWithTwoLineages(events: Events, nowMs: number) {
  const store = memoryStore(events);
  const commit = async (name: string, domains: string[], notBeforeMs: number, days: number) => {
    const { certPem, keyPem } = makeCertificate({ sans: domains, notBefore: new Date(notBeforeMs), notAfter: new Date(notBeforeMs + days * DAY) });
    await store.commit(name, { certPem, chainPem: certPem, fullchainPem: certPem + certPem, privkeyPem: keyPem }, { domains, keyType: 'ecdsa-p256', server: 'https://ca.test/dir' });
  };
  await commit(CERT.name, CERT.domains, nowMs - DAY, 90);
  await commit(OTHER.name, OTHER.domains, nowMs - 89 * DAY, 90);
  return store;
}

function deps(store: RunDeps['store'], locker: Locker, events: Events, nowMs: number): RunDeps {
  return {
    config: testConfig({ certificates: [CERT, OTHER] }),
    store,
    locker,
    reporter: quietReporter(),
    ordering: async () => ({ session: fakeSession(events), provider: fakeProvider(events), dns: fakeDns(events) }),
    signal: new AbortController().signal,
    parentEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    now: () => nowMs,
  };
}

describe('lineage-scoped runs', () => {
  it('decideQuickly names the lineages that need work and reports the others', async () => {
    const nowMs = Date.now();
    const events: Events = { log: [] };
    const store = await storeWithTwoLineages(events, nowMs);
    const config = testConfig({ certificates: [CERT, OTHER] });
    const quick = await decideQuickly(config, store, nowMs, RENEW);
    expect(quick.idle).toBeUndefined();
    if (quick.idle !== undefined) return;
    expect(quick.only.lineages).toEqual([OTHER.name]);
    expect(quick.only.others.map((l) => [l.name, l.status])).toEqual([[CERT.name, 'not-due']]);

    const forced = await decideQuickly(config, store, nowMs, { ...RENEW, force: true });
    expect(forced.idle === undefined && forced.only.lineages).toEqual([CERT.name, OTHER.name]);

    const idle = await decideQuickly(testConfig({ certificates: [CERT] }), store, nowMs, RENEW);
    expect(idle.idle?.lineages.map((l) => l.status)).toEqual(['not-due']);
  });

  it('locks only the due lineage, renews it, and reports both in configuration order', async () => {
    const nowMs = Date.now();
    const events: Events = { log: [] };
    const store = await storeWithTwoLineages(events, nowMs);
    const locker = recordingLocker(true);
    const run = deps(store, locker, events, nowMs);
    const quick = await decideQuickly(run.config, store, nowMs, RENEW);
    if (quick.idle !== undefined) throw new Error('expected work');
    const report = await runOrders(run, { ...RENEW, only: quick.only });
    expect(locker.taken).toEqual([[OTHER.name]]);
    expect(report.lineages.map((l) => [l.name, l.status])).toEqual([
      [CERT.name, 'not-due'],
      [OTHER.name, 'renewed'],
    ]);
    expect(store.lineages.get(CERT.name)?.state.version).toBe(1);
    expect(store.lineages.get(OTHER.name)?.state.version).toBe(2);
    expect(report.ok).toBe(true);
  });

  it('never orders a lineage outside its lock, even when it is due by then', async () => {
    const nowMs = Date.now();
    const events: Events = { log: [] };
    const store = await storeWithTwoLineages(events, nowMs);
    const locker = recordingLocker(true);
    // The quick decision is stale: it saw only galaxy.test needing work (forced elsewhere, say).
    const report = await runOrders(deps(store, locker, events, nowMs), { ...RENEW, force: true, only: { lineages: [CERT.name], others: [] } });
    expect(locker.taken).toEqual([[CERT.name]]);
    expect(report.lineages.map((l) => [l.name, l.status])).toEqual([[CERT.name, 'renewed']]);
    expect(store.lineages.get(OTHER.name)?.state.version).toBe(1);
  });

  it('takes the global scope on a backend without lineage locks (the file store)', async () => {
    const nowMs = Date.now();
    const events: Events = { log: [] };
    const store = await storeWithTwoLineages(events, nowMs);
    const locker = recordingLocker(false);
    await runOrders(deps(store, locker, events, nowMs), { ...RENEW, only: { lineages: [OTHER.name], others: [] } });
    expect(locker.taken).toEqual([[`scope:${GLOBAL_SCOPE}`]]);
  });
});
