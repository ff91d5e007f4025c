/**
 * What the commands beside issue/renew (revoke, account) need of ACME: acme-client with the run's
 * HTTP settings (ca_bundle, timeouts, the problem capture), and the stored account of one CA/kid.
 * Loaded lazily by those commands only.
 */
import type * as Acme from 'acme-client';
import type { CaSettings } from '../config/ca.js';
import type { Config } from '../config/types.js';
import type { Store } from '../store/contract.js';

export async function loadAcme(config: Config): Promise<typeof Acme> {
  const [acme, { prepareAcmeHttp }, { readCaBundles }] = await Promise.all([import('acme-client'), import('../acme/http.js'), import('../orchestrate/ordering.js')]);
  const caBundlePem = await readCaBundles(config);
  await prepareAcmeHttp(acme.axios, { ...(caBundlePem === undefined ? {} : { caBundlePem }), timeoutMs: 30_000 });
  return acme;
}

/** The account of `ca` opened (registered first when none is stored). */
export async function openCaAccount(acme: typeof Acme, store: Store, ca: CaSettings, opts: { fence: AbortSignal; signal: AbortSignal }): Promise<Acme.Client> {
  const [{ openAccount }, { lineageStore }] = await Promise.all([import('../acme/account.js'), import('../orchestrate/lineage-store.js')]);
  return openAccount(acme, lineageStore(store, { fence: opts.fence }), {
    directoryUrl: ca.server,
    ...(ca.email === undefined ? {} : { email: ca.email }),
    ...(ca.eab === undefined ? {} : { eab: ca.eab }),
    backoff: { attempts: 10, minMs: 50, maxMs: 2000 },
    signal: opts.signal,
  });
}
