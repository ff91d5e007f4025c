/**
 * The chain of trust from a trust anchor down to a zone (RFC 4035 §5): the anchor's DNSKEY set
 * authenticated by the anchor, then at every zone cut the DS set signed by the parent, the child's
 * DNSKEY set authenticated by a DS, and so on; or the signed proof that a delegation has no DS, which
 * makes everything below it unsigned. The lookups go to the resolvers with DO and CD set.
 */
import type { ServerAddress, TrustAnchor } from '../../config/types.js';
import { messageOf } from '../../errors.js';
import { RCode, rcodeName, RRType } from '../message.js';
import { formatServer } from '../resolver.js';
import { verifyDenial } from './denial.js';
import { algorithmName, DNSKEY_ZONE, DnssecType, isAtOrBelow, parseDnskey, parseDs, type Dnskey, type Ds } from './records.js';
import { describeRrsetProblem, rrsetAt, verifyRrset, type RrsetProblem } from './rrset.js';
import { dsMatches, SUPPORTED_ALGORITHMS, SUPPORTED_DIGESTS } from './verify.js';
import type { SignedAsk, SignedRecord, SignedReply } from './wire.js';

/** What went wrong, where: the record, the key tag and the server, as a check line names them. */
export interface Bogus {
  /** "DS good.example", "DNSKEY example", "SOA good.example". */
  record: string;
  keyTag?: number;
  server: string;
  message: string;
}

/** What authenticates a zone's DNSKEY set: the DS set from its parent, or the trust anchor's keys. */
export type KeyTrust = { ds: Ds[] } | { keys: Dnskey[] };

export type KeySetVerdict = { ok: true; keys: Dnskey[]; by: Dnskey; expiration: number } | { ok: false; bogus: Omit<Bogus, 'server'> } | { ok: 'unsupported'; message: string };

export function dnskeysIn(records: SignedRecord[], zone: string): Dnskey[] {
  return records.filter((r) => r.name === zone && r.type === DnssecType.DNSKEY).map((r) => parseDnskey(r.rdata));
}

export function dsIn(records: SignedRecord[], name: string): Ds[] {
  return records.filter((r) => r.name === name && r.type === DnssecType.DS).map((r) => parseDs(r.rdata));
}

function rrsetBogus(record: string, problem: RrsetProblem): Omit<Bogus, 'server'> {
  const keyTag = 'keyTag' in problem ? problem.keyTag : 'keyTags' in problem ? problem.keyTags[0] : undefined;
  return { record, message: `${record}: ${describeRrsetProblem(problem)}`, ...(keyTag === undefined ? {} : { keyTag }) };
}

/**
 * A zone's DNSKEY set (from one reply) authenticated by DS records (from the parent or an anchor) or
 * by anchor DNSKEYs: a key the DS names (or the anchor key itself) must be in the set and sign it.
 */
export function authenticateKeySet(zone: string, answers: SignedRecord[], trust: KeyTrust, nowSeconds: number): KeySetVerdict {
  const keys = dnskeysIn(answers, zone).filter((k) => k.protocol === 3 && (k.flags & DNSKEY_ZONE) !== 0);
  const where = zone === '' ? '.' : zone;
  if (keys.length === 0) {
    return { ok: false, bogus: { record: `DNSKEY ${where}`, message: `DNSKEY ${where}: the zone serves no DNSKEY, but its parent has a DS for it` } };
  }
  let candidates: Dnskey[];
  if ('ds' in trust) {
    const usable = trust.ds.filter((d) => SUPPORTED_DIGESTS.includes(d.digestType) && SUPPORTED_ALGORITHMS.includes(d.algorithm));
    // RFC 4035 §5.2: a DS set with no usable digest or algorithm makes the zone unsigned for us.
    if (usable.length === 0) {
      const algs = [...new Set(trust.ds.map((d) => `${algorithmName(d.algorithm)}/digest ${d.digestType}`))].join(', ');
      return { ok: 'unsupported', message: `the DS records of ${where} use only ${algs}, which gxit-cert does not validate` };
    }
    candidates = keys.filter((k) => usable.some((d) => dsMatches(zone, d, k)));
    if (candidates.length === 0) {
      const tags = [...new Set(usable.map((d) => d.keyTag))];
      const served = keys.map((k) => k.keyTag).join(', ');
      return {
        ok: false,
        bogus: {
          record: `DS ${where}`,
          keyTag: tags[0] as number,
          message: `DS ${where} names key tag ${tags.join(', ')}, but no DNSKEY of ${where} matches it (the zone serves key tag ${served})`,
        },
      };
    }
  } else {
    candidates = keys.filter((k) => trust.keys.some((a) => a.rdata.equals(k.rdata)));
    if (candidates.length === 0) {
      const tags = trust.keys.map((k) => k.keyTag).join(', ');
      return { ok: false, bogus: { record: `DNSKEY ${where}`, keyTag: trust.keys[0]?.keyTag as number, message: `DNSKEY ${where}: the trust anchor key tag ${tags} is not in the zone's DNSKEY set` } };
    }
  }
  const v = verifyRrset(answers, zone, DnssecType.DNSKEY, candidates, zone, nowSeconds);
  if (!v.ok) {
    const problem = v.problem.kind === 'unknown-key' ? { kind: 'unsigned' as const } : v.problem;
    const bogus = rrsetBogus(`DNSKEY ${where}`, problem);
    if (v.problem.kind === 'unknown-key' || v.problem.kind === 'unsigned') {
      bogus.keyTag = candidates[0]?.keyTag as number;
      bogus.message = `DNSKEY ${where}: no valid RRSIG by key tag ${candidates.map((k) => k.keyTag).join(', ')}, the key the DS names`;
    }
    return { ok: false, bogus };
  }
  return { ok: true, keys, by: v.key, expiration: v.rrsig.expiration };
}

export type ChainResult =
  | { status: 'secure'; zone: string; anchor: string; trust: KeyTrust; keys: Dnskey[]; path: string[] }
  | { status: 'insecure'; zone: string; anchor?: string; delegation?: string; reason: string; hasDnskey: boolean }
  /** `ds`: the zone's DS set when only its DNSKEY set failed (so each nameserver can be held against it). */
  | { status: 'bogus'; zone: string; bogus: Bogus; ds?: Ds[] }
  | { status: 'error'; zone: string; message: string; error: unknown };

export interface ChainDeps {
  ask: SignedAsk;
  resolvers: ServerAddress[];
  anchors: readonly TrustAnchor[];
  now: () => number;
}

async function askResolvers(deps: ChainDeps, name: string, type: number): Promise<{ reply: SignedReply; server: ServerAddress }> {
  let last: unknown = new Error('no lookup servers configured');
  for (const server of deps.resolvers) {
    try {
      return { reply: await deps.ask(server, name, type, { recursive: true }), server };
    } catch (error) {
      last = error;
    }
  }
  throw last;
}

/** NOERROR or NXDOMAIN: an answer, not a refusal or a failure. */
function isAnswer(reply: SignedReply): boolean {
  return reply.rcode === RCode.NOERROR || reply.rcode === RCode.NXDOMAIN;
}

/** Names from just below `top` down to `zone` ("a.b.c" under "c" -> ["b.c", "a.b.c"]). */
function namesBetween(top: string, zone: string): string[] {
  const labels = zone === '' ? [] : zone.split('.');
  const topCount = top === '' ? 0 : top.split('.').length;
  const out: string[] = [];
  for (let n = topCount + 1; n <= labels.length; n++) out.push(labels.slice(labels.length - n).join('.'));
  return out;
}

/** The zone of a name: the longest suffix with its own SOA, asked of the resolvers with CD set. */
export async function findSignedZone(deps: ChainDeps, name: string): Promise<string | undefined> {
  const candidates = namesBetween('', name).reverse();
  const apex = await Promise.all(
    candidates.map((c) => askResolvers(deps, c, RRType.SOA).then(({ reply }) => reply.answers.some((r) => r.type === RRType.SOA && r.name === c), () => false)),
  );
  return candidates.find((_, i) => apex[i]);
}

export async function validateChain(deps: ChainDeps, zone: string): Promise<ChainResult> {
  const nowSeconds = Math.floor(deps.now() / 1000);
  const anchorOwner = deps.anchors
    .map((a) => a.owner)
    .filter((o) => isAtOrBelow(zone, o))
    .sort((a, b) => b.length - a.length)[0];
  try {
    // Unsigned in the sense of RFC 4035 §4.3 the cheap way: no DNSKEY at the apex and no DS for it.
    const [ownKeys, ownDs] = await Promise.all([askResolvers(deps, zone, DnssecType.DNSKEY), askResolvers(deps, zone, DnssecType.DS)]);
    const hasDnskey = dnskeysIn(ownKeys.reply.answers, zone).length > 0;
    if (!hasDnskey && dsIn(ownDs.reply.answers, zone).length === 0 && isAnswer(ownKeys.reply) && isAnswer(ownDs.reply)) {
      return { status: 'insecure', zone, reason: 'no DNSKEY at the zone, no DS for it', hasDnskey: false };
    }
    if (anchorOwner === undefined) {
      return { status: 'insecure', zone, reason: 'the zone is not below any configured trust anchor', hasDnskey };
    }
    const anchors = deps.anchors.filter((a) => a.owner === anchorOwner);
    // Zone cuts between the anchor and the zone: the names that have their own SOA.
    const between = namesBetween(anchorOwner, zone).filter((n) => n !== zone);
    const soas = await Promise.all(between.map((n) => askResolvers(deps, n, RRType.SOA).then(({ reply }) => reply.answers.some((r) => r.type === RRType.SOA && r.name === n))));
    const cuts = [...between.filter((_, i) => soas[i]), zone];

    const top = await askResolvers(deps, anchorOwner, DnssecType.DNSKEY);
    if (!isAnswer(top.reply) || dnskeysIn(top.reply.answers, anchorOwner).length === 0) {
      const what = anchorOwner === '' ? 'the root' : anchorOwner;
      return {
        status: 'error',
        zone,
        message: `${formatServer(top.server)} did not give the DNSKEY set of ${what} (the trust anchor; it answered ${rcodeName(top.reply.rcode)}): the chain to ${zone} cannot be followed`,
        error: undefined,
      };
    }
    // The anchor's DNSKEY set is always signed: without any RRSIG the resolver drops DNSSEC records
    // (a stub that does not pass them on), and nothing below can be judged through it.
    if (rrsetAt(top.reply.answers, anchorOwner, DnssecType.DNSKEY).rrsigs.length === 0) {
      const what = anchorOwner === '' ? 'the root' : anchorOwner;
      return {
        status: 'error',
        zone,
        message: `${formatServer(top.server)} gave the DNSKEY set of ${what} (the trust anchor) without its RRSIG: it does not pass DNSSEC records on`,
        error: undefined,
      };
    }
    const trust: KeyTrust = anchors.some((a) => a.type === 'DS')
      ? { ds: anchors.filter((a) => a.type === 'DS').map((a) => parseDs(a.rdata)) }
      : { keys: anchors.map((a) => parseDnskey(a.rdata)) };
    const anchored = authenticateKeySet(anchorOwner, top.reply.answers, trust, nowSeconds);
    const topName = anchorOwner === '' ? '.' : anchorOwner;
    if (anchored.ok === 'unsupported') return { status: 'insecure', zone, anchor: topName, reason: anchored.message, hasDnskey: true };
    if (!anchored.ok) {
      return { status: 'bogus', zone, bogus: { ...anchored.bogus, server: formatServer(top.server), message: `${anchored.bogus.message} (checked against the trust anchor)` } };
    }
    let parent = anchorOwner;
    let parentKeys = anchored.keys;
    let zoneTrust: KeyTrust = trust;
    const path = [topName];
    for (const child of cuts) {
      if (child === anchorOwner) continue;
      const [dsReply, keyReply] = await Promise.all([askResolvers(deps, child, DnssecType.DS), askResolvers(deps, child, DnssecType.DNSKEY)]);
      const server = formatServer(dsReply.server);
      const dsSet = dsIn(dsReply.reply.answers, child);
      if (dsSet.length === 0) {
        if (dsReply.reply.rcode !== RCode.NOERROR && dsReply.reply.rcode !== RCode.NXDOMAIN) {
          return { status: 'error', zone, message: `the DS query for ${child} was answered ${rcodeName(dsReply.reply.rcode)} by ${server}`, error: undefined };
        }
        const denial = verifyDenial(child, DnssecType.DS, dsReply.reply.authorities, parentKeys, parent, nowSeconds);
        const hasDnskey = dnskeysIn(keyReply.reply.answers, child).length > 0;
        if (denial.ok) {
          return { status: 'insecure', zone, anchor: topName, delegation: child, reason: `${parent === '' ? 'the root' : parent} proves with ${denial.proof} that ${child} has no DS record`, hasDnskey };
        }
        return {
          status: 'bogus',
          zone,
          bogus: { record: denial.record ?? `DS ${child}`, server, message: `DS ${child}: no DS record and no valid proof of its absence: ${denial.message}`, ...(denial.keyTag === undefined ? {} : { keyTag: denial.keyTag }) },
        };
      }
      const dsCheck = verifyRrset(dsReply.reply.answers, child, DnssecType.DS, parentKeys, parent, nowSeconds);
      if (!dsCheck.ok) return { status: 'bogus', zone, bogus: { ...rrsetBogus(`DS ${child}`, dsCheck.problem), server } };
      const keys = authenticateKeySet(child, keyReply.reply.answers, { ds: dsSet }, nowSeconds);
      if (keys.ok === 'unsupported') return { status: 'insecure', zone, anchor: topName, delegation: child, reason: keys.message, hasDnskey: true };
      if (!keys.ok) return { status: 'bogus', zone, bogus: { ...keys.bogus, server: formatServer(keyReply.server) }, ...(child === zone ? { ds: dsSet } : {}) };
      parent = child;
      parentKeys = keys.keys;
      zoneTrust = { ds: dsSet };
      path.push(child);
    }
    return { status: 'secure', zone, anchor: topName, trust: zoneTrust, keys: parentKeys, path };
  } catch (error) {
    return { status: 'error', zone, message: messageOf(error), error };
  }
}
