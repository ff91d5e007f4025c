/**
 * One RRset checked against a set of keys: which RRSIG over it verifies, and if none does, why not
 * (no RRSIG, RRSIGs by keys not in the set, a bad signature, outside its validity period). The
 * reasons name the key tag, so that a failed check can say which key the server used.
 */
import { parseRrsig, type Dnskey, type Rrsig } from './records.js';
import { SUPPORTED_ALGORITHMS, signatureTime, verifySignature } from './verify.js';
import type { SignedRecord } from './wire.js';

const RRSIG = 46;

export type RrsetProblem =
  | { kind: 'missing' }
  | { kind: 'unsigned' }
  | { kind: 'unknown-key'; keyTags: number[] }
  | { kind: 'unsupported-algorithm'; algorithms: number[] }
  | { kind: 'bad-signature'; keyTag: number }
  | { kind: 'expired'; keyTag: number; expiration: number }
  | { kind: 'not-yet-valid'; keyTag: number; inception: number };

export type RrsetVerdict =
  | { ok: true; rrset: SignedRecord[]; rrsig: Rrsig; key: Dnskey }
  | { ok: false; rrset: SignedRecord[]; problem: RrsetProblem };

/** The records of one type at one name, and the RRSIGs that cover that type there. */
export function rrsetAt(records: SignedRecord[], name: string, type: number): { rrset: SignedRecord[]; rrsigs: Rrsig[] } {
  const rrset = records.filter((r) => r.name === name && r.type === type);
  const rrsigs: Rrsig[] = [];
  for (const r of records) {
    if (r.name !== name || r.type !== RRSIG) continue;
    try {
      const sig = parseRrsig(r.rdata);
      if (sig.typeCovered === type) rrsigs.push(sig);
    } catch {
      // A malformed RRSIG verifies nothing; the others may.
    }
  }
  return { rrset, rrsigs };
}

/**
 * The RRset verifies when one of its RRSIGs, made by a key of `keys` for `signer`, verifies and is
 * within its validity period at `nowSeconds`. With several, the one that expires last is reported.
 */
export function verifyRrset(records: SignedRecord[], name: string, type: number, keys: Dnskey[], signer: string, nowSeconds: number): RrsetVerdict {
  const { rrset, rrsigs } = rrsetAt(records, name, type);
  if (rrset.length === 0) return { ok: false, rrset, problem: { kind: 'missing' } };
  const mine = rrsigs.filter((s) => s.signer === signer);
  if (mine.length === 0) return { ok: false, rrset, problem: { kind: 'unsigned' } };
  let problem: RrsetProblem | undefined;
  let best: { rrsig: Rrsig; key: Dnskey } | undefined;
  for (const rrsig of mine) {
    const candidates = keys.filter((k) => k.keyTag === rrsig.keyTag && k.algorithm === rrsig.algorithm);
    if (candidates.length === 0) continue;
    const key = candidates.find((k) => verifySignature(rrsig, rrset, k));
    if (!key) {
      problem ??= { kind: 'bad-signature', keyTag: rrsig.keyTag };
      continue;
    }
    const time = signatureTime(rrsig, nowSeconds);
    if (time === 'expired') {
      problem = { kind: 'expired', keyTag: rrsig.keyTag, expiration: rrsig.expiration };
      continue;
    }
    if (time === 'not-yet-valid') {
      problem = { kind: 'not-yet-valid', keyTag: rrsig.keyTag, inception: rrsig.inception };
      continue;
    }
    if (!best || rrsig.expiration - best.rrsig.expiration > 0) best = { rrsig, key };
  }
  if (best) return { ok: true, rrset, ...best };
  if (problem) return { ok: false, rrset, problem };
  const unsupported = [...new Set(mine.map((s) => s.algorithm).filter((a) => !SUPPORTED_ALGORITHMS.includes(a)))];
  if (unsupported.length === mine.length || (unsupported.length > 0 && mine.every((s) => unsupported.includes(s.algorithm)))) {
    return { ok: false, rrset, problem: { kind: 'unsupported-algorithm', algorithms: unsupported } };
  }
  return { ok: false, rrset, problem: { kind: 'unknown-key', keyTags: [...new Set(mine.map((s) => s.keyTag))] } };
}

/** "2026-12-08 09:01 UTC" for an RRSIG time. */
export function formatSigTime(seconds: number): string {
  return `${new Date(seconds * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** One sentence for a problem, e.g. "the RRSIG by key 12345 expired at 2026-12-01 10:00 UTC". */
export function describeRrsetProblem(problem: RrsetProblem): string {
  switch (problem.kind) {
    case 'missing':
      return 'the record set is missing';
    case 'unsigned':
      return 'it has no RRSIG';
    case 'unknown-key':
      return `its RRSIG names key tag ${problem.keyTags.join(', ')}, which is not among the zone's validated DNSKEYs`;
    case 'unsupported-algorithm':
      return `it is signed only with algorithm ${problem.algorithms.join(', ')}, which gxit-cert does not validate`;
    case 'bad-signature':
      return `the RRSIG by key tag ${problem.keyTag} does not verify`;
    case 'expired':
      return `the RRSIG by key tag ${problem.keyTag} expired at ${formatSigTime(problem.expiration)}`;
    case 'not-yet-valid':
      return `the RRSIG by key tag ${problem.keyTag} is valid only from ${formatSigTime(problem.inception)}`;
  }
}
