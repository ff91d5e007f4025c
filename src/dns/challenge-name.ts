import { randomBytes } from 'node:crypto';
import type { ServerAddress } from '../config/types.js';
import { GxitError } from '../errors.js';
import { RRType, type DnsMessage } from './message.js';
import { normalizeName, queryFirst, type QueryFn } from './resolver.js';

const MAX_CNAME_HOPS = 8;

/** "_acme-challenge.<name>" for a domain or wildcard ("*.x" validates at "_acme-challenge.x"). */
export function challengeName(domain: string): string {
  return `_acme-challenge.${normalizeName(domain).replace(/^\*\./, '')}`;
}

export interface ChallengeTarget {
  /** The name the TXT record is written at. */
  fqdn: string;
  /** Explicit CNAMEs followed from the challenge name (delegation), in order. */
  delegatedVia: string[];
  /** The challenge name is covered by a wildcard CNAME that we deliberately did not follow. */
  wildcardCovered: boolean;
}

export function cnameTarget(reply: DnsMessage, name: string): string | undefined {
  const rr = reply.answers.find((r) => r.type === RRType.CNAME && r.name === name);
  return rr ? normalizeName(String(rr.data)) : undefined;
}

function parentOf(name: string): string {
  return name.slice(name.indexOf('.') + 1);
}

/**
 * Where the TXT record for a challenge has to be written.
 *
 * An explicit CNAME at _acme-challenge.<name> delegates validation to another name (acme-dns
 * style) and is followed. A CNAME that a wildcard synthesizes there (the GxIT record
 * "*.ep.interactivetool.<host> CNAME <host>" covers "_acme-challenge.ep.interactivetool.<host>")
 * is not: following it would write at <host>'s challenge name, where the CA never looks. A
 * synthesized CNAME is recognized by a random sibling name getting the same CNAME.
 */
export async function resolveChallengeTarget(
  query: QueryFn,
  resolvers: ServerAddress[],
  domain: string,
): Promise<ChallengeTarget> {
  const start = challengeName(domain);
  const delegatedVia: string[] = [];
  let name = start;
  for (let hop = 0; hop < MAX_CNAME_HOPS; hop++) {
    const reply = await queryFirst(query, resolvers, name, RRType.CNAME, { recursionDesired: true });
    const target = cnameTarget(reply, name);
    if (target === undefined) return { fqdn: name, delegatedVia, wildcardCovered: false };
    const sibling = `_gxit-${randomBytes(6).toString('hex')}.${parentOf(name)}`;
    const siblingReply = await queryFirst(query, resolvers, sibling, RRType.CNAME, { recursionDesired: true });
    if (cnameTarget(siblingReply, sibling) === target) {
      return { fqdn: name, delegatedVia, wildcardCovered: true };
    }
    delegatedVia.push(name);
    name = target;
  }
  throw new GxitError('DNS_CNAME_LOOP', `more than ${MAX_CNAME_HOPS} CNAMEs from ${start}`, {
    subject: start,
    fix: 'check the CNAME chain at the challenge name for a loop',
  });
}
