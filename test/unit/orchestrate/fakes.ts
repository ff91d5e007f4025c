/** Fakes of the flow's collaborators: an in-memory Store + Locker, an ACME session, a DNS provider and DNS. */
import type { OrderHandle, OrderSession } from '../../../src/acme/session.js';
import type { CertificateConfig, Config } from '../../../src/config/types.js';
import type { DnsProvider, TxtRecord } from '../../../src/dns/provider.js';
import { GxitError } from '../../../src/errors.js';
import type { ChallengeDns } from '../../../src/orchestrate/order.js';
import type { Reporter } from '../../../src/orchestrate/reporter.js';
import {
  type AccountWriteOptions,
  StoreConflictError,
  lockLostError,
  type AccountMeta,
  type CertificateFiles,
  type Lock,
  type Locker,
  type LineageState,
  type Store,
  type StoredAccount,
  type WriteOptions,
} from '../../../src/store/contract.js';
import { makeCertificate } from '../renew/certs.js';

export const CERT: CertificateConfig = { name: 'galaxy.test', domains: ['galaxy.test', '*.galaxy.test'], keyType: 'ecdsa-p256' };

export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    source: '/etc/gxit-cert/config.yml',
    server: 'https://ca.test/dir',
    stateDir: '/nonexistent/state',
    keyType: 'ecdsa-p256',
    certificates: [CERT],
    dns: { provider: 'rfc2136', propagationTimeout: 120, propagationInterval: 50, propagationCheck: true, nameserverPort: 53 },
    warnings: [],
    ...overrides,
  };
}

export interface Events {
  log: string[];
}

const accountKey = (url: string, eabKid: string | undefined): string => (eabKid === undefined ? url : `${url} eab:${eabKid}`);

/** A Store in memory that keeps the contract's obligations that matter to the flow (fences, expectedVersion). */
export function memoryStore(events: Events = { log: [] }): Store & { lineages: Map<string, { state: LineageState; files: CertificateFiles }>; writes: number } {
  const accounts = new Map<string, StoredAccount>();
  const staged = new Map<string, string>();
  const lineages = new Map<string, { state: LineageState; files: CertificateFiles }>();
  const fenced = (options: WriteOptions | undefined, what: string): void => {
    if (options?.fence?.aborted) throw lockLostError(what);
  };
  const store = {
    lineages,
    writes: 0,
    async readAccount(url: string, eabKid?: string) {
      return accounts.get(accountKey(url, eabKid));
    },
    async writeAccountKey(url: string, pem: string, options?: AccountWriteOptions) {
      fenced(options, 'account key');
      const key = accountKey(url, options?.eabKid);
      if (accounts.has(key)) throw new GxitError('STORE_IO', 'key exists');
      accounts.set(key, { directoryUrl: url, keyPem: pem });
      store.writes++;
    },
    async writeAccountUrl(url: string, account: { url: string; email?: string; eabKid?: string }, options?: WriteOptions): Promise<AccountMeta> {
      fenced(options, 'account url');
      const meta = { url: account.url, directoryUrl: url, ...(account.eabKid === undefined ? {} : { eabKid: account.eabKid }), createdAt: new Date(0).toISOString() };
      const key = accountKey(url, account.eabKid);
      const stored = accounts.get(key);
      accounts.set(key, { directoryUrl: url, keyPem: stored?.keyPem ?? '', meta });
      store.writes++;
      return meta;
    },
    async stageAccountKey(url: string, pem: string, options?: AccountWriteOptions) {
      fenced(options, 'stage key');
      const key = accountKey(url, options?.eabKid);
      const found = accounts.get(key);
      if (found === undefined || staged.has(key)) throw new GxitError('STORE_IO', 'cannot stage');
      staged.set(key, pem);
    },
    async promoteAccountKey(url: string, options?: AccountWriteOptions) {
      const key = accountKey(url, options?.eabKid);
      const next = staged.get(key);
      const found = accounts.get(key);
      if (next === undefined || found === undefined) throw new GxitError('STORE_IO', 'nothing staged');
      accounts.set(key, { ...found, keyPem: next });
      staged.delete(key);
    },
    accountLocation: (url: string, eabKid?: string) => `memory:${accountKey(url, eabKid)}`,
    async readLineage(name: string) {
      const found = lineages.get(name);
      return found === undefined ? undefined : { state: found.state, liveVersion: found.state.version };
    },
    async listLineages() {
      return [...lineages.keys()].sort();
    },
    async readLive(name: string) {
      return lineages.get(name)?.files;
    },
    livePaths: (name: string) => ({
      dir: `/live/${name}`,
      cert: `/live/${name}/cert.pem`,
      chain: `/live/${name}/chain.pem`,
      fullchain: `/live/${name}/fullchain.pem`,
      privkey: `/live/${name}/privkey.pem`,
    }),
    async commit(name: string, files: CertificateFiles, update: Parameters<Store['commit']>[2], options?: Parameters<Store['commit']>[3]) {
      fenced(options, 'commit');
      const previous = lineages.get(name)?.state;
      const current = previous?.version ?? 0;
      if (options?.expectedVersion !== undefined && options.expectedVersion !== current) {
        throw new StoreConflictError(name, options.expectedVersion, current);
      }
      const state: LineageState = { ...previous, ...update, name, version: current + 1 };
      lineages.set(name, { state, files });
      store.writes++;
      events.log.push(`commit ${name} v${state.version}`);
      return { version: state.version, state };
    },
    async writeLineageState(state: LineageState, options?: WriteOptions) {
      fenced(options, 'state');
      const found = lineages.get(state.name);
      if (found !== undefined) lineages.set(state.name, { ...found, state });
      store.writes++;
    },
    async removeLineage(name: string, options?: WriteOptions) {
      fenced(options, 'remove');
      if (!lineages.delete(name)) return undefined;
      store.writes++;
      return { backup: `memory:deleted/${name}` };
    },
  };
  return store;
}

/** A Locker whose held lock the test can take away (`lose`). */
export function memoryLocker(): Locker & { lose(): void; held: number; released: number } {
  let current: AbortController | undefined;
  const locker = {
    held: 0,
    released: 0,
    lose() {
      current?.abort(new GxitError('LOCK_LOST', 'the state lock was lost: taken over'));
    },
    async acquire(): Promise<Lock> {
      const controller = new AbortController();
      current = controller;
      locker.held++;
      return {
        lost: controller.signal,
        release: async () => {
          locker.released++;
        },
      };
    },
  };
  return locker;
}

/** A promise that rejects when the signal aborts, and never settles otherwise. */
export function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (signal.aborted) reject(new GxitError('INTERRUPTED', 'aborted'));
    signal.addEventListener('abort', () => reject(new GxitError('INTERRUPTED', 'aborted')), { once: true });
  });
}

export type SessionStep = 'order' | 'validate' | 'finalize';

export interface FakeSessionOptions {
  failAt?: SessionStep;
  /** Resolve with this full chain (default: a fresh self-signed certificate for the names). */
  fullchainPem?: string;
  onStep?: (step: SessionStep, signal: AbortSignal) => Promise<void> | void;
}

export function fakeSession(events: Events, opts: FakeSessionOptions = {}): OrderSession & { abandoned: number } {
  let n = 0;
  const step = async (name: SessionStep, signal: AbortSignal): Promise<void> => {
    events.log.push(name);
    await opts.onStep?.(name, signal);
    if (opts.failAt === name) throw new GxitError(name === 'order' ? 'ACME_ORDER' : name === 'validate' ? 'ACME_CHALLENGE' : 'ACME_FINALIZE', `${name} failed`);
  };
  const session = {
    abandoned: 0,
    async place(domains: string[], { signal }: { signal: AbortSignal }): Promise<OrderHandle> {
      await step('order', signal);
      n++;
      return { challenges: domains.map((domain) => ({ domain, txtValue: `value-${n}-${domain}` })) };
    },
    validate: (_order: OrderHandle, signal: AbortSignal) => step('validate', signal),
    async keyAndCsr() {
      return { keyPem: '-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n', csr: Buffer.from('csr') };
    },
    async finalize(_order: OrderHandle, _csr: Buffer, subject: string, signal: AbortSignal) {
      await step('finalize', signal);
      if (opts.fullchainPem !== undefined) return opts.fullchainPem;
      const { certPem } = makeCertificate({ sans: subject.split(', ') });
      return `${certPem}${makeCertificate({ commonName: 'intermediate' }).certPem}`;
    },
    async abandon() {
      session.abandoned++;
      events.log.push('abandon');
    },
  };
  return session;
}

export interface FakeProviderOptions {
  failPresent?: boolean;
  /** Called inside present before it resolves (e.g. to keep it in flight). */
  presentDelay?: (signal: AbortSignal | undefined) => Promise<void>;
}

/** A provider that keeps the TXT values it was given; `zone` is what is published. */
export function fakeProvider(events: Events, opts: FakeProviderOptions = {}): DnsProvider & { zone: Set<string>; cleanups: AbortSignal[] } {
  const zone = new Set<string>();
  const key = (r: TxtRecord): string => `${r.fqdn} ${r.value}`;
  const provider = {
    name: 'fake',
    zone,
    cleanups: [] as AbortSignal[],
    async present(records: TxtRecord[], signal?: AbortSignal) {
      events.log.push('present');
      await opts.presentDelay?.(signal);
      for (const r of records) zone.add(key(r));
      events.log.push('present done');
      if (opts.failPresent) throw new GxitError('DNS_PROVIDER', 'present failed');
    },
    async cleanup(records: TxtRecord[], signal?: AbortSignal) {
      events.log.push('cleanup');
      if (signal !== undefined) provider.cleanups.push(signal);
      for (const r of records) zone.delete(key(r));
    },
  };
  return provider;
}

export interface FakeDnsOptions {
  propagation?: (records: TxtRecord[], signal: AbortSignal) => Promise<void>;
}

export function fakeDns(events: Events, opts: FakeDnsOptions = {}): ChallengeDns {
  return {
    target: async (domain) => ({ fqdn: `_acme-challenge.${domain}`, wildcardCovered: false, delegatedVia: [] }),
    waitForPropagation: async (records, signal) => {
      events.log.push('propagation');
      if (opts.propagation !== undefined) await opts.propagation(records, signal);
    },
  };
}

export function quietReporter(warnings: string[] = []): Reporter {
  return { step() {}, warn: (_name, message) => warnings.push(message) };
}
