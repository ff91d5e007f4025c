/**
 * One order for one lineage, as named steps:
 *   place -> records -> present -> propagation -> validate -> finalize -> commit
 * and, whatever happened, cleanup: it waits for a present still in flight, then removes exactly our
 * TXT records under its own bounded signal (the run's may be aborted already).
 */
import { X509Certificate } from 'node:crypto';
import type { OrderHandle, OrderSession } from '../acme/session.js';
import { keyTypeOfPem, splitChain } from '../acme/keys.js';
import type { CertificateConfig } from '../config/types.js';
import type { ChallengeTarget } from '../dns/challenge-name.js';
import type { DnsProvider, TxtRecord } from '../dns/provider.js';
import { GxitError, messageOf } from '../errors.js';
import type { PlanReason } from '../renew/issue-plan.js';
import { sansOf } from '../renew/facts.js';
import { unlessAborted } from './abort.js';
import type { LineageStore } from './lineage-store.js';
import type { Reporter, Step } from './reporter.js';

/** The DNS side of a challenge: where to write, and when every nameserver serves it. */
export interface ChallengeDns {
  target(domain: string): Promise<ChallengeTarget>;
  /** Resolves once every authoritative nameserver serves the records (at once when the check is off). */
  waitForPropagation(records: TxtRecord[], signal: AbortSignal): Promise<void>;
}

export interface OrderDeps {
  session: OrderSession;
  provider: DnsProvider;
  dns: ChallengeDns;
  store: LineageStore;
  reporter: Reporter;
  /** The run's signal (interrupts and the lock's `lost`). */
  signal: AbortSignal;
  /** The CA the order goes to (recorded with the lineage). */
  server: string;
  now: () => number;
  /** Bound of the cleanup after the run's signal; default 30 s. */
  cleanupTimeoutMs?: number;
  /** The provider journals its records (journal.ts): what cleanup cannot remove, the next run does. */
  journaled?: boolean;
}

export interface IssuedCertificate {
  version: number;
  liveDir: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  sans: string[];
}

export interface DnsPlacement {
  domain: string;
  fqdn: string;
  wildcardCovered: boolean;
  delegatedVia: string[];
}

export interface LineageResult {
  name: string;
  domains: string[];
  status: 'issued' | 'current' | 'failed';
  reason?: PlanReason;
  certificate?: IssuedCertificate;
  /** Where each challenge's TXT record was written. */
  dns?: DnsPlacement[];
  error?: GxitError;
  durationMs: number;
}

/** What the steps share while one order runs. */
interface OrderRun {
  certificate: CertificateConfig;
  deps: OrderDeps;
  step: (s: Step, detail: string) => void;
  placed?: OrderHandle;
  records: TxtRecord[];
  /** The present call, settled or not: cleanup waits for it. */
  presenting?: Promise<void>;
}

export async function orderLineage(certificate: CertificateConfig, reason: PlanReason, deps: OrderDeps, replaces?: string): Promise<LineageResult> {
  const started = deps.now();
  const { name, domains } = certificate;
  const run: OrderRun = { certificate, deps, records: [], step: (s, detail) => deps.reporter.step(name, s, detail) };
  const targets = lookUpTargets(deps.dns, domains);
  try {
    // Before anything is ordered: a provider that cannot take these names in one order says so now.
    deps.provider.checkOrder?.(name, domains);
    run.step('order', `ordering ${domains.join(', ')} (${reason})`);
    const placed = await placeStep(run, replaces);
    const placements = await recordsStep(run, placed, targets);
    // The certificate key and CSR do not depend on validation: make them while DNS propagates.
    const keyAndCsr = reusableKey(certificate, reason, deps).then((reuse) => deps.session.keyAndCsr(certificate.keyType, domains, reuse));
    keyAndCsr.catch(() => undefined);
    if (run.records.length > 0) {
      await presentStep(run);
      await propagationStep(run);
      await validateStep(run, placed);
    }
    const files = await finalizeStep(run, placed, await keyAndCsr);
    const committed = await commitStep(run, files);
    return { name, domains, status: 'issued', reason, certificate: committed, dns: placements, durationMs: deps.now() - started };
  } catch (error) {
    const failure = asFailure(error, name);
    if (run.placed !== undefined) await deps.session.abandon(run.placed).catch(() => undefined);
    await deps.store.recordFailure(name, failure).catch(() => undefined);
    return { name, domains, status: 'failed', reason, error: failure, durationMs: deps.now() - started };
  } finally {
    await cleanupStep(run);
  }
}

/** Where to write each TXT record depends only on the names: look it up while the CA creates the order. */
function lookUpTargets(dns: ChallengeDns, domains: readonly string[]): (domain: string) => Promise<ChallengeTarget> {
  const targets = new Map<string, Promise<ChallengeTarget>>();
  const targetOf = (domain: string): Promise<ChallengeTarget> => {
    const base = domain.replace(/^\*\./, '');
    let found = targets.get(base);
    if (!found) {
      found = dns.target(base);
      targets.set(base, found);
    }
    return found;
  };
  for (const d of domains) targetOf(d).catch(() => undefined);
  return targetOf;
}

async function placeStep(run: OrderRun, replaces: string | undefined): Promise<OrderHandle> {
  const { deps } = run;
  const placed = await unlessAborted(
    deps.session.place(run.certificate.domains, {
      ...(replaces === undefined ? {} : { replaces }),
      ...(run.certificate.profile === undefined ? {} : { profile: run.certificate.profile }),
      signal: deps.signal,
      onNote: (text) => run.step('order', text),
    }),
    deps.signal,
  );
  run.placed = placed;
  return placed;
}

async function recordsStep(run: OrderRun, placed: OrderHandle, targetOf: (domain: string) => Promise<ChallengeTarget>): Promise<DnsPlacement[]> {
  const found = await unlessAborted(
    Promise.all(placed.challenges.map(async (challenge) => ({ challenge, target: await targetOf(challenge.domain) }))),
    run.deps.signal,
  );
  for (const { target } of found) {
    if (target.wildcardCovered) {
      run.step('dns-present', `${target.fqdn} is covered by a wildcard CNAME: writing at that literal name, not following it`);
    } else if (target.delegatedVia.length > 0) {
      run.step('dns-present', `${target.delegatedVia[0]} is delegated by CNAME: writing at ${target.fqdn}`);
    }
  }
  run.records = found.map(({ challenge, target }) => ({ fqdn: target.fqdn, value: challenge.txtValue, domain: challenge.domain }));
  return found.map(({ challenge, target }) => ({
    domain: challenge.domain,
    fqdn: target.fqdn,
    wildcardCovered: target.wildcardCovered,
    delegatedVia: target.delegatedVia,
  }));
}

async function presentStep(run: OrderRun): Promise<void> {
  const { deps, records } = run;
  run.step('dns-present', `adding ${records.length} TXT record(s) via ${deps.provider.name}`);
  const presenting = deps.provider.present(records, deps.signal);
  run.presenting = presenting;
  await unlessAborted(presenting, deps.signal);
}

async function propagationStep(run: OrderRun): Promise<void> {
  run.step('propagation', `waiting until every authoritative nameserver serves ${run.records.length} value(s)`);
  await unlessAborted(run.deps.dns.waitForPropagation(run.records, run.deps.signal), run.deps.signal);
}

async function validateStep(run: OrderRun, placed: OrderHandle): Promise<void> {
  run.step('validation', `asking the CA to validate ${placed.challenges.map((c) => c.domain).join(', ')}`);
  await unlessAborted(run.deps.session.validate(placed, run.deps.signal), run.deps.signal);
}

interface Issued {
  keyPem: string;
  certPem: string;
  chainPem: string;
  fullchainPem: string;
}

/**
 * reuse_key: the live private key, unless the key type changed (configured or found in the file):
 * a new type needs a new key.
 */
async function reusableKey(certificate: CertificateConfig, reason: PlanReason, deps: OrderDeps): Promise<string | undefined> {
  if (certificate.reuseKey !== true || reason === 'key-type-changed') return undefined;
  const pem = await deps.store.liveKey(certificate.name);
  if (pem === undefined || keyTypeOfPem(pem) !== certificate.keyType) return undefined;
  return pem;
}

async function finalizeStep(run: OrderRun, placed: OrderHandle, key: { keyPem: string; csr: Buffer }): Promise<Issued> {
  const { name, domains } = run.certificate;
  run.step('finalize', 'finalizing the order');
  const fullchainPem = await unlessAborted(run.deps.session.finalize(placed, key.csr, domains.join(', '), run.deps.signal, run.certificate.preferredChain), run.deps.signal);
  const { certPem, chainPem } = splitChain(fullchainPem);
  if (!certPem) throw new GxitError('ACME_FINALIZE', `the CA returned no certificate for ${name}`, { subject: name });
  return { keyPem: key.keyPem, certPem, chainPem, fullchainPem };
}

async function commitStep(run: OrderRun, issued: Issued): Promise<IssuedCertificate> {
  const { deps, certificate } = run;
  // Nothing is written once the run was interrupted or lost its lock.
  if (deps.signal.aborted) await unlessAborted(Promise.resolve(), deps.signal);
  run.step('store', 'writing the new version and switching live/');
  const committed = await deps.store.commitCertificate(
    certificate,
    { privkeyPem: issued.keyPem, certPem: issued.certPem, chainPem: issued.chainPem, fullchainPem: issued.fullchainPem },
    deps.server,
  );
  const x509 = new X509Certificate(issued.certPem);
  return {
    ...committed,
    serial: x509.serialNumber,
    notBefore: new Date(x509.validFrom).toISOString(),
    notAfter: new Date(x509.validTo).toISOString(),
    sans: sansOf(x509),
  };
}

/** Cleanup runs whatever happened before, and its own failure is reported but never hides the result. */
async function cleanupStep(run: OrderRun): Promise<void> {
  if (run.presenting === undefined) return;
  const { deps, records } = run;
  // A present still retrying could land after a cleanup: wait for it to settle first.
  await run.presenting.catch(() => undefined);
  run.step('cleanup', `removing ${records.length} TXT record(s)`);
  try {
    await deps.provider.cleanup(records, AbortSignal.timeout(deps.cleanupTimeoutMs ?? 30_000));
  } catch (error) {
    const where = [...new Set(records.map((r) => r.fqdn))].join(', ');
    const then = deps.journaled
      ? 'they stay in the DNS journal and the next issue, renew or check-dns run removes them'
      : 'remove them by hand';
    deps.reporter.warn(run.certificate.name, `could not remove the TXT records at ${where}: ${messageOf(error)}; ${then}`);
  }
}

function asFailure(error: unknown, name: string): GxitError {
  return error instanceof GxitError ? error : new GxitError('INTERNAL', `issuing ${name} failed: ${messageOf(error)}`, { subject: name, cause: error });
}
