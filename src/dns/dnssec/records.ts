/**
 * DNSSEC record data (RFC 4034, RFC 5155): decoding of DNSKEY, DS, RRSIG, NSEC and NSEC3 RDATA, the
 * key tag, canonical name order and the type bitmaps. Pure functions over bytes; the RDATA given here
 * is already in canonical form (see wire.ts), so names inside it are uncompressed.
 */
import { encodeCanonicalName } from '../message.js';

export const DnssecType = { DS: 43, RRSIG: 46, NSEC: 47, DNSKEY: 48, NSEC3: 50, NSEC3PARAM: 51 } as const;

/** Algorithm numbers (RFC 8624) with the names a person reads in a zone file. */
export const ALGORITHM_NAMES: Readonly<Record<number, string>> = {
  5: 'RSASHA1',
  7: 'RSASHA1-NSEC3-SHA1',
  8: 'RSASHA256',
  10: 'RSASHA512',
  13: 'ECDSAP256SHA256',
  14: 'ECDSAP384SHA384',
  15: 'ED25519',
  16: 'ED448',
};

export function algorithmName(algorithm: number): string {
  return ALGORITHM_NAMES[algorithm] ?? `algorithm ${algorithm}`;
}

export interface Dnskey {
  flags: number;
  protocol: number;
  algorithm: number;
  publicKey: Buffer;
  keyTag: number;
  /** The whole RDATA (what a DS digest and the key tag are computed over). */
  rdata: Buffer;
}

export interface Ds {
  keyTag: number;
  algorithm: number;
  digestType: number;
  digest: Buffer;
}

export interface Rrsig {
  typeCovered: number;
  algorithm: number;
  labels: number;
  originalTtl: number;
  /** Seconds since the epoch (RFC 4034 §3.1.5: 32-bit serial arithmetic around now). */
  expiration: number;
  inception: number;
  keyTag: number;
  signer: string;
  signature: Buffer;
  /** RDATA without the signature: the start of the signed data (RFC 4034 §3.1.8.1). */
  signedPart: Buffer;
}

export interface Nsec {
  /** Next owner name, lower case, no trailing dot. */
  next: string;
  types: Set<number>;
}

export interface Nsec3 {
  hashAlgorithm: number;
  flags: number;
  iterations: number;
  salt: Buffer;
  /** The next hashed owner name, in base32hex lower case (as the owner's first label is written). */
  next: string;
  types: Set<number>;
}

/** ZONE flag (bit 7) and SEP flag (bit 15) of a DNSKEY (RFC 4034 §2.1.1). */
export const DNSKEY_ZONE = 0x0100;
export const DNSKEY_SEP = 0x0001;
/** NSEC3 opt-out flag (RFC 5155 §3.1.2.1). */
export const NSEC3_OPT_OUT = 0x01;

export class RdataError extends Error {}

function need(rdata: Buffer, length: number, what: string): void {
  if (rdata.length < length) throw new RdataError(`${what} RDATA of ${rdata.length} octets is too short`);
}

/** An uncompressed name inside RDATA; returns it lower case and the offset after it. */
export function readPlainName(buf: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let pos = offset;
  for (;;) {
    if (pos >= buf.length) throw new RdataError('name runs past the end of the RDATA');
    const len = buf[pos] as number;
    if (len === 0) return { name: labels.join('.').toLowerCase(), end: pos + 1 };
    if (len > 63) throw new RdataError('compressed or invalid label in a name that must be uncompressed');
    if (pos + 1 + len > buf.length) throw new RdataError('label runs past the end of the RDATA');
    labels.push(buf.toString('latin1', pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
}

/** RFC 4034 Appendix B (every algorithm but the retired 1). */
export function keyTag(rdata: Buffer): number {
  let acc = 0;
  for (let i = 0; i < rdata.length; i++) acc += i & 1 ? (rdata[i] as number) : (rdata[i] as number) << 8;
  acc += (acc >> 16) & 0xffff;
  return acc & 0xffff;
}

export function parseDnskey(rdata: Buffer): Dnskey {
  need(rdata, 5, 'DNSKEY');
  return {
    flags: rdata.readUInt16BE(0),
    protocol: rdata[2] as number,
    algorithm: rdata[3] as number,
    publicKey: Buffer.from(rdata.subarray(4)),
    keyTag: keyTag(rdata),
    rdata,
  };
}

export function parseDs(rdata: Buffer): Ds {
  need(rdata, 5, 'DS');
  return { keyTag: rdata.readUInt16BE(0), algorithm: rdata[2] as number, digestType: rdata[3] as number, digest: Buffer.from(rdata.subarray(4)) };
}

export function parseRrsig(rdata: Buffer): Rrsig {
  need(rdata, 19, 'RRSIG');
  const { name: signer, end } = readPlainName(rdata, 18);
  return {
    typeCovered: rdata.readUInt16BE(0),
    algorithm: rdata[2] as number,
    labels: rdata[3] as number,
    originalTtl: rdata.readUInt32BE(4),
    expiration: rdata.readUInt32BE(8),
    inception: rdata.readUInt32BE(12),
    keyTag: rdata.readUInt16BE(16),
    signer,
    signature: Buffer.from(rdata.subarray(end)),
    // The signer's name in canonical (lower case) form, as §3.1.8.1 signs it.
    signedPart: Buffer.concat([rdata.subarray(0, 18), encodeCanonicalName(signer)]),
  };
}

/** RFC 4034 §4.1.2: window blocks of up to 32 octets. */
export function parseTypeBitmap(buf: Buffer, offset: number): Set<number> {
  const types = new Set<number>();
  let pos = offset;
  while (pos < buf.length) {
    if (pos + 2 > buf.length) throw new RdataError('type bitmap window runs past the end');
    const window = buf[pos] as number;
    const len = buf[pos + 1] as number;
    if (len < 1 || len > 32 || pos + 2 + len > buf.length) throw new RdataError('bad type bitmap window length');
    for (let i = 0; i < len; i++) {
      const byte = buf[pos + 2 + i] as number;
      for (let bit = 0; bit < 8; bit++) if (byte & (0x80 >> bit)) types.add(window * 256 + i * 8 + bit);
    }
    pos += 2 + len;
  }
  return types;
}

export function parseNsec(rdata: Buffer): Nsec {
  const { name, end } = readPlainName(rdata, 0);
  return { next: name, types: parseTypeBitmap(rdata, end) };
}

export function parseNsec3(rdata: Buffer): Nsec3 {
  need(rdata, 6, 'NSEC3');
  const saltLength = rdata[4] as number;
  need(rdata, 6 + saltLength, 'NSEC3');
  const hashLength = rdata[5 + saltLength] as number;
  const hashStart = 6 + saltLength;
  need(rdata, hashStart + hashLength, 'NSEC3');
  return {
    hashAlgorithm: rdata[0] as number,
    flags: rdata[1] as number,
    iterations: rdata.readUInt16BE(2),
    salt: Buffer.from(rdata.subarray(5, 5 + saltLength)),
    next: base32hex(rdata.subarray(hashStart, hashStart + hashLength)),
    types: parseTypeBitmap(rdata, hashStart + hashLength),
  };
}

const BASE32HEX = '0123456789abcdefghijklmnopqrstuv';

/** RFC 4648 §7 without padding, lower case: the spelling of NSEC3 owner labels (RFC 5155 §3.3). */
export function base32hex(bytes: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32HEX[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32HEX[(value << (5 - bits)) & 31];
  return out;
}

function labelsOf(name: string): string[] {
  return name === '' ? [] : name.split('.');
}

/** Labels of an owner name as RRSIG counts them (RFC 4034 §3.1.3: neither the root nor a leading "*"). */
export function labelCount(name: string): number {
  const labels = labelsOf(name);
  return labels[0] === '*' ? labels.length - 1 : labels.length;
}

/**
 * RFC 4034 §6.1 canonical order: compare label by label from the right, each as lower-case octets,
 * a name sorting before every name below it. Negative, zero or positive like a comparator.
 */
export function compareNames(a: string, b: string): number {
  const la = labelsOf(a.toLowerCase()).reverse();
  const lb = labelsOf(b.toLowerCase()).reverse();
  for (let i = 0; i < Math.min(la.length, lb.length); i++) {
    const c = Buffer.compare(Buffer.from(la[i] as string, 'latin1'), Buffer.from(lb[i] as string, 'latin1'));
    if (c !== 0) return c;
  }
  return la.length - lb.length;
}

/** True when `name` lies strictly between `owner` and `next` in canonical order, the last NSEC wrapping to the apex. */
export function covers(owner: string, next: string, name: string, compare: (a: string, b: string) => number = compareNames): boolean {
  const afterOwner = compare(owner, name) < 0;
  const beforeNext = compare(name, next) < 0;
  // The last record of the chain points back to the first (next <= owner): it covers everything after it.
  return compare(owner, next) < 0 ? afterOwner && beforeNext : afterOwner || beforeNext;
}

/** "a.b.c" -> "b.c"; "" for a single label. */
export function parentName(name: string): string {
  const dot = name.indexOf('.');
  return dot < 0 ? '' : name.slice(dot + 1);
}

/** True when name equals ancestor or lies below it. */
export function isAtOrBelow(name: string, ancestor: string): boolean {
  return ancestor === '' || name === ancestor || name.endsWith(`.${ancestor}`);
}
