/**
 * The heavy side of a run, loaded lazily: acme-client (its HTTP configured for the CA's TLS, with
 * timeouts and the problem capture), the DNS provider, and the DNS lookups of the challenge flow.
 */
import type * as Acme from 'acme-client';
import { caBundlesOf } from '../config/ca.js';
import type { Config, RenewerConfig } from '../config/types.js';
import type { QueryFn } from '../dns/resolver.js';
import { GxitError } from '../errors.js';
import { isFileReadError, readBoundedText } from '../files/read.js';
import { showPath } from '../redact.js';
import type { LineageStore } from './lineage-store.js';
import type { Ordering } from './run.js';
import type { Reporter } from './reporter.js';

export async function readCaBundle(path: string): Promise<string> {
  try {
    return await readBoundedText(path, { kind: 'pem' });
  } catch (error) {
    throw new GxitError('CONFIG_INVALID', `ca_bundle: ${showPath(path)} ${isFileReadError(error) ? error.reason : 'cannot be read'}`, {
      subject: 'ca_bundle',
      fix: "point ca_bundle to a readable PEM file with the ACME server's CA, or remove it",
      cause: error,
    });
  }
}

/**
 * Every ca_bundle of the configuration (top level and per certificate), concatenated: acme-client
 * has one HTTP agent for all CAs of a run, so it trusts all of them. Undefined when none is set.
 */
export async function readCaBundles(config: Pick<Config, 'caBundle' | 'certificates'>): Promise<string | undefined> {
  const paths = caBundlesOf(config);
  if (paths.length === 0) return undefined;
  const texts = await Promise.all(paths.map(readCaBundle));
  return texts.map((t) => (t.endsWith('\n') ? t : `${t}\n`)).join('');
}

export interface OrderingOptions {
  reporter: Reporter;
  /** acme-client's own log lines (--verbose). */
  acmeLog?: (message: string) => void;
}

/** The ACME library with its HTTP prepared, and the provider: what is the same for every CA of the run. */
export interface OrderingBase {
  acme: typeof Acme;
  provider: Ordering['provider'];
  query: QueryFn;
}

export async function loadOrderingBase(config: RenewerConfig, opts: OrderingOptions): Promise<OrderingBase> {
  const [acme, { prepareAcmeHttp }, { loadProvider }, { PROVIDERS }, { query }] = await Promise.all([
    import('acme-client'),
    import('../acme/http.js'),
    import('../dns/providers/descriptor.js'),
    import('../dns/providers/registry.js'),
    import('../dns/query.js'),
  ]);
  const caBundlePem = await readCaBundles(config);
  await prepareAcmeHttp(acme.axios, {
    ...(caBundlePem === undefined ? {} : { caBundlePem }),
    timeoutMs: 30_000,
  });
  if (opts.acmeLog) acme.setLogger(opts.acmeLog);
  const provider = await loadProvider(PROVIDERS, config.dns);
  return { acme, provider, query };
}

/** The ordering side for the CA in `config.server` (a dry run's differs from the configured one). */
export async function buildOrdering(base: OrderingBase, config: RenewerConfig, store: LineageStore, reporter: Reporter): Promise<Ordering> {
  const [{ orderSession }, { DEFAULT_RETRY_POLICY }, { resolveChallengeTarget }, { waitForPropagation }, { lookupServers }] = await Promise.all([
    import('../acme/session.js'),
    import('../acme/retry.js'),
    import('../dns/challenge-name.js'),
    import('../dns/propagation.js'),
    import('../dns/resolver.js'),
  ]);
  const resolvers = lookupServers(config.dns.resolvers);
  const session = orderSession(base.acme, store, {
    directoryUrl: config.server,
    ...(config.email === undefined ? {} : { email: config.email }),
    ...(config.eab === undefined ? {} : { eab: config.eab }),
    backoff: { attempts: 25, minMs: 50, maxMs: 4000 },
    retry: { ...DEFAULT_RETRY_POLICY, maxWaitMs: config.acmeRetryMaxWaitMs ?? DEFAULT_RETRY_POLICY.maxWaitMs },
    onAccount: (reRegister) => reporter.step('*', 'account', reRegister ? 'registering the account again' : `account at ${config.server}`),
  });
  return {
    session,
    provider: base.provider,
    dns: {
      target: (domain) => resolveChallengeTarget(base.query, resolvers, domain),
      waitForPropagation: async (records, signal) => {
        if (!config.dns.propagationCheck) return;
        await waitForPropagation(records, {
          query: base.query,
          resolvers,
          nameserverPort: config.dns.nameserverPort,
          timeoutMs: config.dns.propagationTimeoutMs,
          intervalMs: config.dns.propagationIntervalMs,
          signal,
        });
      },
    },
  };
}
