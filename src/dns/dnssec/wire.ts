/**
 * DNSSEC queries on the wire: a question with an EDNS OPT record carrying the DO bit (RFC 3225) and,
 * for resolvers, the CD bit (RFC 4035 §3.2.2: a validating resolver then hands over the bogus data
 * instead of a bare SERVFAIL, so the check can name what is wrong). Replies are read with
 * message.ts's strict scanner; every record's RDATA is put into canonical form (RFC 4034 §6.2:
 * names uncompressed and lower case) as the signatures cover it.
 */
import type { ServerAddress } from '../../config/types.js';
import { encodeCanonicalName, randomId, readName, RRType, scanMessage, type RecordSpan } from '../message.js';
import { parseReply } from '../query.js';
import { formatServer } from '../resolver.js';
import type { ExchangeFn, ExchangeOptions } from '../transport.js';

/** The EDNS buffer size of the DNS flag day 2020: no fragmentation on common paths. */
export const EDNS_UDP_SIZE = 1232;

export interface SignedRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  /** Canonical RDATA. */
  rdata: Buffer;
}

export interface SignedReply {
  rcode: number;
  aa: boolean;
  /** Authenticated data: set by a validating resolver (only informative: the check validates itself). */
  ad: boolean;
  answers: SignedRecord[];
  authorities: SignedRecord[];
}

/** One DNSSEC question to one server (a resolver with `recursive`, else an authoritative nameserver). */
export type SignedAsk = (server: ServerAddress, name: string, type: number, opts: { recursive: boolean }) => Promise<SignedReply>;

export function buildDnssecQuery(name: string, type: number, opts: { recursive: boolean; id?: number }): Buffer {
  const qname = encodeCanonicalName(name);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(opts.id ?? randomId(), 0);
  // RD for resolvers; CD always (we validate ourselves).
  header.writeUInt16BE((opts.recursive ? 0x0100 : 0) | 0x0010, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(1, 10);
  const question = Buffer.alloc(4);
  question.writeUInt16BE(type, 0);
  question.writeUInt16BE(1, 2);
  // OPT: root owner, class = UDP payload size, TTL = extended rcode 0, version 0, DO bit; no options.
  const opt = Buffer.alloc(11);
  opt.writeUInt16BE(RRType.OPT, 1);
  opt.writeUInt16BE(EDNS_UDP_SIZE, 3);
  opt.writeUInt32BE(0x00008000, 5);
  return Buffer.concat([header, qname, question, opt]);
}

/** Types whose RDATA holds (possibly compressed) names, and where: the RFC 4034 §6.2 item 3 types we meet. */
function canonicalRdata(buf: Buffer, span: RecordSpan): Buffer {
  const raw = buf.subarray(span.rdataStart, span.end);
  const names = (offset: number, count: number): { parts: Buffer[]; end: number } => {
    const parts: Buffer[] = [];
    let pos = offset;
    for (let i = 0; i < count; i++) {
      const { name, end } = readName(buf, pos);
      parts.push(encodeCanonicalName(name));
      pos = end;
    }
    return { parts, end: pos };
  };
  switch (span.type) {
    case RRType.NS:
    case RRType.CNAME:
    case RRType.PTR:
    case RRType.DNAME:
      return Buffer.concat(names(span.rdataStart, 1).parts);
    case RRType.SOA: {
      const { parts, end } = names(span.rdataStart, 2);
      return Buffer.concat([...parts, buf.subarray(end, end + 20)]);
    }
    case RRType.MX: {
      const { parts } = names(span.rdataStart + 2, 1);
      return Buffer.concat([raw.subarray(0, 2), ...parts]);
    }
    case RRType.SRV: {
      const { parts } = names(span.rdataStart + 6, 1);
      return Buffer.concat([raw.subarray(0, 6), ...parts]);
    }
    default:
      return Buffer.from(raw);
  }
}

export function parseSignedReply(buf: Buffer): SignedReply {
  const scanned = scanMessage(buf);
  const records = scanned.records.map((span) => ({
    section: span.section,
    record: { name: span.name, type: span.type, class: span.class, ttl: span.ttl, rdata: canonicalRdata(buf, span) },
  }));
  const opt = scanned.records.find((r) => r.type === RRType.OPT && r.section === 'additional');
  return {
    rcode: ((opt ? opt.ttl >>> 24 : 0) << 4) | (scanned.flags & 0xf),
    aa: (scanned.flags & 0x0400) !== 0,
    ad: (scanned.flags & 0x0020) !== 0,
    answers: records.filter((r) => r.section === 'answer').map((r) => r.record),
    authorities: records.filter((r) => r.section === 'authority').map((r) => r.record),
  };
}

/** A SignedAsk over a transport, with the transport's timeouts. */
export function signedAsk(exchange: ExchangeFn, transport: ExchangeOptions = {}): SignedAsk {
  return async (server, name, type, opts) => {
    const reply = await exchange(server, buildDnssecQuery(name, type, opts), transport);
    return parseReply(server, name, type, () => parseSignedReply(reply));
  };
}

/** The same question to the same server once per run (several checks ask for the same DNSKEY set). */
export function memoizeSigned(ask: SignedAsk): SignedAsk {
  const seen = new Map<string, Promise<SignedReply>>();
  return (server, name, type, opts) => {
    const key = `${formatServer(server)} ${name} ${type} ${opts.recursive ? 'rd' : 'nord'}`;
    let reply = seen.get(key);
    if (!reply) {
      reply = ask(server, name, type, opts);
      seen.set(key, reply);
    }
    return reply;
  };
}
