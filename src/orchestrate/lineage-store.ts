/**
 * The store as the order flow uses it: accounts for acme/, what planning needs of a lineage, the
 * commit of a new version. Every write carries the lock's `lost` signal as its fence, and a commit
 * expects the version the run decided on, so a run that lost its lock never overwrites a newer one.
 */
import type { AccountStore } from '../acme/account.js';
import type { CertificateConfig } from '../config/types.js';
import type { GxitError } from '../errors.js';
import type { LineageFacts } from '../renew/issue-plan.js';
import type { CertificateFiles, Store } from '../store/contract.js';

export interface LineageStore extends AccountStore {
  lineageFacts(name: string): Promise<LineageFacts | undefined>;
  commitCertificate(certificate: CertificateConfig, files: CertificateFiles, server: string): Promise<{ version: number; liveDir: string }>;
  recordFailure(name: string, error: GxitError): Promise<void>;
}

export interface LineageStoreOptions {
  /** The lock's `lost` signal. */
  fence?: AbortSignal;
  /** Per lineage, the version the plan was made on (0: none); a commit finding another fails. */
  expectedVersions?: ReadonlyMap<string, number>;
  now?: () => Date;
}

export function lineageStore(store: Store, options: LineageStoreOptions = {}): LineageStore {
  const now = options.now ?? (() => new Date());
  const write = options.fence === undefined ? {} : { fence: options.fence };
  return {
    async loadAccount(directoryUrl) {
      const account = await store.readAccount(directoryUrl);
      return account ? { keyPem: account.keyPem, url: account.meta?.url } : undefined;
    },
    saveAccountKey: (directoryUrl, keyPem) => store.writeAccountKey(directoryUrl, keyPem, write),
    async saveAccountUrl(directoryUrl, url, email) {
      await store.writeAccountUrl(directoryUrl, { url, ...(email === undefined ? {} : { email }) }, write);
    },
    async lineageFacts(name) {
      const lineage = await store.readLineage(name);
      if (!lineage) return undefined;
      return { domains: lineage.state.domains, keyType: lineage.state.keyType, server: lineage.state.server };
    },
    async commitCertificate(certificate, files, server) {
      const expectedVersion = options.expectedVersions?.get(certificate.name);
      const result = await store.commit(
        certificate.name,
        files,
        {
          domains: certificate.domains,
          keyType: certificate.keyType,
          server,
          lastRun: { at: now().toISOString(), ok: true },
          // The renewal information was about the certificate this version replaces.
          ari: undefined,
        },
        { ...write, ...(expectedVersion === undefined ? {} : { expectedVersion }) },
      );
      return { version: result.version, liveDir: store.livePaths(certificate.name).dir };
    },
    async recordFailure(name, error) {
      const lineage = await store.readLineage(name);
      if (!lineage) return;
      await store.writeLineageState({ ...lineage.state, lastRun: { at: now().toISOString(), ok: false, error: error.message } }, write);
    },
  };
}

/** A dry run stores nothing: no new version, no recorded failure (the account is still kept). */
export function dryRunStore(base: LineageStore, store: Store): LineageStore {
  return {
    loadAccount: (url) => base.loadAccount(url),
    saveAccountKey: (url, pem) => base.saveAccountKey(url, pem),
    saveAccountUrl: (url, accountUrl, email) => base.saveAccountUrl(url, accountUrl, email),
    lineageFacts: (name) => base.lineageFacts(name),
    async commitCertificate(certificate) {
      const lineage = await store.readLineage(certificate.name);
      return { version: lineage?.liveVersion ?? 0, liveDir: store.livePaths(certificate.name).dir };
    },
    recordFailure: async () => undefined,
  };
}
