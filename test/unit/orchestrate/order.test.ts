import { describe, expect, it } from 'vitest';
import { GxitError } from '../../../src/errors.js';
import { lineageStore } from '../../../src/orchestrate/lineage-store.js';
import { orderLineage, type OrderDeps } from '../../../src/orchestrate/order.js';
import { CERT, fakeDns, fakeProvider, fakeSession, memoryStore, quietReporter, untilAborted, type Events, type FakeDnsOptions, type FakeProviderOptions, type FakeSessionOptions } from './fakes.js';

interface Setup {
  session?: FakeSessionOptions;
  provider?: FakeProviderOptions;
  dns?: FakeDnsOptions;
  failCommit?: boolean;
  controller?: AbortController;
}

function setup(opts: Setup = {}) {
  const events: Events = { log: [] };
  const store = memoryStore(events);
  if (opts.failCommit) {
    store.commit = async () => {
      events.log.push('commit');
      throw new GxitError('STORE_IO', 'disk full');
    };
  }
  const session = fakeSession(events, opts.session);
  const provider = fakeProvider(events, opts.provider);
  const warnings: string[] = [];
  const controller = opts.controller ?? new AbortController();
  const deps: OrderDeps = {
    session,
    provider,
    dns: fakeDns(events, opts.dns),
    store: lineageStore(store),
    reporter: quietReporter(warnings),
    signal: controller.signal,
    server: 'https://ca.test/dir',
    now: Date.now,
  };
  return { events, store, session, provider, deps, controller, warnings };
}

describe('orderLineage', () => {
  it('orders, publishes, waits, validates, finalizes, commits, and removes its records', async () => {
    const t = setup();
    const result = await orderLineage(CERT, 'new', t.deps);
    expect(result.status).toBe('issued');
    expect(result.certificate?.version).toBe(1);
    expect(result.dns?.map((d) => d.fqdn)).toEqual(['_acme-challenge.galaxy.test', '_acme-challenge.galaxy.test']);
    expect(t.events.log).toEqual(['order', 'present', 'present done', 'propagation', 'validate', 'finalize', 'commit galaxy.test v1', 'cleanup']);
    expect(t.provider.zone.size).toBe(0);
    expect(t.store.lineages.get('galaxy.test')?.state.domains).toEqual(CERT.domains);
  });

  it('hands the provider each record with the domain it validates', async () => {
    const t = setup();
    const seen: { fqdn: string; value: string; domain?: string }[] = [];
    const present = t.provider.present.bind(t.provider);
    t.provider.present = async (records, signal) => {
      seen.push(...records);
      return present(records, signal);
    };
    await orderLineage(CERT, 'new', t.deps);
    expect(seen.map((r) => r.domain).sort()).toEqual([...CERT.domains].sort());
  });

  it('a provider that refuses the names (checkOrder) fails the lineage before anything is ordered', async () => {
    const t = setup();
    const asked: string[][] = [];
    t.provider.checkOrder = (certificate, domains) => {
      asked.push([certificate, ...domains]);
      throw new GxitError('CONFIG_INVALID', `${certificate}: too many values for one subdomain`);
    };
    const result = await orderLineage(CERT, 'new', t.deps);
    expect(asked).toEqual([[CERT.name, ...CERT.domains]]);
    expect(result).toMatchObject({ status: 'failed', error: { code: 'CONFIG_INVALID', message: `${CERT.name}: too many values for one subdomain` } });
    expect(t.events.log).toEqual([]);
    expect(t.session.abandoned).toBe(0);
  });

  it('a refused order leaves nothing to clean up and commits nothing', async () => {
    const t = setup({ session: { failAt: 'order' } });
    const result = await orderLineage(CERT, 'new', t.deps);
    expect(result).toMatchObject({ status: 'failed', error: { code: 'ACME_ORDER' } });
    expect(t.events.log).toEqual(['order']);
    expect(t.store.lineages.size).toBe(0);
  });

  it.each([
    ['present', { provider: { failPresent: true } }, 'DNS_PROVIDER'],
    ['propagation', { dns: { propagation: async () => Promise.reject(new GxitError('DNS_PROPAGATION_TIMEOUT', 'not everywhere')) } }, 'DNS_PROPAGATION_TIMEOUT'],
    ['validation', { session: { failAt: 'validate' as const } }, 'ACME_CHALLENGE'],
    ['finalize', { session: { failAt: 'finalize' as const } }, 'ACME_FINALIZE'],
    ['commit', { failCommit: true }, 'STORE_IO'],
  ] as const)('after a failure at %s: the records are removed, pending authorizations abandoned, nothing committed', async (_step, opts, code) => {
    const t = setup(opts);
    const result = await orderLineage(CERT, 'new', t.deps);
    expect(result).toMatchObject({ status: 'failed', error: { code } });
    expect(t.events.log).toContain('cleanup');
    expect(t.events.log.at(-1)).toBe('cleanup');
    expect(t.provider.zone.size).toBe(0);
    expect(t.session.abandoned).toBe(1);
    expect(t.store.lineages.size).toBe(0);
  });

  it('an abort while propagation waits stops the wait, cleans up under a fresh signal, and commits nothing', async () => {
    const controller = new AbortController();
    let waiting: (() => void) | undefined;
    const entered = new Promise<void>((resolve) => (waiting = resolve));
    const t = setup({
      controller,
      dns: {
        propagation: (_records, signal) => {
          waiting?.();
          return untilAborted(signal);
        },
      },
    });
    const running = orderLineage(CERT, 'new', t.deps);
    await entered;
    expect(t.provider.zone.size).toBe(2);
    controller.abort();
    const result = await running;
    expect(result).toMatchObject({ status: 'failed', error: { code: 'INTERRUPTED' } });
    expect(t.provider.zone.size).toBe(0);
    expect(t.provider.cleanups).toHaveLength(1);
    expect(t.provider.cleanups[0]?.aborted).toBe(false);
    expect(t.events.log).not.toContain('validate');
    expect(t.store.lineages.size).toBe(0);
  });

  it('the signal reaches present, propagation, validation and finalize', async () => {
    const seen: AbortSignal[] = [];
    const t = setup({
      provider: { presentDelay: async (signal) => void (signal && seen.push(signal)) },
      dns: { propagation: async (_records, signal) => void seen.push(signal) },
      session: { onStep: (_step, signal) => void seen.push(signal) },
    });
    await orderLineage(CERT, 'new', t.deps);
    expect(seen).toHaveLength(5); // present, propagation, order, validate, finalize
    for (const signal of seen) expect(signal).toBe(t.controller.signal);
  });

  it('after an abort during a present still in flight, cleanup waits for that present before removing', async () => {
    const controller = new AbortController();
    let finishPresent: (() => void) | undefined;
    let presentStarted: (() => void) | undefined;
    const started = new Promise<void>((resolve) => (presentStarted = resolve));
    const t = setup({
      controller,
      // A provider that does not honour the signal: its request lands after the abort.
      provider: {
        presentDelay: () =>
          new Promise<void>((resolve) => {
            finishPresent = resolve;
            presentStarted?.();
          }),
      },
    });
    const running = orderLineage(CERT, 'new', t.deps);
    await started;
    controller.abort();
    // Give the flow every chance to run cleanup early.
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect(t.events.log).not.toContain('cleanup');
    finishPresent?.();
    const result = await running;
    expect(result).toMatchObject({ status: 'failed', error: { code: 'INTERRUPTED' } });
    expect(t.events.log.slice(-2)).toEqual(['present done', 'cleanup']);
    expect(t.provider.zone.size).toBe(0);
  });

  it('a failing cleanup is a warning and does not hide the result', async () => {
    const t = setup();
    t.provider.cleanup = async () => {
      throw new Error('server gone');
    };
    const result = await orderLineage(CERT, 'new', t.deps);
    expect(result.status).toBe('issued');
    expect(t.warnings.join('\n')).toMatch(/could not remove the TXT records at _acme-challenge\.galaxy\.test: server gone/);
  });
});
