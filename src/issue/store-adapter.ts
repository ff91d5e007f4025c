import type { CertificateConfig } from '../config/types.js';
import { GxitError } from '../errors.js';
import type { Store } from '../store/index.js';
import type { IssueStore } from './run.js';

/** The state directory as the issue flow sees it. */
export function issueStore(store: Store, now: () => Date = () => new Date()): IssueStore {
  return {
    async loadAccount(directoryUrl) {
      const account = await store.readAccount(directoryUrl);
      return account ? { keyPem: account.keyPem, url: account.meta?.url } : undefined;
    },
    saveAccountKey: (directoryUrl, keyPem) => store.writeAccountKey(directoryUrl, keyPem),
    async saveAccountUrl(directoryUrl, url, email) {
      await store.writeAccountUrl(directoryUrl, { url, email });
    },
    async lineageFacts(name) {
      const lineage = await store.readLineage(name);
      if (!lineage) return undefined;
      return { domains: lineage.state.domains, keyType: lineage.state.keyType, server: lineage.state.server };
    },
    async commitCertificate(certificate: CertificateConfig, files, server) {
      const result = await store.commit(certificate.name, files, {
        domains: certificate.domains,
        keyType: certificate.keyType,
        server,
        lastRun: { at: now().toISOString(), ok: true },
        // The renewal information was about the certificate this version replaces.
        ari: undefined,
      });
      return { version: result.version, liveDir: result.live.dir };
    },
    async recordFailure(name: string, error: GxitError) {
      const lineage = await store.readLineage(name);
      if (!lineage) return;
      await store.writeLineageState({ ...lineage.state, lastRun: { at: now().toISOString(), ok: false, error: error.message } });
    },
  };
}
