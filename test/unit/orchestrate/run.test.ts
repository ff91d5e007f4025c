import { describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/types.js';
import { runOrders, type RunDeps } from '../../../src/orchestrate/run.js';
import type { RunOptions } from '../../../src/orchestrate/decide.js';
import { makeCertificate } from '../renew/certs.js';
import {
  CERT,
  fakeDns,
  fakeProvider,
  fakeSession,
  memoryLocker,
  memoryStore,
  quietReporter,
  testConfig,
  untilAborted,
  type Events,
  type FakeDnsOptions,
  type FakeSessionOptions,
} from './fakes.js';

const ISSUE: RunOptions = { mode: 'issue', force: false, dryRun: false, runDeployHooks: false };

function setup(opts: { config?: Partial<Config>; session?: FakeSessionOptions; dns?: FakeDnsOptions } = {}) {
  const events: Events = { log: [] };
  const store = memoryStore(events);
  const locker = memoryLocker();
  const session = fakeSession(events, opts.session);
  const provider = fakeProvider(events);
  const dns = fakeDns(events, opts.dns);
  const controller = new AbortController();
  let placed = 0;
  const deps: RunDeps = {
    config: testConfig(opts.config),
    store,
    locker,
    reporter: quietReporter(),
    ordering: async () => {
      placed++;
      return { session, provider, dns };
    },
    signal: controller.signal,
    parentEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  };
  return { events, store, locker, session, provider, deps, controller, orderingLoads: () => placed };
}

describe('runOrders', () => {
  it('issues a new lineage under the lock and releases it', async () => {
    const t = setup();
    const report = await runOrders(t.deps, ISSUE);
    expect(report.ok).toBe(true);
    expect(report.lineages[0]).toMatchObject({ name: CERT.name, status: 'issued' });
    expect(t.locker.held).toBe(1);
    expect(t.locker.released).toBe(1);
    expect(t.provider.zone.size).toBe(0);
  });

  it('a failing pre hook refuses every order: nothing is placed, nothing published', async () => {
    const t = setup({ config: { hooks: { pre: [{ shell: 'exit 3' }], deploy: [], post: [], onFailure: [], timeoutMs: 10_000 } } });
    const report = await runOrders(t.deps, ISSUE);
    expect(report.ok).toBe(false);
    expect(report.lineages[0]).toMatchObject({ status: 'failed', result: { error: { code: 'HOOK_FAILED' } } });
    expect(report.lineages[0]?.result?.error?.message).toMatch(/no order was placed/);
    expect(t.events.log).toEqual([]);
    expect(t.store.lineages.size).toBe(0);
  });

  it('a dry run orders every certificate and stores nothing', async () => {
    const t = setup();
    const { certPem, keyPem } = makeCertificate({ sans: CERT.domains });
    await t.store.commit(CERT.name, { certPem, chainPem: certPem, fullchainPem: certPem, privkeyPem: keyPem }, { domains: CERT.domains, keyType: CERT.keyType, server: 'https://ca.test/dir' });
    const writes = t.store.writes;
    const report = await runOrders(t.deps, { mode: 'renew', force: false, dryRun: true, runDeployHooks: false });
    expect(report.lineages[0]).toMatchObject({ status: 'dry-run' });
    expect(t.events.log).toContain('finalize');
    expect(t.store.writes).toBe(writes);
    expect(t.store.lineages.get(CERT.name)?.state.version).toBe(1);
  });

  it('losing the lock during propagation aborts the order: cleanup runs, no store write after the loss', async () => {
    let lose: (() => void) | undefined;
    const t = setup({
      dns: {
        propagation: (_records, signal) => {
          lose?.();
          return untilAborted(signal);
        },
      },
    });
    let writesAtLoss = -1;
    lose = () => {
      writesAtLoss = t.store.writes;
      t.locker.lose();
    };
    const report = await runOrders(t.deps, ISSUE);
    expect(report.lineages[0]).toMatchObject({ status: 'failed', result: { error: { code: 'LOCK_LOST' } } });
    expect(t.provider.zone.size).toBe(0);
    expect(t.events.log).not.toContain('validate');
    expect(t.store.writes).toBe(writesAtLoss);
    expect(t.store.lineages.size).toBe(0);
  });

  it('an interrupt during the first of two lineages leaves the second unordered and reported as interrupted', async () => {
    const second = { name: 'other.test', domains: ['other.test'], keyType: 'ecdsa-p256' as const };
    const t = setup({
      config: { certificates: [CERT, second] },
      dns: {
        propagation: (_records, signal) => {
          t.controller.abort();
          return untilAborted(signal);
        },
      },
    });
    const report = await runOrders(t.deps, ISSUE);
    expect(report.lineages.map((l) => [l.name, l.status, l.result?.error?.code])).toEqual([
      [CERT.name, 'failed', 'INTERRUPTED'],
      ['other.test', 'failed', 'INTERRUPTED'],
    ]);
    expect(t.events.log.filter((e) => e === 'order')).toHaveLength(1);
    expect(t.provider.zone.size).toBe(0);
    expect(t.locker.released).toBe(1);
  });

  it('a commit finding a version stored by another run fails with STORE_CONFLICT and overwrites nothing', async () => {
    let intrude: (() => Promise<void>) | undefined;
    const t = setup({ session: { onStep: async (step) => void (step === 'finalize' && (await intrude?.())) } });
    intrude = async () => {
      const { certPem, keyPem } = makeCertificate({ sans: CERT.domains });
      await t.store.commit(CERT.name, { certPem, chainPem: certPem, fullchainPem: certPem, privkeyPem: keyPem }, { domains: CERT.domains, keyType: CERT.keyType, server: 'x' });
    };
    const report = await runOrders(t.deps, ISSUE);
    expect(report.lineages[0]).toMatchObject({ status: 'failed', result: { error: { code: 'STORE_CONFLICT' } } });
    expect(t.store.lineages.get(CERT.name)?.state.version).toBe(1);
    expect(t.store.lineages.get(CERT.name)?.state.server).toBe('x');
  });
});
