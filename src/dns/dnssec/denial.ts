/**
 * Authenticated denial of existence: NSEC (RFC 4035 §5.4) and NSEC3 (RFC 5155 §8) proofs that a
 * name does not exist (NXDOMAIN), that it has no record of a type (NODATA), or, for a DS question,
 * that the delegation is unsigned (NSEC3 opt-out). Every NSEC/NSEC3 used must verify with the zone's
 * keys; the proof logic itself is pure.
 */
import { createHash } from 'node:crypto';
import { encodeCanonicalName, RRType } from '../message.js';
import { base32hex, compareNames, covers, DnssecType, isAtOrBelow, NSEC3_OPT_OUT, parentName, parseNsec, parseNsec3, type Dnskey, type Nsec3 } from './records.js';
import { describeRrsetProblem, verifyRrset, type RrsetProblem } from './rrset.js';
import type { SignedRecord } from './wire.js';

/** RFC 9276 §3.2: validators may treat more iterations as insecure; beyond this the proof is refused. */
export const MAX_NSEC3_ITERATIONS = 150;

export type DenialVerdict =
  | { ok: true; proof: 'NSEC' | 'NSEC3'; what: 'nxdomain' | 'nodata' | 'opt-out' }
  | { ok: false; message: string; record?: string; keyTag?: number };

/** RFC 5155 §5: IH(salt, x, 0) = H(x | salt); IH(salt, x, k) = H(IH(salt, x, k-1) | salt). */
export function nsec3Hash(name: string, salt: Buffer, iterations: number): string {
  let digest = createHash('sha1').update(encodeCanonicalName(name)).update(salt).digest();
  for (let i = 0; i < iterations; i++) digest = createHash('sha1').update(digest).update(salt).digest();
  return base32hex(digest);
}

interface Verified<T> {
  owner: string;
  data: T;
}

function problemOf(record: string, problem: RrsetProblem): DenialVerdict {
  const keyTag = 'keyTag' in problem ? problem.keyTag : undefined;
  return { ok: false, message: `${record}: ${describeRrsetProblem(problem)}`, record, ...(keyTag === undefined ? {} : { keyTag }) };
}

/** Ancestors of name up to and including zone, nearest first ("a.b.zone" -> ["b.zone", "zone"]). */
function ancestors(name: string, zone: string): string[] {
  const out: string[] = [];
  let current = name;
  while (current !== zone && current !== '') {
    current = parentName(current);
    out.push(current);
    if (!isAtOrBelow(current, zone)) break;
  }
  return out.filter((a) => isAtOrBelow(a, zone));
}

export function verifyDenial(
  qname: string,
  qtype: number,
  authorities: SignedRecord[],
  keys: Dnskey[],
  zone: string,
  nowSeconds: number,
): DenialVerdict {
  const nsecOwners = [...new Set(authorities.filter((r) => r.type === DnssecType.NSEC).map((r) => r.name))];
  const nsec3Owners = [...new Set(authorities.filter((r) => r.type === DnssecType.NSEC3).map((r) => r.name))];
  if (nsecOwners.length === 0 && nsec3Owners.length === 0) {
    return { ok: false, message: `the answer carries no NSEC or NSEC3 record: the denial of ${qname} cannot be validated` };
  }
  if (nsecOwners.length > 0) {
    const nsecs: Verified<ReturnType<typeof parseNsec>>[] = [];
    for (const owner of nsecOwners) {
      const v = verifyRrset(authorities, owner, DnssecType.NSEC, keys, zone, nowSeconds);
      if (!v.ok) return problemOf(`NSEC ${owner}`, v.problem);
      nsecs.push({ owner, data: parseNsec((v.rrset[0] as SignedRecord).rdata) });
    }
    return nsecProof(qname, qtype, nsecs);
  }
  const nsec3s: Verified<Nsec3>[] = [];
  for (const owner of nsec3Owners) {
    const v = verifyRrset(authorities, owner, DnssecType.NSEC3, keys, zone, nowSeconds);
    if (!v.ok) return problemOf(`NSEC3 ${owner}`, v.problem);
    nsec3s.push({ owner, data: parseNsec3((v.rrset[0] as SignedRecord).rdata) });
  }
  return nsec3Proof(qname, qtype, nsec3s, zone);
}

function lacks(types: Set<number>, qtype: number): boolean {
  return !types.has(qtype) && !types.has(RRType.CNAME);
}

/** Pure NSEC proof over verified records. */
export function nsecProof(qname: string, qtype: number, nsecs: Verified<{ next: string; types: Set<number> }>[]): DenialVerdict {
  const match = nsecs.find((n) => n.owner === qname);
  if (match) {
    return lacks(match.data.types, qtype)
      ? { ok: true, proof: 'NSEC', what: 'nodata' }
      : { ok: false, message: `NSEC ${qname} lists the type that was denied`, record: `NSEC ${qname}` };
  }
  const cover = nsecs.find((n) => covers(n.owner, n.data.next, qname));
  if (!cover) return { ok: false, message: `no NSEC record covers ${qname}`, record: `NSEC for ${qname}` };
  // The closest encloser: the longest ancestor of qname shared with either end of the covering NSEC.
  const common = (a: string): string => {
    let c = qname;
    while (c !== '' && !isAtOrBelow(a, c)) c = parentName(c);
    return c;
  };
  const ce = [common(cover.owner), common(cover.data.next)].sort((a, b) => b.length - a.length)[0] as string;
  const wildcard = ce === '' ? '*' : `*.${ce}`;
  const wild = nsecs.find((n) => n.owner === wildcard);
  if (wild && lacks(wild.data.types, qtype)) return { ok: true, proof: 'NSEC', what: 'nodata' };
  if (nsecs.some((n) => covers(n.owner, n.data.next, wildcard)) || compareNames(wildcard, qname) === 0) {
    return { ok: true, proof: 'NSEC', what: 'nxdomain' };
  }
  return { ok: false, message: `no NSEC record proves that the wildcard ${wildcard} does not exist`, record: `NSEC for ${wildcard}` };
}

/** Pure NSEC3 proof over verified records (all of one zone, one parameter set). */
export function nsec3Proof(qname: string, qtype: number, nsec3s: Verified<Nsec3>[], zone: string): DenialVerdict {
  const first = nsec3s[0] as Verified<Nsec3>;
  const { salt, iterations, hashAlgorithm } = first.data;
  if (hashAlgorithm !== 1) return { ok: false, message: `NSEC3 hash algorithm ${hashAlgorithm} is not SHA-1`, record: `NSEC3 ${first.owner}` };
  if (iterations > MAX_NSEC3_ITERATIONS) {
    return { ok: false, message: `NSEC3 uses ${iterations} iterations; validators treat more than ${MAX_NSEC3_ITERATIONS} as insecure (RFC 9276)`, record: `NSEC3 ${first.owner}` };
  }
  const hashOf = (owner: string): string => owner.split('.')[0] ?? '';
  const hash = (name: string): string => nsec3Hash(name, salt, iterations);
  const matching = (name: string): Verified<Nsec3> | undefined => nsec3s.find((n) => hashOf(n.owner) === hash(name));
  const covering = (name: string): Verified<Nsec3> | undefined => {
    const h = hash(name);
    return nsec3s.find((n) => covers(hashOf(n.owner), n.data.next, h, (a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  };

  const exact = matching(qname);
  if (exact) {
    return lacks(exact.data.types, qtype)
      ? { ok: true, proof: 'NSEC3', what: 'nodata' }
      : { ok: false, message: `NSEC3 for ${qname} lists the type that was denied`, record: `NSEC3 ${exact.owner}` };
  }
  // Closest encloser proof (§8.3): the nearest ancestor with a matching NSEC3, the next closer name covered.
  let nextCloser = qname;
  for (const ancestor of ancestors(qname, zone)) {
    if (matching(ancestor)) {
      const cover = covering(nextCloser);
      if (!cover) return { ok: false, message: `no NSEC3 record covers ${nextCloser}`, record: `NSEC3 for ${nextCloser}` };
      if (qtype === DnssecType.DS && cover.data.flags & NSEC3_OPT_OUT) return { ok: true, proof: 'NSEC3', what: 'opt-out' };
      const wildcard = `*.${ancestor}`;
      const wild = matching(wildcard);
      if (wild && lacks(wild.data.types, qtype)) return { ok: true, proof: 'NSEC3', what: 'nodata' };
      if (covering(wildcard)) return { ok: true, proof: 'NSEC3', what: 'nxdomain' };
      return { ok: false, message: `no NSEC3 record proves that the wildcard ${wildcard} does not exist`, record: `NSEC3 for ${wildcard}` };
    }
    nextCloser = ancestor;
  }
  return { ok: false, message: `no NSEC3 record proves a closest encloser of ${qname}`, record: `NSEC3 for ${qname}` };
}

/**
 * A wildcard-synthesized answer (RFC 4035 §5.3.4): besides its valid RRSIG, NSEC or NSEC3 records must
 * show that the name itself does not exist (a covering NSEC, or an NSEC3 covering the next closer name).
 */
export function verifyWildcardExpansion(qname: string, rrsigLabels: number, authorities: SignedRecord[], keys: Dnskey[], zone: string, nowSeconds: number): DenialVerdict {
  const nsec = authorities.filter((r) => r.type === DnssecType.NSEC);
  const nsec3 = authorities.filter((r) => r.type === DnssecType.NSEC3);
  for (const owner of new Set([...nsec, ...nsec3].map((r) => r.name))) {
    const type = nsec.some((r) => r.name === owner) ? DnssecType.NSEC : DnssecType.NSEC3;
    const v = verifyRrset(authorities, owner, type, keys, zone, nowSeconds);
    if (!v.ok) return problemOf(`${type === DnssecType.NSEC ? 'NSEC' : 'NSEC3'} ${owner}`, v.problem);
  }
  if (nsec.some((r) => covers(r.name, parseNsec(r.rdata).next, qname))) return { ok: true, proof: 'NSEC', what: 'nxdomain' };
  const labels = qname.split('.');
  const nextCloser = labels.slice(labels.length - rrsigLabels - 1).join('.');
  for (const r of nsec3) {
    const data = parseNsec3(r.rdata);
    const h = nsec3Hash(nextCloser, data.salt, data.iterations);
    if (covers(r.name.split('.')[0] ?? '', data.next, h, (a, b) => (a < b ? -1 : a > b ? 1 : 0))) return { ok: true, proof: 'NSEC3', what: 'nxdomain' };
  }
  return { ok: false, message: `the wildcard answer for ${qname} comes without the NSEC/NSEC3 record that proves ${qname} itself does not exist`, record: `NSEC for ${qname}` };
}
