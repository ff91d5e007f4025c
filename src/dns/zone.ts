import type { ServerAddress } from '../config/types.js';
import { GxitError } from '../errors.js';
import { RRType } from './message.js';
import type { DnsMessage } from './message.js';
import { formatServer, normalizeName, queryFirst, type QueryFn } from './resolver.js';

/** "a.b.example.org" -> ["a.b.example.org", "b.example.org", "example.org", "org"]. */
export function suffixes(name: string): string[] {
  const labels = normalizeName(name).split('.');
  return labels.map((_, i) => labels.slice(i).join('.')).filter((s) => s.length > 0);
}

/** True when the reply holds the SOA of exactly this name, i.e. the name is a zone apex. */
export function isZoneApex(reply: DnsMessage, name: string): boolean {
  return reply.rcode === 0 && reply.answers.some((rr) => rr.type === RRType.SOA && rr.name === name);
}

/**
 * The zone a name belongs to: SOA queries for every suffix at once (a handful of packets,
 * one round trip), the longest suffix that is a zone apex wins. Works against an authoritative
 * server (update server) and a recursive resolver alike.
 */
export async function findZone(
  query: QueryFn,
  servers: ServerAddress[],
  name: string,
  opts: { recursionDesired: boolean; signal?: AbortSignal },
): Promise<string> {
  const candidates = suffixes(name);
  // Through a resolver, with CD set: a validating one would answer SERVFAIL for the SOA of a zone whose
  // DNSSEC chain is broken (the DS does not match, unsigned records were added), and the parent would
  // be taken for the zone. Where the zone is depends on the NS and SOA records, not on their signatures.
  const flags = { ...opts, checkingDisabled: opts.recursionDesired };
  const replies = await Promise.allSettled(
    candidates.map((candidate) => queryFirst(query, servers, candidate, RRType.SOA, flags)),
  );
  for (const [i, candidate] of candidates.entries()) {
    const reply = replies[i];
    if (reply?.status === 'fulfilled' && isZoneApex(reply.value, candidate)) return candidate;
  }
  const failure = replies.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  // Nothing answered at all: the server's own error (timeout, unreachable) says more than "no zone".
  if (replies.every((r) => r.status === 'rejected') && failure?.reason instanceof GxitError) throw failure.reason;
  const where = servers.map(formatServer).join(', ');
  throw new GxitError('DNS_ZONE_NOT_FOUND', `no zone found for ${name} on ${where}`, {
    subject: name,
    fix: failure
      ? 'check that the DNS server is running and reachable, or set the zone explicitly'
      : 'check that the server is authoritative for the zone of this name, or set the zone explicitly (dns.rfc2136.zone)',
    cause: failure?.reason,
  });
}
