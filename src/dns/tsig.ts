/**
 * TSIG (RFC 8945): the one place where DNS messages are signed and verified.
 *
 * The MAC is an HMAC over bytes, so signing works on the output of any encoder:
 *   request:  MAC( message | TSIG variables )
 *   response: MAC( request MAC size (2) | request MAC | message without TSIG, ARCOUNT-1,
 *                  original id | TSIG variables )
 * TSIG variables (§4.3.3): key name and algorithm name in canonical (uncompressed, lower case)
 * wire form, class ANY, TTL 0, time signed (48 bit), fudge, error, other len, other data.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { TsigAlgorithm, TsigKey } from '../config/types.js';
import { encodeCanonicalName, parseMessage, RCode, RRClass, RRType, type TsigRecord } from './message.js';
import { GxitError } from '../errors.js';

/** Wire name of each algorithm -> node:crypto digest and output length in octets. */
const DIGESTS: Record<TsigAlgorithm, { hash: string; size: number }> = {
  'hmac-md5.sig-alg.reg.int': { hash: 'md5', size: 16 },
  'hmac-sha1': { hash: 'sha1', size: 20 },
  'hmac-sha224': { hash: 'sha224', size: 28 },
  'hmac-sha256': { hash: 'sha256', size: 32 },
  'hmac-sha384': { hash: 'sha384', size: 48 },
  'hmac-sha512': { hash: 'sha512', size: 64 },
};

export const TSIG_ALGORITHMS = Object.keys(DIGESTS) as TsigAlgorithm[];

/** Default fudge: 300 s, as BIND and RFC 8945 §10 recommend. */
export const DEFAULT_FUDGE = 300;

/** Algorithm names are parsed where the configuration is read; one parser for both. */
export { parseTsigAlgorithm as parseAlgorithm } from '../config/values.js';
import { parseTsigAlgorithm as parseAlgorithm } from '../config/values.js';

export interface TsigFields {
  timeSigned: number;
  fudge: number;
  error: number;
  otherData: Buffer;
}

/** The TSIG variables of §4.3.3, in the order they are digested. */
function tsigVariables(keyName: string, algorithm: string, f: TsigFields): Buffer {
  const fixed = Buffer.alloc(6 + 2 + 2 + 2);
  fixed.writeUIntBE(f.timeSigned, 0, 6);
  fixed.writeUInt16BE(f.fudge, 6);
  fixed.writeUInt16BE(f.error, 8);
  fixed.writeUInt16BE(f.otherData.length, 10);
  const classTtl = Buffer.alloc(6);
  classTtl.writeUInt16BE(RRClass.ANY, 0);
  classTtl.writeUInt32BE(0, 2);
  return Buffer.concat([encodeCanonicalName(keyName), classTtl, encodeCanonicalName(algorithm), fixed, f.otherData]);
}

/** HMAC over [request MAC with its length] | message | variables. `message` has no TSIG. */
export function computeMac(message: Buffer, key: TsigKey, fields: TsigFields, requestMac?: Buffer): Buffer {
  const hmac = createHmac(DIGESTS[key.algorithm].hash, key.secret);
  if (requestMac) {
    const size = Buffer.alloc(2);
    size.writeUInt16BE(requestMac.length);
    hmac.update(size).update(requestMac);
  }
  hmac.update(message).update(tsigVariables(key.name, key.algorithm, fields));
  return hmac.digest();
}

/** The TSIG resource record: owner = key name (uncompressed), class ANY, TTL 0. */
function tsigRecord(key: TsigKey, fields: TsigFields, mac: Buffer, originalId: number): Buffer {
  const algorithm = encodeCanonicalName(key.algorithm);
  const rdata = Buffer.alloc(algorithm.length + 10 + mac.length + 6 + fields.otherData.length);
  let pos = algorithm.copy(rdata, 0);
  rdata.writeUIntBE(fields.timeSigned, pos, 6);
  rdata.writeUInt16BE(fields.fudge, pos + 6);
  rdata.writeUInt16BE(mac.length, pos + 8);
  pos += 10;
  pos += mac.copy(rdata, pos);
  rdata.writeUInt16BE(originalId, pos);
  rdata.writeUInt16BE(fields.error, pos + 2);
  rdata.writeUInt16BE(fields.otherData.length, pos + 4);
  fields.otherData.copy(rdata, pos + 6);
  const head = Buffer.alloc(10);
  head.writeUInt16BE(RRType.TSIG, 0);
  head.writeUInt16BE(RRClass.ANY, 2);
  head.writeUInt32BE(0, 4);
  head.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([encodeCanonicalName(key.name), head, rdata]);
}

export interface SignOptions {
  /** Seconds since the epoch; now by default. */
  timeSigned?: number;
  fudge?: number;
  /** Signing a response: the MAC of the request it answers (used by test servers). */
  requestMac?: Buffer;
  /** TSIG error to report (responses only). */
  error?: number;
  otherData?: Buffer;
}

/**
 * Appends a TSIG record to a complete, unsigned message and increments ARCOUNT.
 * `requestMac` in the result is the MAC just sent: the response's MAC covers it.
 */
export function signMessage(message: Buffer, key: TsigKey, opts: SignOptions = {}): { signed: Buffer; requestMac: Buffer } {
  if (message.length < 12) throw new GxitError('INTERNAL', 'cannot sign a message shorter than a DNS header');
  const fields: TsigFields = {
    timeSigned: opts.timeSigned ?? Math.floor(Date.now() / 1000),
    fudge: opts.fudge ?? DEFAULT_FUDGE,
    error: opts.error ?? 0,
    otherData: opts.otherData ?? Buffer.alloc(0),
  };
  const mac = computeMac(message, key, fields, opts.requestMac);
  const signed = Buffer.concat([message, tsigRecord(key, fields, mac, message.readUInt16BE(0))]);
  signed.writeUInt16BE(message.readUInt16BE(10) + 1, 10);
  return { signed, requestMac: mac };
}

export type VerifyFailure = 'unsigned' | 'malformed' | 'badkey' | 'badsig' | 'badtime' | 'badtrunc' | 'error';

export type VerifyResult =
  | { ok: true; tsig: TsigRecord }
  | {
      ok: false;
      reason: VerifyFailure;
      /** The TSIG error the other side reported (BADSIG, BADKEY, BADTIME, ...), when it did. */
      tsigError?: number;
      detail: string;
    };

/** The message as it was before signing: TSIG removed, ARCOUNT-1, original id (§4.3.2). */
export function unsignedPart(message: Buffer, tsig: TsigRecord): Buffer {
  const part = Buffer.from(message.subarray(0, tsig.offset));
  part.writeUInt16BE(tsig.originalId, 0);
  part.writeUInt16BE(part.readUInt16BE(10) - 1, 10);
  return part;
}

function reasonOf(tsigError: number): VerifyFailure {
  switch (tsigError) {
    case RCode.BADSIG:
      return 'badsig';
    case RCode.BADKEY:
      return 'badkey';
    case RCode.BADTIME:
      return 'badtime';
    case RCode.BADTRUNC:
      return 'badtrunc';
    default:
      return 'error';
  }
}

/**
 * Verifies a signed message (a response when `requestMac` is given, a request otherwise):
 * key and algorithm, MAC (constant-time compare), then time within fudge, in the order of
 * RFC 8945 §5.2. A reported TSIG error is a failure even when the MAC is right.
 */
export function verifyMessage(message: Buffer, key: TsigKey, opts: { requestMac?: Buffer; now?: number } = {}): VerifyResult {
  let tsig: TsigRecord | undefined;
  try {
    tsig = parseMessage(message).tsig;
  } catch (error) {
    return { ok: false, reason: 'malformed', detail: error instanceof Error ? error.message : String(error) };
  }
  if (!tsig) return { ok: false, reason: 'unsigned', detail: 'the message carries no TSIG record' };
  const reported = tsig.error !== 0 ? { tsigError: tsig.error } : {};
  // §5.3.2: BADKEY and BADSIG replies carry an empty MAC, there is nothing to verify.
  if (tsig.error !== 0 && tsig.mac.length === 0) {
    return { ok: false, reason: reasonOf(tsig.error), ...reported, detail: 'the server reported a TSIG error' };
  }
  if (tsig.keyName !== key.name.toLowerCase().replace(/\.$/, '') || parseAlgorithm(tsig.algorithm) !== key.algorithm) {
    return { ok: false, reason: 'badkey', ...reported, detail: `signed with key ${tsig.keyName} (${tsig.algorithm}), expected ${key.name} (${key.algorithm})` };
  }
  const full = DIGESTS[key.algorithm].size;
  // §5.2.2.1: a truncated MAC must keep at least half the hash and at least 10 octets.
  if (tsig.mac.length > full || tsig.mac.length < Math.max(10, full / 2)) {
    return { ok: false, reason: 'badtrunc', ...reported, detail: `MAC of ${tsig.mac.length} octets for ${key.algorithm}` };
  }
  const fields: TsigFields = { timeSigned: tsig.timeSigned, fudge: tsig.fudge, error: tsig.error, otherData: tsig.otherData };
  const expected = computeMac(unsignedPart(message, tsig), key, fields, opts.requestMac).subarray(0, tsig.mac.length);
  if (!timingSafeEqual(expected, tsig.mac)) {
    return { ok: false, reason: 'badsig', ...reported, detail: 'the MAC does not match' };
  }
  if (tsig.error !== 0) {
    // A signed BADTIME carries the server's clock in other data (§5.2.3).
    const serverTime = tsig.error === RCode.BADTIME && tsig.otherData.length === 6 ? `; server time ${tsig.otherData.readUIntBE(0, 6)}` : '';
    return { ok: false, reason: reasonOf(tsig.error), tsigError: tsig.error, detail: `the server reported a TSIG error${serverTime}` };
  }
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - tsig.timeSigned) > tsig.fudge) {
    return { ok: false, reason: 'badtime', detail: `signed at ${tsig.timeSigned}, now is ${now}, fudge ${tsig.fudge} s` };
  }
  return { ok: true, tsig };
}

/** Verifies the reply to a request we signed; its MAC covers `requestMac`. */
export function verifyResponse(response: Buffer, key: TsigKey, requestMac: Buffer, opts: { now?: number } = {}): VerifyResult {
  return verifyMessage(response, key, { requestMac, now: opts.now });
}
