import type * as Acme from 'acme-client';
import type { EabConfig } from '../config/types.js';
import { callAcme } from './capture.js';
import { bindAlgorithm, eabClientOptions } from './eab.js';
import { reuseNonces } from './nonces.js';
import { ACCOUNT_REQUEST_LIMIT, DEFAULT_RETRY_POLICY, installRetry, requestBudget, withBudget, type RetryPolicy } from './retry.js';

/** What the ACME module needs from storage: the account key and URL per CA directory (and EAB kid). */
export interface AccountStore {
  loadAccount(directoryUrl: string, eabKid?: string): Promise<{ keyPem: string; url?: string } | undefined>;
  saveAccountKey(directoryUrl: string, keyPem: string, eabKid?: string): Promise<void>;
  saveAccountUrl(directoryUrl: string, url: string, email?: string, eabKid?: string): Promise<void>;
}

export interface AccountOptions {
  directoryUrl: string;
  email?: string;
  /** External Account Binding, sent when the account is registered; the account is kept per kid. */
  eab?: EabConfig;
  /** Fast polling suits a local CA; the growth keeps it polite with a real one. */
  backoff: { attempts: number; minMs: number; maxMs: number };
  /** Register again with the stored key (the CA forgot the account, e.g. a restarted test CA). */
  reRegister?: boolean;
  signal?: AbortSignal;
  /** Retry policy of every request of this client (retry.ts); default DEFAULT_RETRY_POLICY. */
  retry?: RetryPolicy;
}

/**
 * An ACME client bound to this machine's account at the CA: the key is created once, stored
 * (0600) before it is ever used, and reused; the account URL is remembered so later runs skip
 * the newAccount round trip.
 */
export async function openAccount(
  acme: typeof Acme,
  store: AccountStore,
  opts: AccountOptions,
): Promise<Acme.Client> {
  const kid = opts.eab?.kid;
  let stored = await store.loadAccount(opts.directoryUrl, kid);
  if (!stored) {
    const keyPem = (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
    try {
      await store.saveAccountKey(opts.directoryUrl, keyPem, kid);
      stored = { keyPem };
    } catch (error) {
      // Another run stored a key first (another node of a cluster, ordering another lineage at the
      // same time): this key was never used, so take that one instead.
      stored = await store.loadAccount(opts.directoryUrl, kid);
      if (stored === undefined) throw error;
    }
  }
  const client = new acme.Client({
    directoryUrl: opts.directoryUrl,
    accountKey: stored.keyPem,
    accountUrl: opts.reRegister ? undefined : stored.url,
    backoffAttempts: opts.backoff.attempts,
    backoffMin: opts.backoff.minMs,
    backoffMax: opts.backoff.maxMs,
    ...(opts.eab === undefined ? {} : eabClientOptions(opts.eab)),
  });
  if (opts.eab !== undefined) bindAlgorithm(client, opts.eab);
  reuseNonces(client);
  installRetry(client, { policy: opts.retry ?? DEFAULT_RETRY_POLICY, backoff: opts.backoff });
  if (!stored.url || opts.reRegister) {
    const what = `could not register an account at ${opts.directoryUrl}`;
    const budget = requestBudget('ACME_ACCOUNT', `the account registration at ${opts.directoryUrl}`, opts.directoryUrl, ACCOUNT_REQUEST_LIMIT);
    await callAcme({ code: 'ACME_ACCOUNT', what, subject: opts.directoryUrl, ...(opts.signal ? { signal: opts.signal } : {}) }, () =>
      withBudget(budget, () =>
        client.createAccount({
          termsOfServiceAgreed: true,
          contact: opts.email ? [`mailto:${opts.email}`] : undefined,
        }),
      ),
    );
    await store.saveAccountUrl(opts.directoryUrl, client.getAccountUrl(), opts.email, kid);
  }
  return client;
}
