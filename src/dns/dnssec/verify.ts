/**
 * Signature and digest checks with node:crypto: RRSIG over a canonical RRset (RFC 4034 §3.1.8.1, §6)
 * for algorithms 8, 10 (RFC 5702), 13, 14 (RFC 6605) and 15 (RFC 8080), and DS digests 1, 2 (RFC 4509)
 * and 4 (RFC 6605).
 */
import { createHash, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { encodeCanonicalName } from '../message.js';
import { labelCount, type Dnskey, type Ds, type Rrsig } from './records.js';
import type { SignedRecord } from './wire.js';

export const SUPPORTED_ALGORITHMS: readonly number[] = [8, 10, 13, 14, 15];
export const SUPPORTED_DIGESTS: readonly number[] = [1, 2, 4];

const DIGEST_HASH: Readonly<Record<number, string>> = { 1: 'sha1', 2: 'sha256', 4: 'sha384' };

/** RFC 4034 §5.1.4: digest = hash(canonical owner name | DNSKEY RDATA). */
export function dsDigest(owner: string, key: Dnskey, digestType: number): Buffer | undefined {
  const hash = DIGEST_HASH[digestType];
  if (!hash) return undefined;
  return createHash(hash).update(encodeCanonicalName(owner)).update(key.rdata).digest();
}

export function dsMatches(owner: string, ds: Ds, key: Dnskey): boolean {
  if (ds.keyTag !== key.keyTag || ds.algorithm !== key.algorithm) return false;
  const digest = dsDigest(owner, key, ds.digestType);
  return digest !== undefined && digest.equals(ds.digest);
}

const b64url = (b: Buffer): string => b.toString('base64url');

/** The DNSKEY's public key as a KeyObject; undefined for an algorithm we do not implement or a malformed key. */
export function publicKeyOf(key: Dnskey): KeyObject | undefined {
  const k = key.publicKey;
  try {
    switch (key.algorithm) {
      case 8:
      case 10: {
        // RFC 3110 §2: exponent length in one octet, or 0 and then two octets.
        const long = k[0] === 0;
        const expLen = long ? k.readUInt16BE(1) : (k[0] as number);
        const start = long ? 3 : 1;
        const e = k.subarray(start, start + expLen);
        const n = k.subarray(start + expLen);
        if (e.length !== expLen || n.length === 0) return undefined;
        return createPublicKey({ key: { kty: 'RSA', n: b64url(n), e: b64url(e) }, format: 'jwk' });
      }
      case 13:
      case 14: {
        const size = key.algorithm === 13 ? 32 : 48;
        if (k.length !== 2 * size) return undefined;
        const crv = key.algorithm === 13 ? 'P-256' : 'P-384';
        return createPublicKey({ key: { kty: 'EC', crv, x: b64url(k.subarray(0, size)), y: b64url(k.subarray(size)) }, format: 'jwk' });
      }
      case 15:
        if (k.length !== 32) return undefined;
        return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(k) }, format: 'jwk' });
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

/**
 * The data an RRSIG signs: its RDATA without the signature, then each RR of the set as owner | type |
 * class | original TTL | RDLENGTH | RDATA, sorted by RDATA, duplicates dropped. A wildcard expansion
 * (fewer RRSIG labels than the owner has) is signed under "*.<the rightmost labels>" (§3.1.8.1).
 */
export function signedData(rrsig: Rrsig, rrset: SignedRecord[]): Buffer {
  const first = rrset[0];
  if (!first) return rrsig.signedPart;
  let owner = first.name;
  const labels = owner === '' ? [] : owner.split('.');
  if (labelCount(owner) > rrsig.labels) owner = ['*', ...labels.slice(labels.length - rrsig.labels)].join('.');
  const ownerWire = encodeCanonicalName(owner);
  const unique = [...new Map(rrset.map((rr) => [rr.rdata.toString('hex'), rr.rdata])).values()].sort(Buffer.compare);
  const parts: Buffer[] = [rrsig.signedPart];
  for (const rdata of unique) {
    const fixed = Buffer.alloc(10);
    fixed.writeUInt16BE(first.type, 0);
    fixed.writeUInt16BE(first.class, 2);
    fixed.writeUInt32BE(rrsig.originalTtl, 4);
    fixed.writeUInt16BE(rdata.length, 8);
    parts.push(ownerWire, fixed, rdata);
  }
  return Buffer.concat(parts);
}

export function verifySignature(rrsig: Rrsig, rrset: SignedRecord[], key: Dnskey): boolean {
  if (rrsig.algorithm !== key.algorithm || rrsig.keyTag !== key.keyTag) return false;
  const publicKey = publicKeyOf(key);
  if (!publicKey) return false;
  const data = signedData(rrsig, rrset);
  try {
    switch (rrsig.algorithm) {
      case 8:
        return cryptoVerify('sha256', data, publicKey, rrsig.signature);
      case 10:
        return cryptoVerify('sha512', data, publicKey, rrsig.signature);
      case 13:
        return cryptoVerify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, rrsig.signature);
      case 14:
        return cryptoVerify('sha384', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, rrsig.signature);
      case 15:
        return cryptoVerify(null, data, publicKey, rrsig.signature);
      default:
        return false;
    }
  } catch {
    return false;
  }
}

/** RFC 4034 §3.1.5 / RFC 1982: the 32-bit times are compared with serial arithmetic around `now`. */
export function serialTime(value: number, nowSeconds: number): number {
  const diff = (value - (nowSeconds >>> 0) + 2 ** 32) % 2 ** 32;
  return diff >= 2 ** 31 ? nowSeconds + diff - 2 ** 32 : nowSeconds + diff;
}

export type TimeVerdict = 'valid' | 'expired' | 'not-yet-valid';

export function signatureTime(rrsig: Rrsig, nowSeconds: number): TimeVerdict {
  if (serialTime(rrsig.inception, nowSeconds) > nowSeconds) return 'not-yet-valid';
  if (serialTime(rrsig.expiration, nowSeconds) < nowSeconds) return 'expired';
  return 'valid';
}
