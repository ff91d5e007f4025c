import { X509Certificate } from 'node:crypto';
import type * as Acme from 'acme-client';
import type { CertificateConfig, Config } from '../config/types.js';
import { isUnknownAccount, openAccount, type AccountStore } from '../acme/account.js';
import { createCertificateKey, createCsr, splitChain } from '../acme/keys.js';
import { answerChallenges, deactivatePending, finalizeOrder, placeOrder, type DnsChallenge, type PlacedOrder } from '../acme/order.js';
import { resolveChallengeTarget, type ChallengeTarget } from '../dns/challenge-name.js';
import { waitForPropagation } from '../dns/propagation.js';
import type { DnsProvider, TxtRecord } from '../dns/provider.js';
import { lookupServers, type QueryFn } from '../dns/resolver.js';
import { GxitError, messageOf } from '../errors.js';
import { sansOf } from '../renew/facts.js';
import { unlessAborted } from './abort.js';
import type { DueDecision } from '../renew/due.js';
import { planIssuance, type LineageFacts, type PlanReason } from './plan.js';
import type { Reporter } from './reporter.js';

/** What a run needs from the state directory. */
export interface IssueStore extends AccountStore {
  lineageFacts(name: string): Promise<LineageFacts | undefined>;
  commitCertificate(
    certificate: CertificateConfig,
    files: { privkeyPem: string; certPem: string; chainPem: string; fullchainPem: string },
    server: string,
  ): Promise<{ version: number; liveDir: string }>;
  recordFailure?(name: string, error: GxitError): Promise<void>;
}

export interface IssueDeps {
  config: Config;
  acme: typeof Acme;
  provider: DnsProvider;
  query: QueryFn;
  store: IssueStore;
  reporter: Reporter;
  signal?: AbortSignal;
  now?: () => number;
}

export interface IssuedCertificate {
  version: number;
  liveDir: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  sans: string[];
}

export interface LineageResult {
  name: string;
  domains: string[];
  status: 'issued' | 'current' | 'failed';
  reason?: PlanReason;
  certificate?: IssuedCertificate;
  /** Where each challenge's TXT record was written. */
  dns?: { domain: string; fqdn: string; wildcardCovered: boolean; delegatedVia: string[] }[];
  error?: GxitError;
  durationMs: number;
}

export interface IssueAllOptions {
  force: boolean;
  /** Current lineages that renew found due (src/renew); they are ordered with reason 'due'. */
  due?: ReadonlyMap<string, DueDecision>;
  /** Per lineage, the ARI identifier of the certificate the new order replaces (RFC 9773 `replaces`). */
  replaces?: ReadonlyMap<string, string>;
  /**
   * Runs once, before the first order of the run (the pre hooks). When it throws, no order is
   * placed and every lineage that needed one fails with its error.
   */
  beforeFirstOrder?: () => Promise<void>;
  /** Runs after each lineage that needed an order, issued or failed (deploy and on_failure hooks), before the next. */
  afterOrder?: (result: LineageResult) => Promise<void>;
}

/** Runs `issue` for every configured certificate that needs an order; one failure does not stop the rest. */
export async function issueAll(deps: IssueDeps, opts: IssueAllOptions): Promise<LineageResult[]> {
  const { config } = deps;
  const facts = new Map<string, LineageFacts>();
  for (const cert of config.certificates) {
    const known = await deps.store.lineageFacts(cert.name);
    if (known) facts.set(cert.name, known);
  }
  const plan = planIssuance(config.certificates, facts, { force: opts.force, server: config.server, ...(opts.due ? { due: opts.due } : {}) });
  let client: Promise<Acme.Client> | undefined;
  const account = (): Promise<Acme.Client> => (client ??= openAccountFor(deps, false));

  const results: LineageResult[] = [];
  let started = false;
  let refused: GxitError | undefined;
  for (const item of plan) {
    const { name, domains } = item.certificate;
    if (!item.reason) {
      results.push({ name, domains, status: 'current', durationMs: 0 });
      continue;
    }
    if (!started) {
      started = true;
      refused = await opts.beforeFirstOrder?.().then(() => undefined, (error: unknown) => asGxitError(error, 'HOOK_FAILED', name));
    }
    let result: LineageResult;
    if (refused) {
      result = { name, domains, status: 'failed', reason: item.reason, error: refused, durationMs: 0 };
      await deps.store.recordFailure?.(name, refused).catch(() => undefined);
    } else {
      result = await issueOne(item.certificate, item.reason, account, deps, opts.replaces?.get(name));
    }
    results.push(result);
    await opts.afterOrder?.(result);
    if (deps.signal?.aborted) break;
  }
  return results;
}

async function openAccountFor(deps: IssueDeps, reRegister: boolean): Promise<Acme.Client> {
  deps.reporter.step('*', 'account', reRegister ? 'registering the account again' : `account at ${deps.config.server}`);
  return openAccount(deps.acme, deps.store, {
    directoryUrl: deps.config.server,
    email: deps.config.email,
    backoff: { attempts: 25, minMs: 50, maxMs: 4000 },
    reRegister,
  });
}

async function issueOne(
  certificate: CertificateConfig,
  reason: PlanReason,
  account: () => Promise<Acme.Client>,
  deps: IssueDeps,
  replaces?: string,
): Promise<LineageResult> {
  const now = deps.now ?? Date.now;
  const started = now();
  const { name, domains } = certificate;
  const { reporter, signal } = deps;
  const step = (s: Parameters<Reporter['step']>[1], detail: string): void => reporter.step(name, s, detail);
  const resolvers = lookupServers(deps.config.dns.resolvers);

  // Where to write each TXT record depends only on the names: look it up while the CA creates the order.
  const targets = new Map<string, Promise<ChallengeTarget>>();
  const targetOf = (domain: string): Promise<ChallengeTarget> => {
    const base = domain.replace(/^\*\./, '');
    let found = targets.get(base);
    if (!found) {
      found = resolveChallengeTarget(deps.query, resolvers, base);
      targets.set(base, found);
    }
    return found;
  };
  domains.forEach((d) => targetOf(d).catch(() => undefined));

  let client = await unlessAborted(account(), signal);
  let placed: PlacedOrder | undefined;
  let records: TxtRecord[] = [];
  let presented = false;
  try {
    step('order', `ordering ${domains.join(', ')} (${reason})`);
    const place = async (): Promise<PlacedOrder> => {
      if (replaces === undefined) return unlessAborted(placeOrder(client, domains), signal);
      try {
        return await unlessAborted(placeOrder(client, domains, { replaces }), signal);
      } catch (error) {
        // A CA that finds the certificate replaced already (alreadyReplaced) or refuses the field
        // still issues without it: `replaces` is a hint for its rate limits, not a condition.
        if (!isReplacesRefusal((error as GxitError).cause ?? error)) throw error;
        step('order', `the CA refused "replaces": ordering without it`);
        return unlessAborted(placeOrder(client, domains), signal);
      }
    };
    try {
      placed = await place();
    } catch (error) {
      if (!isUnknownAccount((error as GxitError).cause ?? error)) throw error;
      client = await openAccountFor(deps, true);
      placed = await place();
    }
    const challenges = placed.challenges;
    const dnsInfo = await Promise.all(
      challenges.map(async (c: DnsChallenge) => ({ challenge: c, target: await targetOf(c.domain) })),
    );
    for (const { target } of dnsInfo) {
      if (target.wildcardCovered) {
        step('dns-present', `${target.fqdn} is covered by a wildcard CNAME: writing at that literal name, not following it`);
      } else if (target.delegatedVia.length > 0) {
        step('dns-present', `${target.delegatedVia[0]} is delegated by CNAME: writing at ${target.fqdn}`);
      }
    }
    records = dnsInfo.map(({ challenge, target }) => ({ fqdn: target.fqdn, value: challenge.txtValue }));

    // The certificate key and CSR do not depend on validation: make them while DNS propagates.
    const keyAndCsr = (async () => {
      const key = await createCertificateKey(deps.acme, certificate.keyType);
      return { key, csr: await createCsr(deps.acme, domains, key) };
    })();
    keyAndCsr.catch(() => undefined);

    if (records.length > 0) {
      step('dns-present', `adding ${records.length} TXT record(s) via ${deps.provider.name}`);
      presented = true;
      await unlessAborted(deps.provider.present(records, signal ?? new AbortController().signal), signal);
      if (deps.config.dns.propagationCheck) {
        step('propagation', `waiting until every authoritative nameserver serves ${records.length} value(s)`);
        await unlessAborted(
          waitForPropagation(records, {
            query: deps.query,
            resolvers,
            nameserverPort: deps.config.dns.nameserverPort,
            timeoutMs: deps.config.dns.propagationTimeoutMs,
            intervalMs: deps.config.dns.propagationIntervalMs,
            ...(signal ? { signal } : {}),
          }),
          signal,
        );
      }
      step('validation', `asking the CA to validate ${challenges.map((c) => c.domain).join(', ')}`);
      await unlessAborted(answerChallenges(client, challenges), signal);
    }

    step('finalize', 'finalizing the order');
    const { key, csr } = await keyAndCsr;
    const fullchainPem = await unlessAborted(finalizeOrder(client, placed.order, csr, domains.join(', ')), signal);
    const { certPem, chainPem } = splitChain(fullchainPem);
    if (!certPem) throw new GxitError('ACME_FINALIZE', `the CA returned no certificate for ${name}`, { subject: name });

    step('store', 'writing the new version and switching live/');
    const committed = await deps.store.commitCertificate(
      certificate,
      { privkeyPem: key.toString(), certPem, chainPem, fullchainPem },
      deps.config.server,
    );
    const x509 = new X509Certificate(certPem);
    return {
      name,
      domains,
      status: 'issued',
      reason,
      certificate: {
        ...committed,
        serial: x509.serialNumber,
        notBefore: new Date(x509.validFrom).toISOString(),
        notAfter: new Date(x509.validTo).toISOString(),
        sans: sansOf(x509),
      },
      dns: dnsInfo.map(({ challenge, target }) => ({
        domain: challenge.domain,
        fqdn: target.fqdn,
        wildcardCovered: target.wildcardCovered,
        delegatedVia: target.delegatedVia,
      })),
      durationMs: now() - started,
    };
  } catch (error) {
    const failure = error instanceof GxitError
      ? error
      : new GxitError('INTERNAL', `issuing ${name} failed: ${messageOf(error)}`, { subject: name, cause: error });
    if (placed) await deactivatePending(client, placed.authorizations);
    await deps.store.recordFailure?.(name, failure).catch(() => undefined);
    return { name, domains, status: 'failed', reason, error: failure, durationMs: now() - started };
  } finally {
    if (presented) {
      step('cleanup', `removing ${records.length} TXT record(s)`);
      await cleanupRecords(deps, name, records);
    }
  }
}

function isReplacesRefusal(error: unknown): boolean {
  return error instanceof Error && /alreadyReplaced|replaces/i.test(error.message);
}

function asGxitError(error: unknown, code: GxitError['code'], subject: string): GxitError {
  return error instanceof GxitError ? error : new GxitError(code, messageOf(error), { subject, cause: error });
}

/** Cleanup runs whatever happened before, and its own failure is reported but never hides the result. */
async function cleanupRecords(deps: IssueDeps, name: string, records: TxtRecord[]): Promise<void> {
  try {
    // Cleanup runs after an interrupt too: it gets a signal of its own.
    await deps.provider.cleanup(records, new AbortController().signal);
  } catch (error) {
    const where = [...new Set(records.map((r) => r.fqdn))].join(', ');
    deps.reporter.warn(name, `could not remove the TXT records at ${where}: ${messageOf(error)}; remove them by hand`);
  }
}

export { sansOf };
