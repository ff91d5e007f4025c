/**
 * Lookups shared by the checks: one question per name and type per run (a memo, passed around,
 * never global), and CNAME chains followed to their end so a check can show the path a browser's
 * or a CA's resolver takes.
 */
import type { ServerAddress } from '../config/types.js';
import { rcodeName, RCode, RRType, type DnsMessage, type DnsRecord } from '../dns/message.js';
import { formatServer, normalizeName, queryFirst, type QueryFn } from '../dns/resolver.js';
import { GxitError, messageOf } from '../errors.js';

const MAX_HOPS = 8;

/** The same question to the same server is asked once per run; later callers share the answer. */
export function memoize(query: QueryFn): QueryFn {
  const seen = new Map<string, Promise<DnsMessage>>();
  return (server, name, type, opts) => {
    const key = `${formatServer(server)} ${normalizeName(name)} ${type} ${opts?.recursionDesired ? 'rd' : 'nord'} ${opts?.checkingDisabled ? 'cd' : 'nocd'}`;
    let reply = seen.get(key);
    if (!reply) {
      reply = query(server, name, type, opts);
      seen.set(key, reply);
    }
    return reply;
  };
}

export interface Hop {
  from: string;
  to: string;
}

export interface Resolution {
  name: string;
  type: number;
  /** CNAMEs followed from `name`, in order. */
  chain: Hop[];
  /** Where the chain ends (`name` without CNAMEs). */
  final: string;
  /** Records of `type` at `final`. */
  records: DnsRecord[];
  /** Rcode of the reply that ended the chain. */
  rcode: number;
  /** The lookup itself failed (timeout, unreachable, malformed reply, CNAME loop). */
  error?: unknown;
}

/** Pure: the CNAME chain that starts at `name` inside one reply, and the records of `type` at its end. */
export function followInReply(reply: DnsMessage, name: string, type: number): { chain: Hop[]; final: string; records: DnsRecord[] } {
  const chain: Hop[] = [];
  let current = normalizeName(name);
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    const records = reply.answers.filter((rr) => rr.name === current && rr.type === type);
    if (records.length > 0 || type === RRType.CNAME) return { chain, final: current, records };
    const cname = reply.answers.find((rr) => rr.name === current && rr.type === RRType.CNAME);
    if (!cname) break;
    const to = normalizeName(String(cname.data));
    if (to === current || chain.some((h) => h.from === to)) break;
    chain.push({ from: current, to });
    current = to;
  }
  return { chain, final: current, records: [] };
}

/** Asks the lookup servers, following CNAMEs across replies (an authoritative-only server stops at its zone). */
export async function resolve(query: QueryFn, servers: ServerAddress[], name: string, type: number): Promise<Resolution> {
  const start = normalizeName(name);
  const chain: Hop[] = [];
  const visited = new Set<string>();
  let current = start;
  for (;;) {
    if (visited.has(current) || chain.length > MAX_HOPS) {
      const error = new GxitError('DNS_CNAME_LOOP', `the CNAME chain from ${start} loops or has more than ${MAX_HOPS} links`, {
        subject: start,
        fix: `check the CNAME records from ${start} for a loop`,
      });
      return { name: start, type, chain, final: current, records: [], rcode: -1, error };
    }
    visited.add(current);
    let reply: DnsMessage;
    try {
      reply = await queryFirst(query, servers, current, type, { recursionDesired: true });
    } catch (error) {
      return { name: start, type, chain, final: current, records: [], rcode: -1, error };
    }
    const part = followInReply(reply, current, type);
    chain.push(...part.chain);
    if (part.records.length > 0 || part.chain.length === 0 || reply.rcode !== RCode.NOERROR) {
      return { name: start, type, chain, final: part.final, records: part.records, rcode: reply.rcode };
    }
    current = part.final;
  }
}

/** Addresses of a name: A and AAAA asked at once, the chain from whichever answered with one. */
export interface AddressResolution {
  name: string;
  chain: Hop[];
  final: string;
  addresses: string[];
  /** NOERROR, NXDOMAIN, ...: of the A lookup unless only AAAA answered. */
  rcode: number;
  error?: unknown;
}

export async function resolveAddresses(query: QueryFn, servers: ServerAddress[], name: string): Promise<AddressResolution> {
  const [a, aaaa] = await Promise.all([resolve(query, servers, name, RRType.A), resolve(query, servers, name, RRType.AAAA)]);
  const addresses = [...a.records, ...aaaa.records].map((rr) => String(rr.data));
  const lead = a.records.length > 0 || aaaa.records.length === 0 ? a : aaaa;
  // One failed family is not a failure when the other answered.
  const error = addresses.length > 0 ? undefined : (a.error ?? aaaa.error);
  return {
    name: lead.name,
    chain: lead.chain.length >= aaaa.chain.length ? lead.chain : aaaa.chain,
    final: lead.final,
    addresses,
    rcode: lead.rcode,
    ...(error === undefined ? {} : { error }),
  };
}

/** "a → CNAME b" followed by `tail` (" → A 192.0.2.1" or ": NXDOMAIN ..."). */
export function describeChain(name: string, chain: Hop[], tail: string): string {
  return `${[name, ...chain.map((h) => `CNAME ${h.to}`)].join(' → ')}${tail}`;
}

/** "A 192.0.2.1, AAAA 2001:db8::1". */
export function describeAddresses(addresses: string[]): string {
  return addresses.map((a) => `${a.includes(':') ? 'AAAA' : 'A'} ${a}`).join(', ');
}

/** The chain of an address lookup with its outcome. */
export function describeAddressResolution(r: AddressResolution): string {
  if (r.addresses.length > 0) return describeChain(r.name, r.chain, ` → ${describeAddresses(r.addresses)}`);
  if (r.error !== undefined) return describeChain(r.name, r.chain, `: lookup failed (${messageOf(r.error)})`);
  return describeChain(r.name, r.chain, `: ${outcomeName(r.rcode)}`);
}

/** "NXDOMAIN (the name does not exist)", "no record (NODATA)", "REFUSED", ... */
export function outcomeName(rcode: number): string {
  if (rcode === RCode.NOERROR) return 'no such record (NODATA)';
  if (rcode === RCode.NXDOMAIN) return 'the name does not exist (NXDOMAIN)';
  if (rcode < 0) return 'no answer';
  return rcodeName(rcode);
}

/** A random label of our own, recognizable in server logs. */
export function randomLabel(random: () => string): string {
  return `gxit-check-${random()}`;
}

/** "a.b.c" -> "b.c"; "" for a single label. */
export function parentOf(name: string): string {
  const dot = name.indexOf('.');
  return dot < 0 ? '' : name.slice(dot + 1);
}
