/**
 * DNSSEC on the challenge path: since 2026-03-15 every publicly trusted CA validates DNSSEC on its
 * domain-validation lookups, so a broken chain makes DNS-01 fail with a bare SERVFAIL after the
 * records were written. For the zone of every challenge name (and CNAME target):
 *   - the chain from the trust anchor to the zone (through the resolvers, DO and CD set), then on every
 *     authoritative nameserver: the DNSKEY set against the DS, and RRSIGs over SOA and NS; signatures
 *     that expire within 7 days are a warning;
 *   - before the write probe, the denial of existence (NSEC/NSEC3) of each challenge name;
 *   - during the probe, once every nameserver serves it, the probe TXT record's RRSIG on each of them.
 * An unsigned zone is fine: ✓ "not signed".
 */
import { isIP } from 'node:net';
import type { ServerAddress, TrustAnchor } from '../config/types.js';
import { ROOT_TRUST_ANCHORS } from '../dns/dnssec/anchors.js';
import { authenticateKeySet, findSignedZone, validateChain, type Bogus, type ChainResult, type KeyTrust } from '../dns/dnssec/chain.js';
import { verifyDenial, verifyWildcardExpansion, type DenialVerdict } from '../dns/dnssec/denial.js';
import { algorithmName, labelCount, readPlainName, type Dnskey } from '../dns/dnssec/records.js';
import { describeRrsetProblem, formatSigTime, rrsetAt, verifyRrset, type RrsetVerdict } from '../dns/dnssec/rrset.js';
import type { SignedAsk, SignedReply } from '../dns/dnssec/wire.js';
import { RCode, rcodeName, RRType } from '../dns/message.js';
import type { TxtRecord } from '../dns/provider.js';
import { formatServer, type QueryFn } from '../dns/resolver.js';
import { findZone } from '../dns/zone.js';
import { isGxitError, messageOf } from '../errors.js';
import type { ChallengeFacts } from './challenge.js';
import { fail, ok, warn, type CheckResult } from './types.js';

/** Signatures that expire sooner than this are reported: a signer that stopped would break validation then. */
export const EXPIRY_WARNING_DAYS = 7;

export interface DnssecDeps {
  /** DNSSEC questions (DO set) to resolvers and nameservers, memoized per run. */
  ask: SignedAsk;
  /** The same, uncached: for the probe value, which appears after the first look. */
  askFresh: SignedAsk;
  /** Plain lookups: the zone of a name when no DNSSEC query gets through (then the zone line says why). */
  query: QueryFn;
  resolvers: ServerAddress[];
  nameserverPort: number;
  /** dns.trust_anchors, else the root's. */
  trustAnchors?: TrustAnchor[];
  now: () => number;
}

interface ServerRef {
  nameserver: string;
  address: ServerAddress;
}

function label(s: ServerRef): string {
  return `${s.nameserver} (${formatServer(s.address)})`;
}

export interface RecordCheck {
  record: string;
  verdict: RrsetVerdict;
}

export interface ServerDnssecFacts extends ServerRef {
  error?: unknown;
  /** The server's DNSKEY set held against the DS (or anchor). */
  keys?: ReturnType<typeof authenticateKeySet>;
  records: RecordCheck[];
}

export interface DnssecZoneFacts {
  zone: string;
  chain: ChainResult;
  nameserverError?: unknown;
  servers: ServerDnssecFacts[];
}

/**
 * The zone's nameservers and their addresses, asked of the resolvers with CD set: a validating
 * resolver answers SERVFAIL for the NS set of a bogus zone, and those are the servers to name.
 */
async function nameserversOf(deps: DnssecDeps, zone: string): Promise<ServerRef[]> {
  const first = async (name: string, type: number): Promise<SignedReply> => {
    let last: unknown = new Error('no lookup servers configured');
    for (const server of deps.resolvers) {
      try {
        return await deps.ask(server, name, type, { recursive: true });
      } catch (error) {
        last = error;
      }
    }
    throw last;
  };
  const names = (await first(zone, RRType.NS)).answers.filter((r) => r.type === RRType.NS && r.name === zone).map((r) => readPlainName(r.rdata, 0).name);
  if (names.length === 0) throw new Error(`zone ${zone} has no NS records`);
  const refs = await Promise.all(
    names.map(async (nameserver) => {
      if (isIP(nameserver)) return [{ nameserver, address: { host: nameserver, port: deps.nameserverPort } }];
      const replies = await Promise.allSettled([first(nameserver, RRType.A), first(nameserver, RRType.AAAA)]);
      const hosts = replies.flatMap((r) => (r.status === 'fulfilled' ? r.value.answers : []))
        .filter((r) => r.name === nameserver && ((r.type === RRType.A && r.rdata.length === 4) || (r.type === RRType.AAAA && r.rdata.length === 16)))
        .map((r) => (r.type === RRType.A ? [...r.rdata].join('.') : ipv6(r.rdata)));
      return [...new Set(hosts)].map((host) => ({ nameserver, address: { host, port: deps.nameserverPort } }));
    }),
  );
  return refs.flat().sort((a, b) => label(a).localeCompare(label(b)));
}

function ipv6(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  // The shortest form, as net.SocketAddress and formatServer expect it.
  return new URL(`http://[${groups.join(':')}]`).hostname.replace(/^\[|\]$/g, '');
}

async function checkServer(deps: DnssecDeps, zone: string, trust: KeyTrust, s: ServerRef): Promise<ServerDnssecFacts> {
  const nowSeconds = Math.floor(deps.now() / 1000);
  try {
    const [dnskey, soa, ns] = await Promise.all(
      [RRType.DNSKEY, RRType.SOA, RRType.NS].map((type) => deps.ask(s.address, zone, type, { recursive: false })),
    );
    const keys = authenticateKeySet(zone, (dnskey as SignedReply).answers, trust, nowSeconds);
    if (keys.ok !== true) return { ...s, keys, records: [] };
    const records: RecordCheck[] = [
      { record: `DNSKEY ${zone}`, verdict: verifyRrset((dnskey as SignedReply).answers, zone, RRType.DNSKEY, keys.keys, zone, nowSeconds) },
      { record: `SOA ${zone}`, verdict: verifyRrset((soa as SignedReply).answers, zone, RRType.SOA, keys.keys, zone, nowSeconds) },
      { record: `NS ${zone}`, verdict: verifyRrset((ns as SignedReply).answers, zone, RRType.NS, keys.keys, zone, nowSeconds) },
    ];
    return { ...s, keys, records };
  } catch (error) {
    return { ...s, error, records: [] };
  }
}

export async function gatherDnssecZone(deps: DnssecDeps, zone: string): Promise<DnssecZoneFacts> {
  const anchors = deps.trustAnchors && deps.trustAnchors.length > 0 ? deps.trustAnchors : ROOT_TRUST_ANCHORS;
  const chain = await validateChain({ ask: deps.ask, resolvers: deps.resolvers, anchors, now: deps.now }, zone);
  const trust: KeyTrust | undefined = chain.status === 'secure' ? chain.trust : chain.status === 'bogus' && chain.ds ? { ds: chain.ds } : undefined;
  if (!trust) return { zone, chain, servers: [] };
  let servers: ServerRef[];
  try {
    servers = await nameserversOf(deps, zone);
  } catch (error) {
    return { zone, chain, nameserverError: error, servers: [] };
  }
  return { zone, chain, servers: await Promise.all(servers.map((s) => checkServer(deps, zone, trust, s))) };
}

/** The fix for a problem with one record. */
function fixFor(b: { record: string; message: string }, zone: string): string {
  if (b.record.startsWith('DS ')) {
    return `publish at the parent of ${zone} the DS of the zone's current key (dnssec-dsfromkey on its DNSKEY) and remove the DS for the retired key; validating resolvers, the CA's among them, answer SERVFAIL until then`;
  }
  if (/expired|valid only from/.test(b.message)) {
    return `re-sign ${zone} (check that its signer runs and that the clocks are right): validating resolvers answer SERVFAIL for expired signatures`;
  }
  if (b.record.startsWith('NSEC')) return `re-sign ${zone} so that its NSEC/NSEC3 chain is complete and signed`;
  return `re-sign ${zone} with its current keys on the primary and let every nameserver transfer it; the CA's validating resolver answers SERVFAIL otherwise`;
}

function bogusResult(subject: string, zone: string, b: Bogus): CheckResult {
  const tag = b.keyTag === undefined ? '' : ` (key tag ${b.keyTag})`;
  return fail('dnssec', subject, `${b.message}${b.message.includes(`key tag ${b.keyTag}`) ? '' : tag} on ${b.server}`, fixFor(b, zone));
}

function keyInfo(keys: Dnskey[]): string {
  const algs = [...new Set(keys.map((k) => algorithmName(k.algorithm)))].join(', ');
  return `${algs}, key tag ${keys.map((k) => k.keyTag).sort((a, b) => a - b).join(', ')}`;
}

export function evaluateDnssecZone(f: DnssecZoneFacts, nowMs: number): CheckResult[] {
  const subject = `zone ${f.zone}`;
  const c = f.chain;
  switch (c.status) {
    case 'error':
      return [warn('dnssec', subject, `DNSSEC could not be checked: ${c.message}`,
        isGxitError(c.error) && c.error.fix
          ? c.error.fix
          : 'use resolvers (dns.resolvers, or the system resolver) that answer with DNSSEC records (DO bit) for the whole chain from the root; for a private root or a lab, set dns.trust_anchors to the DS of its top zone')];
    case 'insecure':
      return [ok('dnssec', subject, c.hasDnskey
        ? `not signed for validators: the zone has DNSKEY records, but ${c.reason}`
        : `not signed (${c.reason})`)];
    case 'bogus':
      if (f.servers.length === 0) return [bogusResult(subject, f.zone, c.bogus)];
      break;
    case 'secure':
      break;
  }
  const results: CheckResult[] = [];
  if (f.nameserverError !== undefined) {
    results.push(fail('dnssec', subject, `the nameservers of ${f.zone} could not be looked up: ${messageOf(f.nameserverError)}`, 'see the zone check'));
  }
  let soonest: { at: number; record: string; keyTag: number; server: string } | undefined;
  for (const s of f.servers) {
    const where = label(s);
    if (s.error !== undefined) {
      results.push(fail('dnssec', subject, `${where} did not answer the DNSSEC queries: ${messageOf(s.error)}`, 'see the nameserver checks'));
      continue;
    }
    const keys = s.keys;
    if (keys && keys.ok === false) {
      results.push(bogusResult(subject, f.zone, { ...keys.bogus, server: where }));
      continue;
    }
    for (const r of s.records) {
      const v = r.verdict;
      if (!v.ok) {
        const keyTag = 'keyTag' in v.problem ? v.problem.keyTag : undefined;
        results.push(bogusResult(subject, f.zone, { record: r.record, server: where, message: `${r.record}: ${describeRrsetProblem(v.problem)}`, ...(keyTag === undefined ? {} : { keyTag }) }));
        continue;
      }
      const at = v.rrsig.expiration;
      if (!soonest || at < soonest.at) soonest = { at, record: r.record, keyTag: v.rrsig.keyTag, server: where };
    }
  }
  if (results.length > 0) return results;
  const keys = c.status === 'secure' ? c.keys : [];
  const path = c.status === 'secure' ? c.path.join(' → ') : '';
  const servers = [...new Set(f.servers.map((s) => s.nameserver))].join(', ');
  const details = f.servers.flatMap((s) => s.records.map((r) => `${label(s)}: ${r.record} ${r.verdict.ok ? `signed by key tag ${r.verdict.rrsig.keyTag} until ${formatSigTime(r.verdict.rrsig.expiration)}` : 'bogus'}`));
  if (soonest && soonest.at * 1000 - nowMs < EXPIRY_WARNING_DAYS * 86_400_000) {
    return [warn('dnssec', subject,
      `signed and valid, but the RRSIG over ${soonest.record} by key tag ${soonest.keyTag} on ${soonest.server} expires at ${formatSigTime(soonest.at)}, within ${EXPIRY_WARNING_DAYS} days`,
      `make sure the signer re-signs ${f.zone} well before signatures expire (BIND: signatures-validity of more than ${EXPIRY_WARNING_DAYS + 7} days, signatures-refresh well below it); a validating CA answers SERVFAIL once they expire`,
      details)];
  }
  const until = soonest ? `; signatures valid until ${formatSigTime(soonest.at)} or later` : '';
  return [ok('dnssec', subject, `signed: the chain ${path} validates (${keyInfo(keys)}) on ${servers}${until}`, details)];
}

// ---------------------------------------------------------------------------------------------
// The challenge names: denial of existence before the probe, the probe's RRSIG during it.

export interface NameCheck {
  server: ServerRef;
  error?: unknown;
  verdict?: { ok: true; how: string } | { ok: false; record: string; keyTag?: number; message: string };
}

export interface NameDnssecFacts {
  fqdn: string;
  zone: string;
  checks: NameCheck[];
}

function keysFor(f: DnssecZoneFacts, s: ServerRef): Dnskey[] {
  const own = f.servers.find((x) => x.nameserver === s.nameserver && formatServer(x.address) === formatServer(s.address))?.keys;
  if (own && own.ok === true) return own.keys;
  return f.chain.status === 'secure' ? f.chain.keys : [];
}

function fromRrset(record: string, v: RrsetVerdict, how: string): NameCheck['verdict'] {
  if (v.ok) return { ok: true, how };
  const keyTag = 'keyTag' in v.problem ? v.problem.keyTag : undefined;
  return { ok: false, record, message: `${record}: ${describeRrsetProblem(v.problem)}`, ...(keyTag === undefined ? {} : { keyTag }) };
}

function fromDenial(v: DenialVerdict, fqdn: string): NameCheck['verdict'] {
  if (v.ok) return { ok: true, how: `${v.what === 'nxdomain' ? 'does not exist' : 'has no TXT record'}, proven with ${v.proof}` };
  return { ok: false, record: v.record ?? `NSEC for ${fqdn}`, message: v.message, ...(v.keyTag === undefined ? {} : { keyTag: v.keyTag }) };
}

/** What one nameserver's TXT answer at `fqdn` proves: a signed TXT set, a signed wildcard CNAME, or a validated denial. */
export function judgeTxtAnswer(reply: SignedReply, fqdn: string, zone: string, keys: Dnskey[], nowSeconds: number): NameCheck['verdict'] {
  if (rrsetAt(reply.answers, fqdn, RRType.TXT).rrset.length > 0) {
    return fromRrset(`TXT ${fqdn}`, verifyRrset(reply.answers, fqdn, RRType.TXT, keys, zone, nowSeconds), 'the TXT record set is signed');
  }
  const cname = rrsetAt(reply.answers, fqdn, RRType.CNAME);
  if (cname.rrset.length > 0) {
    const v = verifyRrset(reply.answers, fqdn, RRType.CNAME, keys, zone, nowSeconds);
    if (!v.ok || v.rrsig.labels >= labelCount(fqdn)) return fromRrset(`CNAME ${fqdn}`, v, 'the CNAME is signed');
    const expansion = verifyWildcardExpansion(fqdn, v.rrsig.labels, reply.authorities, keys, zone, nowSeconds);
    return expansion.ok ? { ok: true, how: `a signed wildcard CNAME, proven with ${expansion.proof}` } : fromDenial(expansion, fqdn);
  }
  if (reply.rcode !== RCode.NOERROR && reply.rcode !== RCode.NXDOMAIN) return { ok: false, record: `TXT ${fqdn}`, message: `answered ${rcodeName(reply.rcode)}` };
  return fromDenial(verifyDenial(fqdn, RRType.TXT, reply.authorities, keys, zone, nowSeconds), fqdn);
}

async function checkName(deps: DnssecDeps, ask: SignedAsk, f: DnssecZoneFacts, fqdn: string, accept: (reply: SignedReply) => boolean = () => true): Promise<NameDnssecFacts> {
  const nowSeconds = Math.floor(deps.now() / 1000);
  const checks = await Promise.all(
    f.servers.map(async (s): Promise<NameCheck> => {
      const server = { nameserver: s.nameserver, address: s.address };
      try {
        const reply = await ask(s.address, fqdn, RRType.TXT, { recursive: false });
        if (!accept(reply)) return { server };
        return { server, verdict: judgeTxtAnswer(reply, fqdn, f.zone, keysFor(f, s), nowSeconds) };
      } catch (error) {
        return { server, error };
      }
    }),
  );
  return { fqdn, zone: f.zone, checks };
}

export function evaluateDenial(f: NameDnssecFacts): CheckResult[] {
  // No nameserver to ask: the zone line already says why.
  if (f.checks.length === 0) return [];
  const failures = f.checks.flatMap((c): CheckResult[] => {
    if (c.error !== undefined) return [fail('dnssec', f.fqdn, `${label(c.server)} did not answer: ${messageOf(c.error)}`, 'see the nameserver checks')];
    if (c.verdict && !c.verdict.ok) {
      const tag = c.verdict.keyTag === undefined || c.verdict.message.includes(`key tag ${c.verdict.keyTag}`) ? '' : ` (key tag ${c.verdict.keyTag})`;
      return [fail('dnssec', f.fqdn, `${c.verdict.message}${tag} on ${label(c.server)}: the CA's validating resolver will answer SERVFAIL`, fixFor({ record: c.verdict.record, message: c.verdict.message }, f.zone))];
    }
    return [];
  });
  if (failures.length > 0) return failures;
  const how = [...new Set(f.checks.flatMap((c) => (c.verdict?.ok ? [c.verdict.how] : [])))].join('; ');
  return [ok('dnssec', f.fqdn, `${how} on ${[...new Set(f.checks.map((c) => c.server.nameserver))].join(', ')}`)];
}

export function evaluateProbeSignature(f: NameDnssecFacts, value: string): CheckResult[] {
  const unsigned = f.checks.filter((c) => c.verdict && !c.verdict.ok);
  const unanswered = f.checks.filter((c) => c.error !== undefined);
  if (unsigned.length > 0) {
    const first = unsigned[0] as NameCheck;
    const v = first.verdict as { ok: false; record: string; message: string };
    const where = unsigned.map((c) => label(c.server)).join(', ');
    const noSig = /no RRSIG/.test(v.message);
    return [fail('dnssec', f.fqdn,
      noSig
        ? `the server does not sign dynamic updates: the CA will see a bogus answer (the probe's TXT ${f.fqdn} has no RRSIG on ${where})`
        : `the probe's ${v.message} on ${where}: the CA will see a bogus answer`,
      `let the primary sign what it receives by UPDATE (BIND: dnssec-policy with inline-signing, the zone's private keys readable in its key-directory); a zone signed offline cannot take challenge records: delegate _acme-challenge by CNAME to an unsigned or online-signed zone`)];
  }
  if (unanswered.length > 0) {
    return [warn('dnssec', f.fqdn, `the probe's RRSIG could not be checked on ${unanswered.map((c) => label(c.server)).join(', ')}: ${messageOf(unanswered[0]?.error)}`, 'see the nameserver checks')];
  }
  const checked = f.checks.filter((c) => c.verdict?.ok);
  if (checked.length === 0) return [];
  return [ok('dnssec', f.fqdn, `the probe's TXT "${value}" carried a valid RRSIG on ${[...new Set(checked.map((c) => c.server.nameserver))].join(', ')}: updates are signed`)];
}

// ---------------------------------------------------------------------------------------------
// The run: what check-dns wires in.

export interface DnssecRun {
  /** Phase 1 results: the zones and the denial of every challenge name. */
  results: Promise<CheckResult[]>;
  /** During the write probe, once every nameserver serves the value. */
  probe(record: TxtRecord): Promise<void>;
  /** Phase 2 results (the probes). */
  probeResults(): CheckResult[];
}

export function startDnssec(deps: DnssecDeps, challenges: Promise<ChallengeFacts[]>): DnssecRun {
  const zoneOf = new Map<string, Promise<string | undefined>>();
  const zoneFacts = new Map<string, Promise<DnssecZoneFacts>>();
  const facts = (zone: string): Promise<DnssecZoneFacts> => {
    let found = zoneFacts.get(zone);
    if (!found) {
      found = gatherDnssecZone(deps, zone);
      zoneFacts.set(zone, found);
    }
    return found;
  };
  const zoneFor = (name: string): Promise<string | undefined> => {
    let z = zoneOf.get(name);
    if (!z) {
      // With CD set, so that a validating resolver still names the zone of a bogus name; a name whose
      // zone cannot be found is reported by the zone check.
      z = findSignedZone({ ask: deps.ask, resolvers: deps.resolvers, anchors: [], now: deps.now }, name)
        .catch(() => undefined)
        .then((found) => found ?? findZone(deps.query, deps.resolvers, name, { recursionDesired: true }).catch(() => undefined));
      zoneOf.set(name, z);
    }
    return z;
  };
  // By probe name, reported in the order of the challenge names (the probes finish in any order).
  const probes = new Map<string, CheckResult[]>();
  let order: string[] = [];
  const results = challenges.then(async (found) => {
    const names = [...new Set(found.flatMap((c) => [c.name, ...(c.target ? [c.target.fqdn] : [])]))];
    const targets = [...new Set(found.flatMap((c) => (c.target ? [c.target.fqdn] : [])))];
    order = targets;
    const zones = [...new Set((await Promise.all(names.map(zoneFor))).filter((z): z is string => z !== undefined))];
    const zoneResults = await Promise.all(zones.map(async (z) => evaluateDnssecZone(await facts(z), deps.now())));
    const denials = await Promise.all(
      targets.map(async (fqdn) => {
        const zone = await zoneFor(fqdn);
        if (zone === undefined) return [];
        const f = await facts(zone);
        // Only where the zone itself validates: otherwise its line already says what is wrong.
        if (f.chain.status !== 'secure' || evaluateDnssecZone(f, deps.now()).some((r) => r.status === 'fail')) return [];
        return evaluateDenial(await checkName(deps, deps.ask, f, fqdn));
      }),
    );
    return [...zoneResults.flat(), ...denials.flat()];
  });
  return {
    results,
    async probe(record) {
      const zone = await zoneFor(record.fqdn);
      if (zone === undefined) return;
      const f = await facts(zone);
      if (f.chain.status !== 'secure') return;
      // Only the answers that carry the probe value: the propagation wait just saw it on every server.
      const carries = (reply: SignedReply): boolean =>
        rrsetAt(reply.answers, record.fqdn, RRType.TXT).rrset.some((r) => txtOf(r.rdata) === record.value);
      probes.set(record.fqdn, [...(probes.get(record.fqdn) ?? []), ...evaluateProbeSignature(await checkName(deps, deps.askFresh, f, record.fqdn, carries), record.value)]);
    },
    probeResults: () => [...probes].sort(([a], [b]) => order.indexOf(a) - order.indexOf(b)).flatMap(([, r]) => r),
  };
}

/** The value of TXT RDATA: its character-strings joined (as RFC 8555 §8.4 validation reads them). */
function txtOf(rdata: Buffer): string {
  let joined = '';
  for (let pos = 0; pos < rdata.length; pos += 1 + (rdata[pos] as number)) {
    joined += rdata.toString('utf8', pos + 1, pos + 1 + (rdata[pos] as number));
  }
  return joined;
}
