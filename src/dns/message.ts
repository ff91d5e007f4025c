/**
 * DNS wire format: queries, RFC 2136 UPDATE messages, and responses parsed into plain objects.
 *
 * dns2's Packet does the encoding and the rdata decoding. What it lacks is written here:
 * a strict scanner that knows where every record starts (TSIG needs the byte offset of its own
 * record) and rejects a truncated or malformed message instead of silently dropping records,
 * which is what dns2's parser does.
 */
import { randomInt } from 'node:crypto';
import { Packet, type Resource } from 'dns2';
import { GxitError } from '../errors.js';

export const RRType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  DNAME: 39,
  OPT: 41,
  DS: 43,
  RRSIG: 46,
  DNSKEY: 48,
  TSIG: 250,
  ANY: 255,
  CAA: 257,
} as const;

export const RRClass = { IN: 1, CH: 3, NONE: 254, ANY: 255 } as const;

export const Opcode = { QUERY: 0, NOTIFY: 4, UPDATE: 5 } as const;

/** Header rcodes (0-15) and the TSIG error codes (16+) carried in the TSIG record's error field. */
export const RCode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  YXDOMAIN: 6,
  YXRRSET: 7,
  NXRRSET: 8,
  NOTAUTH: 9,
  NOTZONE: 10,
  BADSIG: 16,
  BADKEY: 17,
  BADTIME: 18,
  BADMODE: 19,
  BADNAME: 20,
  BADALG: 21,
  BADTRUNC: 22,
  BADCOOKIE: 23,
} as const;

/** "REFUSED", "BADSIG", or "RCODE42" for codes without a name. */
export function rcodeName(code: number): string {
  const entry = Object.entries(RCode).find(([, value]) => value === code);
  return entry ? entry[0] : `RCODE${code}`;
}

/** "TXT", "SOA", or "TYPE65" (RFC 3597 spelling) for types without a name. */
export function typeName(type: number): string {
  const entry = Object.entries(RRType).find(([, value]) => value === type);
  return entry ? entry[0] : `TYPE${type}`;
}

export interface SoaData {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

export interface CaaData {
  flags: number;
  tag: string;
  value: string;
}

export interface DnsRecord {
  /** Lower case, no trailing dot ("" is the root). */
  name: string;
  type: number;
  class: number;
  ttl: number;
  /**
   * TXT: the character-strings; A, AAAA: the address; NS, CNAME, PTR, DNAME: the target name
   * (lower case); SOA, CAA: decoded objects; any other type: the raw RDATA.
   */
  data: string | string[] | SoaData | CaaData | Buffer;
}

export interface DnsQuestion {
  name: string;
  type: number;
  class: number;
}

/** The TSIG record of a message (RFC 8945 §4.2), with where it starts in the message. */
export interface TsigRecord {
  keyName: string;
  algorithm: string;
  /** Seconds since the epoch (48-bit on the wire). */
  timeSigned: number;
  fudge: number;
  mac: Buffer;
  originalId: number;
  /** TSIG error (BADSIG, BADKEY, BADTIME, ...); 0 when none. */
  error: number;
  otherData: Buffer;
  /** Byte offset of the TSIG record: the message without it is buf.subarray(0, offset). */
  offset: number;
}

export interface DnsMessage {
  id: number;
  qr: boolean;
  opcode: number;
  /** Header rcode, extended by the OPT record when present. A TSIG error is in tsig.error. */
  rcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  authorities: DnsRecord[];
  /** Additional records without the TSIG record (that one is in `tsig`). */
  additionals: DnsRecord[];
  tsig?: TsigRecord;
}

// ---------------------------------------------------------------------------------------------
// Building

/** A 16-bit id from a CSPRNG (RFC 5452: guessable ids make forged replies easy). */
export function randomId(): number {
  return randomInt(0x10000);
}

/** The CD bit in the header's flags word (RFC 4035 §3.2.2). */
const CD_FLAG = 0x0010;

export function buildQuery(
  name: string,
  type: number,
  opts: { recursionDesired?: boolean | undefined; checkingDisabled?: boolean | undefined; id?: number } = {},
): Buffer {
  const packet = new Packet();
  packet.header = new Packet.Header({ id: opts.id ?? randomId(), opcode: Opcode.QUERY, rd: opts.recursionDesired ? 1 : 0 });
  packet.questions = [new Packet.Question(wireName(name), type, RRClass.IN)];
  const wire = packet.toBuffer();
  // dns2's Header type has no CD member: set the bit (0x0010 of the flags word) on the wire.
  if (opts.checkingDisabled) wire.writeUInt16BE(wire.readUInt16BE(2) | CD_FLAG, 2);
  return wire;
}

export interface UpdateChanges {
  add: { name: string; value: string; ttl: number }[];
  remove: { name: string; value: string }[];
}

/**
 * An RFC 2136 UPDATE: zone section (zone SOA IN), no prerequisites, then the deletes of exact
 * values (class NONE, TTL 0, §2.5.4) followed by the adds (class IN). Never class ANY: that
 * would delete every value at the name, including a sibling challenge or a foreign record.
 */
export function buildUpdate(zone: string, changes: UpdateChanges, opts: { id?: number } = {}): Buffer {
  const zoneName = wireName(zone);
  const packet = new Packet();
  packet.header = new Packet.Header({ id: opts.id ?? randomId(), opcode: Opcode.UPDATE });
  packet.questions = [new Packet.Question(zoneName, RRType.SOA, RRClass.IN)];
  const txt = (name: string, value: string, cls: number, ttl: number): Resource => {
    const owner = wireName(name);
    if (!isInZone(owner, zoneName)) {
      throw new GxitError('DNS_PROVIDER', `${owner} is not inside zone ${zoneName}`, {
        subject: owner,
        fix: 'update each name through the zone that contains it',
      });
    }
    return new Packet.Resource({ name: owner, type: RRType.TXT, class: cls, ttl, data: txtStrings(value) });
  };
  packet.authorities = [
    ...changes.remove.map((r) => txt(r.name, r.value, RRClass.NONE, 0)),
    ...changes.add.map((r) => txt(r.name, r.value, RRClass.IN, r.ttl)),
  ];
  return packet.toBuffer();
}

/** True when name equals zone or lies below it. Both lower case without trailing dot. */
export function isInZone(name: string, zone: string): boolean {
  return zone === '' || name === zone || name.endsWith(`.${zone}`);
}

/**
 * A TXT value as character-strings of at most 255 octets (RFC 1035 §3.3.14). dns2's TXT
 * encoder takes Buffers as well as strings, though its types only admit strings; Buffers keep
 * the split on byte boundaries.
 */
function txtStrings(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 255) chunks.push(bytes.subarray(i, i + 255));
  if (chunks.length === 0) chunks.push(Buffer.alloc(0));
  return chunks as unknown as string[];
}

/**
 * Lower case, no trailing dot, and only printable ASCII: dns2 writes each UTF-16 code unit as
 * one octet, so a non-ASCII name would go out silently corrupted.
 */
function wireName(name: string): string {
  const normalized = name.replace(/\.$/, '').toLowerCase();
  if (!/^[\x21-\x7e]*$/.test(normalized)) {
    throw new GxitError('CONFIG_INVALID', `domain name "${name}" contains characters other than ASCII letters, digits and punctuation`, {
      subject: name,
      fix: 'write internationalized names in their punycode form (xn--...)',
    });
  }
  const labels = normalized === '' ? [] : normalized.split('.');
  if (labels.some((l) => l.length === 0 || l.length > 63) || normalized.length > 253) {
    throw new GxitError('CONFIG_INVALID', `"${name}" is not a valid domain name (empty label, label over 63 or name over 253 characters)`, {
      subject: name,
      fix: 'correct the domain name',
    });
  }
  return normalized;
}

/** Uncompressed wire form of a name, lower case (RFC 4034 §6.2 canonical form). */
export function encodeCanonicalName(name: string): Buffer {
  const labels = wireName(name).split('.').filter((l) => l.length > 0);
  const parts: Buffer[] = [];
  for (const label of labels) {
    const bytes = Buffer.from(label, 'latin1');
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------
// Scanning

export type Section = 'answer' | 'authority' | 'additional';

/** Where one resource record sits in a message. */
export interface RecordSpan {
  section: Section;
  name: string;
  type: number;
  class: number;
  ttl: number;
  /** Offset of the owner name, i.e. the start of the record. */
  start: number;
  rdataStart: number;
  rdlength: number;
  /** Offset just past the record. */
  end: number;
}

export interface ScannedMessage {
  id: number;
  flags: number;
  counts: { qd: number; an: number; ns: number; ar: number };
  questions: DnsQuestion[];
  records: RecordSpan[];
}

function malformed(detail: string): GxitError {
  return new GxitError('DNS_BAD_RESPONSE', `malformed DNS message: ${detail}`, {
    fix: 'check that the address points at a DNS server (and not at another service on that port)',
  });
}

/** Reads a possibly compressed name; `end` is the offset after the name where it started. */
export function readName(buf: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let pos = offset;
  let end = -1;
  let jumps = 0;
  for (;;) {
    if (pos >= buf.length) throw malformed('name runs past the end');
    const len = buf[pos] as number;
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= buf.length) throw malformed('compression pointer runs past the end');
      if (end < 0) end = pos + 2;
      // A pointer must point backwards; a bounded number of jumps also stops loops.
      const target = ((len & 0x3f) << 8) | (buf[pos + 1] as number);
      if (target >= pos || ++jumps > 127) throw malformed('bad compression pointer');
      pos = target;
      continue;
    }
    if (len & 0xc0) throw malformed(`bad label type 0x${len.toString(16)}`);
    if (len === 0) {
      if (end < 0) end = pos + 1;
      break;
    }
    if (pos + 1 + len > buf.length) throw malformed('label runs past the end');
    labels.push(buf.toString('latin1', pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  const name = labels.join('.').toLowerCase();
  if (name.length > 253) throw malformed('name longer than 255 octets');
  return { name, end };
}

function scanQuestions(buf: Buffer): { questions: DnsQuestion[]; end: number } {
  if (buf.length < 12) throw malformed(`${buf.length} octets is shorter than a header`);
  let pos = 12;
  const questions: DnsQuestion[] = [];
  for (let i = 0; i < buf.readUInt16BE(4); i++) {
    const { name, end } = readName(buf, pos);
    if (end + 4 > buf.length) throw malformed('question runs past the end');
    questions.push({ name, type: buf.readUInt16BE(end), class: buf.readUInt16BE(end + 2) });
    pos = end + 4;
  }
  return { questions, end: pos };
}

/** Header and question section only: enough to match a reply, even a truncated one. */
export function readQuestions(buf: Buffer): DnsQuestion[] {
  return scanQuestions(buf).questions;
}

/** Walks the whole message, checking every length against the buffer. */
export function scanMessage(buf: Buffer): ScannedMessage {
  const { questions, end: questionsEnd } = scanQuestions(buf);
  const counts = { qd: buf.readUInt16BE(4), an: buf.readUInt16BE(6), ns: buf.readUInt16BE(8), ar: buf.readUInt16BE(10) };
  let pos = questionsEnd;
  const records: RecordSpan[] = [];
  const sections: [Section, number][] = [
    ['answer', counts.an],
    ['authority', counts.ns],
    ['additional', counts.ar],
  ];
  for (const [section, count] of sections) {
    for (let i = 0; i < count; i++) {
      const start = pos;
      const { name, end } = readName(buf, pos);
      if (end + 10 > buf.length) throw malformed('record header runs past the end');
      const rdlength = buf.readUInt16BE(end + 8);
      const rdataStart = end + 10;
      if (rdataStart + rdlength > buf.length) throw malformed('record data runs past the end');
      records.push({
        section,
        name,
        type: buf.readUInt16BE(end),
        class: buf.readUInt16BE(end + 2),
        ttl: buf.readUInt32BE(end + 4),
        start,
        rdataStart,
        rdlength,
        end: rdataStart + rdlength,
      });
      pos = rdataStart + rdlength;
    }
  }
  return { id: buf.readUInt16BE(0), flags: buf.readUInt16BE(2), counts, questions, records };
}

// ---------------------------------------------------------------------------------------------
// Parsing

/** Parses a DNS message; throws GxitError DNS_BAD_RESPONSE when it is malformed. */
export function parseMessage(buf: Buffer): DnsMessage {
  const scanned = scanMessage(buf);
  const tsigSpan = scanned.records.find((r) => r.type === RRType.TSIG);
  // RFC 8945 §5.2: TSIG is only valid as the very last record.
  if (tsigSpan && tsigSpan !== scanned.records[scanned.records.length - 1]) throw malformed('TSIG record is not the last record');
  if (tsigSpan && tsigSpan.section !== 'additional') throw malformed('TSIG record outside the additional section');

  let packet: Packet;
  try {
    packet = Packet.parse(buf);
  } catch (error) {
    throw malformed(error instanceof Error ? error.message : String(error));
  }
  const decoded = [...packet.answers, ...packet.authorities, ...packet.additionals];
  // dns2 drops a record it cannot decode and carries on; a count mismatch reveals it.
  if (decoded.length !== scanned.records.length) throw malformed('a record could not be decoded');

  const records = scanned.records.map((span, i) => toRecord(span, decoded[i] as Resource, buf));
  const flags = scanned.flags;
  const opt = scanned.records.find((r) => r.type === RRType.OPT && r.section === 'additional');
  // RFC 6891 §6.1.3: the OPT TTL's high byte holds the upper 8 bits of a 12-bit rcode.
  const rcode = ((opt ? opt.ttl >>> 24 : 0) << 4) | (flags & 0xf);
  const message: DnsMessage = {
    id: scanned.id,
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    rcode,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    questions: scanned.questions,
    answers: records.filter((_, i) => scanned.records[i]?.section === 'answer'),
    authorities: records.filter((_, i) => scanned.records[i]?.section === 'authority'),
    additionals: records.filter((_, i) => scanned.records[i]?.section === 'additional' && scanned.records[i] !== tsigSpan),
  };
  if (tsigSpan) message.tsig = parseTsigRecord(buf, tsigSpan);
  return message;
}

function toRecord(span: RecordSpan, rr: Resource, buf: Buffer): DnsRecord {
  const base = { name: span.name, type: span.type, class: span.class, ttl: span.ttl };
  switch (span.type) {
    case RRType.A:
    case RRType.AAAA:
      return { ...base, data: rr.address ?? '' };
    case RRType.NS:
      return { ...base, data: (rr.ns ?? '').toLowerCase() };
    case RRType.CNAME:
    case RRType.PTR:
      return { ...base, data: (rr.domain ?? '').toLowerCase() };
    case RRType.TXT:
      return { ...base, data: Array.isArray(rr.data) ? rr.data : [String(rr.data ?? '')] };
    case RRType.SOA:
      return {
        ...base,
        data: {
          mname: (rr.primary ?? '').toLowerCase(),
          rname: (rr.admin ?? '').toLowerCase(),
          serial: rr.serial ?? 0,
          refresh: rr.refresh ?? 0,
          retry: rr.retry ?? 0,
          expire: rr.expiration ?? 0,
          minimum: rr.minimum ?? 0,
        },
      };
    case RRType.CAA:
      return { ...base, data: { flags: rr.flags ?? 0, tag: rr.tag ?? '', value: rr.value ?? '' } };
    case RRType.DNAME:
      return { ...base, data: readName(buf, span.rdataStart).name };
    default:
      return { ...base, data: Buffer.from(buf.subarray(span.rdataStart, span.end)) };
  }
}

/** TSIG RDATA (RFC 8945 §4.2): algorithm, time (48 bit), fudge, MAC, original id, error, other. */
function parseTsigRecord(buf: Buffer, span: RecordSpan): TsigRecord {
  const { name: algorithm, end } = readName(buf, span.rdataStart);
  let pos = end;
  const need = (n: number): void => {
    if (pos + n > span.end) throw malformed('TSIG record data is too short');
  };
  need(10);
  const timeSigned = buf.readUIntBE(pos, 6);
  const fudge = buf.readUInt16BE(pos + 6);
  const macSize = buf.readUInt16BE(pos + 8);
  pos += 10;
  need(macSize);
  const mac = Buffer.from(buf.subarray(pos, pos + macSize));
  pos += macSize;
  need(6);
  const originalId = buf.readUInt16BE(pos);
  const error = buf.readUInt16BE(pos + 2);
  const otherLen = buf.readUInt16BE(pos + 4);
  pos += 6;
  need(otherLen);
  const otherData = Buffer.from(buf.subarray(pos, pos + otherLen));
  return { keyName: span.name, algorithm, timeSigned, fudge, mac, originalId, error, otherData, offset: span.start };
}

/** The TXT values at a name (character-strings joined, as RFC 8555 §8.4 validation reads them). */
export function txtValues(records: DnsRecord[], name: string): string[] {
  return records
    .filter((r) => r.type === RRType.TXT && r.name === name && Array.isArray(r.data))
    .map((r) => (r.data as string[]).join(''));
}
