/**
 * check-dns: every check for every configured certificate and name, gathered concurrently.
 *
 * Two phases, because the write probe changes the zone: first everything that only reads (wildcard,
 * host, zone and nameservers, challenge name, CAA, the provider's own checks such as rfc2136's signed
 * TSIG query), then the write probes
 * (one per distinct challenge target). A probe TXT at _acme-challenge.ep.interactivetool.<host> would
 * otherwise change what the wildcard and challenge-name lookups see. The ACME checks run alongside.
 */
import type { RenewerConfig } from '../config/types.js';
import type { DnsProvider, TxtRecord } from '../dns/provider.js';
import type { ProviderCheckResult } from '../dns/providers/descriptor.js';
import { lookupServers, type QueryFn } from '../dns/resolver.js';
import type { ExchangeFn } from '../dns/transport.js';
import { findZone } from '../dns/zone.js';
import { isGxitError, messageOf } from '../errors.js';
import { evaluateAccount, evaluateDirectory, fetchDirectory, gatherAccount, type AccountDeps, type Directory } from './acme.js';
import { evaluateCaa, gatherCaa, type CaIdentities } from './caa.js';
import { evaluateChallenge, gatherChallenge, type ChallengeFacts } from './challenge.js';
import { evaluateProbe, gatherProbe } from './credentials.js';
import { memoizeSigned, signedAsk } from '../dns/dnssec/wire.js';
import { startDnssec } from './dnssec.js';
import { evaluateHost, gatherHost } from './host.js';
import { memoize } from './lookup.js';
import { evaluateZone, gatherZone, type AskFn } from './nameservers.js';
import { planChecks } from './plan.js';
import { fail, sortResults, type CheckResult } from './types.js';
import { evaluateWildcard, gatherWildcard } from './wildcard.js';

/** Per attempt and attempts of the DNSSEC queries: the same budget as the other lookups of a preflight. */
const DNSSEC_QUERY = { timeoutMs: 1000, retries: 2 } as const;
/** A lagging serial gets this long to catch up before it is reported. */
export const SERIAL_GRACE_MS = 1000;
/** Every authoritative nameserver gets this long to serve the probe value, and to drop it again. */
export const PROBE_VISIBLE_MS = 2000;
export const PROBE_GONE_MS = 1000;

export interface CheckDeps {
  /** Checks are about ordering: a renewer's configuration, with its DNS provider. */
  config: RenewerConfig;
  /** Lookups with the check's timeouts (memoized here per run). */
  query: QueryFn;
  /** One uncached question to one server, UDP or TCP. */
  ask: AskFn;
  /** Raw DNS exchange, for the DNSSEC queries (EDNS with the DO bit). */
  exchange: ExchangeFn;
  loadProvider(): Promise<DnsProvider>;
  /**
   * The configured provider's own read-only checks (its descriptor's `checks`, bound to the settings
   * by src/cli), given the distinct challenge targets; a failing one skips the write probes.
   */
  providerChecks(targets: string[]): Promise<ProviderCheckResult[]>;
  account: AccountDeps;
  /** state_dir/accounts/<ca>, for fixes. */
  accountDir: string;
  random: () => string;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  signal?: AbortSignal;
  /** Progress for --verbose. */
  onStep?: (text: string) => void;
}

export async function runChecks(deps: CheckDeps): Promise<CheckResult[]> {
  const { config } = deps;
  const dns = config.dns;
  const query = memoize(deps.query);
  const resolvers = lookupServers(dns.resolvers);
  const plan = planChecks(config.certificates, dns.expectTarget);
  const lookup = { query, resolvers, random: deps.random };
  const step = (text: string): void => deps.onStep?.(text);

  const acme = runAcme(deps);
  const provider = deps.loadProvider().then(
    (p) => ({ provider: p }),
    (error: unknown) => ({ error }),
  );

  const wildcards = Promise.all(plan.wildcards.map((w) => gatherWildcard(lookup, w)));
  const hosts = Promise.all(plan.hosts.map((h) => gatherHost(lookup, h)));
  const challenges = Promise.all(plan.challengeDomains.map((d) => gatherChallenge(lookup, d)));
  const caa = Promise.all(plan.caaNames.map((n) => gatherCaa(lookup, n)));
  const dnssecTransport = { ...DNSSEC_QUERY, ...(deps.signal ? { signal: deps.signal } : {}) };
  const dnssec = startDnssec(
    { ask: memoizeSigned(signedAsk(deps.exchange, dnssecTransport)), askFresh: signedAsk(deps.exchange, dnssecTransport), query, resolvers, nameserverPort: dns.nameserverPort, ...(dns.trustAnchors ? { trustAnchors: dns.trustAnchors } : {}), now: deps.now },
    challenges,
  );
  const zones = challenges.then((found) => checkZones(deps, query, resolvers, found));
  const own = challenges.then((found) => {
    const targets = [...new Set(found.flatMap((c) => (c.target ? [c.target.fqdn] : [])))].sort();
    return deps.providerChecks(targets);
  });

  const [w, h, c, z, s, d] = await Promise.all([wildcards, hosts, challenges, zones, own, dnssec.results, caa]);
  step('lookups done');
  const results: CheckResult[] = [...w.map(evaluateWildcard), ...h.map(evaluateHost), ...c.map(evaluateChallenge), ...z, ...d, ...s];

  // Phase 2: the write probes, unless the provider's credentials are already known to be refused or the
  // run was interrupted.
  if (!s.some((r) => r.status === 'fail') && !deps.signal?.aborted) {
    const targets = [...new Set(c.flatMap((x) => (x.target ? [x.target.fqdn] : [])))];
    const loaded = await provider;
    if ('error' in loaded) {
      const e = loaded.error;
      results.push(fail('write', dns.provider, `the ${dns.provider} provider cannot be set up: ${messageOf(e)}`,
        isGxitError(e) && e.fix ? e.fix : `check the dns.${dns.provider} section`));
    } else {
      const probes = await Promise.all(
        targets.map((fqdn) =>
          gatherProbe(
            {
              query: deps.query,
              resolvers,
              nameserverPort: dns.nameserverPort,
              verify: dns.propagationCheck,
              visibleWithinMs: PROBE_VISIBLE_MS,
              goneWithinMs: PROBE_GONE_MS,
              now: deps.now,
              ...(deps.signal ? { signal: deps.signal } : {}),
              onPresent: (r: TxtRecord) => step(`write probe: added TXT "${r.value}" at ${r.fqdn}; asking the authoritative nameservers`),
              whileVisible: dnssec.probe,
            },
            loaded.provider,
            fqdn,
          ),
        ),
      );
      results.push(...probes.map(evaluateProbe), ...dnssec.probeResults());
    }
  }

  const acmeDone = await acme;
  const caaFacts = await caa;
  const identities: CaIdentities = {
    ...(config.caaIdentities
      ? { identities: config.caaIdentities, source: 'caa_identities' as const }
      : acmeDone.directory?.meta?.caaIdentities
        ? { identities: acmeDone.directory.meta.caaIdentities, source: 'the ACME directory' as const }
        : {}),
    ...(acmeDone.accountUrl ? { accountUrl: acmeDone.accountUrl } : {}),
  };
  results.push(...caaFacts.map((f) => evaluateCaa(f, identities)), ...acmeDone.results);
  return sortResults(results);
}

async function checkZones(deps: CheckDeps, query: QueryFn, resolvers: ReturnType<typeof lookupServers>, found: ChallengeFacts[]): Promise<CheckResult[]> {
  // The challenge names, and the targets of delegating CNAMEs (with the name that points there).
  const delegatedFrom = new Map<string, string>();
  for (const c of found) if (c.target && c.target.fqdn !== c.name) delegatedFrom.set(c.target.fqdn, c.name);
  const names = [...new Set([...found.map((c) => c.name), ...delegatedFrom.keys()])];
  const results: CheckResult[] = [];
  const byZone = new Map<string, string[]>();
  await Promise.all(
    names.map(async (name) => {
      try {
        const zone = await findZone(query, resolvers, name, { recursionDesired: true });
        byZone.set(zone, [...(byZone.get(zone) ?? []), name]);
      } catch (error) {
        const via = delegatedFrom.get(name);
        results.push(
          fail('zone', name, messageOf(error), via
            ? `correct the CNAME at ${via}, or create the zone that ${name} belongs to: the CA looks for the TXT record there`
            : 'check that dns.resolvers (or the system resolver) answer for this name and that its zone exists'),
        );
      }
    }),
  );
  const nsDeps = {
    query,
    resolvers,
    random: deps.random,
    ask: deps.ask,
    nameserverPort: deps.config.dns.nameserverPort,
    serialGraceMs: SERIAL_GRACE_MS,
    sleep: deps.sleep,
    now: deps.now,
  };
  const zones = await Promise.all([...byZone].map(([zone, zoneNames]) => gatherZone(nsDeps, zone, zoneNames.sort())));
  return [...results, ...zones.flatMap(evaluateZone)];
}

async function runAcme(deps: CheckDeps): Promise<{ results: CheckResult[]; directory?: Directory; accountUrl?: string }> {
  const url = deps.config.server;
  const { result, directory } = evaluateDirectory(await fetchDirectory(url, deps.account.http, deps.now));
  if (!directory) return { results: [result] };
  const account = await gatherAccount(deps.account, url);
  const accountUrl = account.kind === 'checked' || account.kind === 'error' ? account.url : undefined;
  return { results: [result, evaluateAccount(account, deps.accountDir)], directory, ...(accountUrl ? { accountUrl } : {}) };
}
