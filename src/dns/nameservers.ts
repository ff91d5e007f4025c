import { isIP } from 'node:net';
import type { ServerAddress } from '../config/types.js';
import { GxitError } from '../errors.js';
import { RCode, RRType, rcodeName, type DnsMessage } from './message.js';
import { normalizeName, queryFirst, type QueryFn } from './resolver.js';

export interface Nameserver {
  /** Host name from the zone's NS set (or the address itself when given as one). */
  name: string;
  addresses: ServerAddress[];
}

/** NS host names of a zone from a reply's answer section. */
export function nsNames(reply: DnsMessage, zone: string): string[] {
  return reply.answers
    .filter((rr) => rr.type === RRType.NS && rr.name === zone)
    .map((rr) => normalizeName(String(rr.data)));
}

/** Addresses of a host found in any section of a reply (glue or answers). */
export function addressesIn(reply: DnsMessage, host: string): string[] {
  return [...reply.answers, ...reply.additionals]
    .filter((rr) => rr.name === host && (rr.type === RRType.A || rr.type === RRType.AAAA))
    .map((rr) => String(rr.data));
}

/**
 * Every authoritative nameserver of a zone with its addresses: the NS set and the addresses of
 * each host, asked of the lookup servers (glue first, then A and AAAA queries).
 */
export async function authoritativeNameservers(
  query: QueryFn,
  resolvers: ServerAddress[],
  zone: string,
  port: number,
): Promise<Nameserver[]> {
  // CD set, as for finding the zone (zone.ts): which servers are authoritative does not depend on
  // the signatures; a validating resolver would answer SERVFAIL for a zone with a broken chain.
  const flags = { recursionDesired: true, checkingDisabled: true };
  const reply = await queryFirst(query, resolvers, zone, RRType.NS, flags);
  const names = nsNames(reply, zone);
  if (names.length === 0) {
    const answered = reply.rcode === RCode.NOERROR ? 'has no NS records' : `has no NS records: the lookup servers answered ${rcodeName(reply.rcode)}`;
    throw new GxitError('DNS_NO_NAMESERVERS', `zone ${zone} ${answered}`, {
      subject: zone,
      fix: 'check the zone on the resolvers in dns.resolvers (or the system resolver)',
    });
  }
  return Promise.all(
    names.map(async (name): Promise<Nameserver> => {
      if (isIP(name)) return { name, addresses: [{ host: name, port }] };
      let ips = addressesIn(reply, name);
      if (ips.length === 0) {
        const lookups = await Promise.allSettled(
          [RRType.A, RRType.AAAA].map((type) => queryFirst(query, resolvers, name, type, flags)),
        );
        ips = lookups.flatMap((l) => (l.status === 'fulfilled' ? addressesIn(l.value, name) : []));
      }
      return { name, addresses: [...new Set(ips)].map((host) => ({ host, port })) };
    }),
  );
}
