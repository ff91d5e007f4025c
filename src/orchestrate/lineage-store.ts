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
  /** The live private key (PEM), for reuse_key; undefined when there is none. */
  liveKey(name: string): Promise<string | undefined>;
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

/** Whether the live version is the one that was revoked. */
export function revokedLive(lineage: { state: { revoked?: { version: number } }; liveVersion: number | undefined }): boolean {
  return lineage.state.revoked !== undefined && lineage.state.revoked.version === lineage.liveVersion;
}

export function lineageStore(store: Store, options: LineageStoreOptions = {}): LineageStore {
  const now = options.now ?? (() => new Date());
  const write = options.fence === undefined ? {} : { fence: options.fence };
  return {
    async loadAccount(directoryUrl, eabKid) {
      const account = await store.readAccount(directoryUrl, eabKid);
      return account ? { keyPem: account.keyPem, url: account.meta?.url } : undefined;
    },
    saveAccountKey: (directoryUrl, keyPem, eabKid) => store.writeAccountKey(directoryUrl, keyPem, { ...write, ...(eabKid === undefined ? {} : { eabKid }) }),
    async saveAccountUrl(directoryUrl, url, email, eabKid) {
      await store.writeAccountUrl(directoryUrl, { url, ...(email === undefined ? {} : { email }), ...(eabKid === undefined ? {} : { eabKid }) }, write);
    },
    async lineageFacts(name) {
      const lineage = await store.readLineage(name);
      if (!lineage) return undefined;
      return { domains: lineage.state.domains, keyType: lineage.state.keyType, server: lineage.state.server, revoked: revokedLive(lineage), ...(lineage.state.profile === undefined ? {} : { profile: lineage.state.profile }) };
    },
    liveKey: async (name) => (await store.readLive(name))?.privkeyPem,
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
          // The renewal information and a revocation were about the certificate this version replaces.
          ari: undefined,
          revoked: undefined,
          profile: certificate.profile,
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
    loadAccount: (url, eabKid) => base.loadAccount(url, eabKid),
    saveAccountKey: (url, pem, eabKid) => base.saveAccountKey(url, pem, eabKid),
    saveAccountUrl: (url, accountUrl, email, eabKid) => base.saveAccountUrl(url, accountUrl, email, eabKid),
    lineageFacts: (name) => base.lineageFacts(name),
    liveKey: (name) => base.liveKey(name),
    async commitCertificate(certificate) {
      const lineage = await store.readLineage(certificate.name);
      return { version: lineage?.liveVersion ?? 0, liveDir: store.livePaths(certificate.name).dir };
    },
    recordFailure: async () => undefined,
  };
}
