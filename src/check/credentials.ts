/**
 * Credentials: can gxit-cert write where the CA will look?
 *
 * Every provider: its probe adds a unique TXT value at the challenge name and removes it again;
 * check-dns asks every authoritative nameserver for the value while it is there, and for its absence
 * afterwards. Checks of a provider's own (rfc2136: a query signed with the TSIG key) come from its
 * descriptor (src/dns/providers/<name>/descriptor.ts).
 */
import type { ServerAddress } from '../config/types.js';
import { RRType } from '../dns/message.js';
import { authoritativeNameservers, type Nameserver } from '../dns/nameservers.js';
import { txtValuesAt, waitForPropagation, type PendingCheck } from '../dns/propagation.js';
import type { DnsProvider, ProbeResult, TxtRecord } from '../dns/provider.js';
import { formatServer, type QueryFn } from '../dns/resolver.js';
import { findZone } from '../dns/zone.js';
import { GxitError, isGxitError, messageOf } from '../errors.js';
import { fail, ok, warn, type CheckResult } from './types.js';

/** What the nameservers showed while the probe value was present, and after it was removed. */
export interface ProbeFacts {
  fqdn: string;
  provider: string;
  /** Undefined when the provider cannot probe. */
  result?: ProbeResult;
  /** Undefined when the provider never called back (it has no such step) or nothing was asked. */
  visible?: { ms: number } | { pending: PendingCheck[] } | { error: unknown };
  /** Nameservers that still served the value after its removal. */
  leftover?: PendingCheck[];
  interrupted?: boolean;
}

export interface ProbeDeps {
  /** Uncached lookups (the value changes during the probe). */
  query: QueryFn;
  resolvers: ServerAddress[];
  nameserverPort: number;
  /** Whether the authoritative nameservers can be asked at all (dns.propagation_check). */
  verify: boolean;
  /** How long every nameserver gets to serve the value. */
  visibleWithinMs: number;
  /** How long the nameservers get to drop it again after the removal. */
  goneWithinMs: number;
  now: () => number;
  signal?: AbortSignal;
  /** Called once the value is in place (progress for --verbose). */
  onPresent?: (record: TxtRecord) => void;
  /** Called once every nameserver serves the value, before it is removed (the DNSSEC check of the probe). */
  whileVisible?: (record: TxtRecord) => Promise<void>;
}

export async function gatherProbe(deps: ProbeDeps, provider: DnsProvider, fqdn: string): Promise<ProbeFacts> {
  const facts: ProbeFacts = { fqdn, provider: provider.name };
  if (!provider.probe) return facts;
  let lastPending: PendingCheck[] = [];
  let probed: TxtRecord | undefined;
  facts.result = await provider.probe(fqdn, {
    signal: deps.signal ?? new AbortController().signal,
    whilePresent: async (record) => {
      probed = record;
      deps.onPresent?.(record);
      if (!deps.verify || deps.signal?.aborted) return;
      const started = deps.now();
      try {
        await waitForPropagation([record], {
          query: deps.query,
          resolvers: deps.resolvers,
          nameserverPort: deps.nameserverPort,
          timeoutMs: deps.visibleWithinMs,
          intervalMs: 20,
          maxIntervalMs: 200,
          now: deps.now,
          // The wait (and its queries) end at once on an interrupt.
          ...(deps.signal ? { signal: deps.signal } : {}),
          onProgress: (pending) => {
            lastPending = pending;
          },
        });
        facts.visible = { ms: deps.now() - started };
        await deps.whileVisible?.(record);
      } catch (error) {
        // An interrupt ends the wait; the provider removes the value next.
        if (deps.signal?.aborted) return;
        const timedOut = error instanceof GxitError && error.code === 'DNS_PROPAGATION_TIMEOUT' && lastPending.length > 0;
        facts.visible = timedOut ? { pending: lastPending } : { error };
      }
    },
  });
  facts.interrupted = deps.signal?.aborted ?? false;
  if (probed && deps.verify && facts.result.ok && !facts.result.retained) facts.leftover = await stillServed(deps, probed);
  return facts;
}

/** Nameservers that still serve the value after its removal (given a moment to follow the primary). */
async function stillServed(deps: ProbeDeps, record: TxtRecord): Promise<PendingCheck[]> {
  let nameservers: Nameserver[];
  try {
    const zone = await findZone(deps.query, deps.resolvers, record.fqdn, { recursionDesired: true });
    nameservers = await authoritativeNameservers(deps.query, deps.resolvers, zone, deps.nameserverPort);
  } catch {
    return []; // The lookups were reported by the zone check; the removal itself was confirmed by the provider.
  }
  const deadline = deps.now() + deps.goneWithinMs;
  let serving = nameservers.flatMap((ns) => ns.addresses.map((address) => ({ ns, address })));
  for (;;) {
    const answers = await Promise.all(
      serving.map(async (s) => {
        const reply = await deps.query(s.address, record.fqdn, RRType.TXT).catch(() => undefined);
        return reply !== undefined && txtValuesAt(reply, record.fqdn).has(record.value);
      }),
    );
    serving = serving.filter((_, i) => answers[i]);
    if (serving.length === 0 || deps.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return serving.map((s) => ({ fqdn: record.fqdn, nameserver: `${s.ns.name} (${formatServer(s.address)})`, missing: [] }));
}

export function evaluateProbe(f: ProbeFacts): CheckResult {
  const subject = f.fqdn;
  if (!f.result) {
    return warn('write', subject, `the ${f.provider} provider cannot probe: whether gxit-cert may write here was not tried`,
      'run gxit-cert issue against a staging CA (server: letsencrypt-staging) to try the credentials');
  }
  const r = f.result;
  if (f.interrupted) {
    return r.ok
      ? fail('write', subject, `interrupted; ${r.detail}`, 'run check-dns again to finish the checks')
      : fail('write', subject, `interrupted: ${r.detail}`, r.fix ?? 'run check-dns again to finish the checks');
  }
  if (!r.ok) return fail('write', subject, r.detail, r.fix ?? `check the ${f.provider} credentials and that they may change TXT records at ${f.fqdn}`);
  if (f.leftover && f.leftover.length > 0) {
    const where = f.leftover.map((p) => p.nameserver).sort().join(', ');
    return fail('write', subject, `${r.detail}, but ${where} still serve${f.leftover.length === 1 ? 's' : ''} the probe value`,
      `remove the TXT record starting with gxit-cert-probe- at ${f.fqdn} on the primary server`);
  }
  const v = f.visible;
  if (v === undefined) return ok('write', subject, r.detail);
  if ('ms' in v) return ok('write', subject, `${r.detail}; every authoritative nameserver served it within ${v.ms} ms`);
  if ('pending' in v) {
    const lagging = [...new Set(v.pending.map((p) => p.nameserver))].sort().join(', ');
    return warn('write', subject, `${r.detail}, but ${lagging} did not serve it in time`,
      `check that ${lagging} receive NOTIFY and transfers from the primary; issue waits up to dns.propagation_timeout for them`);
  }
  return warn('write', subject, `${r.detail}, but the authoritative nameservers could not be asked: ${messageOf(v.error)}`,
    isGxitError(v.error) && v.error.fix ? v.error.fix : 'see the zone and nameserver checks');
}
