/**
 * CAA (RFC 8659): may the configured CA issue for each name? The relevant record set is the first
 * non-empty one found climbing from the name towards the root (for *.X the climb starts at X). For a
 * wildcard name, issuewild properties, when there are any, replace the issue properties. RFC 8657's
 * validationmethods and accounturi parameters narrow an authorization further.
 */
import type { ServerAddress } from '../config/types.js';
import { isInZone, RCode, RRType, rcodeName, type CaaData } from '../dns/message.js';
import type { QueryFn } from '../dns/resolver.js';
import { findZone } from '../dns/zone.js';
import { isGxitError, messageOf } from '../errors.js';
import { parentOf, resolve } from './lookup.js';
import { isWildcard } from './plan.js';
import { fail, ok, warn, type CheckResult } from './types.js';

/** Tags a CA understands; a critical property with any other tag forbids issuance (RFC 8659 §4.1). */
const KNOWN_TAGS = ['issue', 'issuewild', 'iodef', 'issuemail', 'issuevmc', 'contactemail', 'contactphone'];

export type CaaLookup =
  | { name: string; kind: 'records'; records: CaaData[] }
  | { name: string; kind: 'empty' }
  | { name: string; kind: 'refused' }
  | { name: string; kind: 'error'; reason: string; fix?: string };

export interface CaIdentities {
  /** The CA's issuer domain names; undefined when neither the directory nor the config names them. */
  identities?: string[];
  /** Where they came from, for the message. */
  source?: 'caa_identities' | 'the ACME directory';
  /** The stored account URL (RFC 8657 accounturi), when there is an account. */
  accountUrl?: string;
}

export interface CaaFacts {
  domain: string;
  /** The zone of the name: a refusal above it only means the lookup servers are not recursive. */
  zone?: string;
  /** From the name up to its top-level domain, in that order. */
  lookups: CaaLookup[];
}

export interface IssueValue {
  /** The issuer domain name, lower case; "" authorizes no CA. */
  issuer: string;
  params: Record<string, string>;
}

/** `letsencrypt.org; validationmethods=dns-01; accounturi=https://...` (RFC 8659 §4.2). */
export function parseIssueValue(value: string): IssueValue {
  const [issuer = '', ...rest] = value.split(';');
  const params: Record<string, string> = {};
  for (const part of rest) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    params[part.slice(0, eq).trim().toLowerCase()] = part.slice(eq + 1).trim();
  }
  return { issuer: issuer.trim().toLowerCase().replace(/\.$/, ''), params };
}

export async function gatherCaa(deps: { query: QueryFn; resolvers: ServerAddress[] }, domain: string): Promise<CaaFacts> {
  const start = domain.replace(/^\*\./, '');
  const names: string[] = [];
  for (let n = start; n !== ''; n = parentOf(n)) names.push(n);
  const [zone, lookups] = await Promise.all([
    findZone(deps.query, deps.resolvers, start, { recursionDesired: true }).catch(() => undefined),
    Promise.all(
      names.map(async (name): Promise<CaaLookup> => {
        const r = await resolve(deps.query, deps.resolvers, name, RRType.CAA);
        if (r.error !== undefined) {
          return { name, kind: 'error', reason: messageOf(r.error), ...(isGxitError(r.error) && r.error.fix ? { fix: r.error.fix } : {}) };
        }
        if (r.records.length > 0) return { name, kind: 'records', records: r.records.map((rr) => rr.data as CaaData) };
        if (r.rcode === RCode.NOERROR || r.rcode === RCode.NXDOMAIN) return { name, kind: 'empty' };
        if (r.rcode === RCode.REFUSED) return { name, kind: 'refused' };
        return { name, kind: 'error', reason: `answered ${rcodeName(r.rcode)}` };
      }),
    ),
  ]);
  return { domain, ...(zone === undefined ? {} : { zone }), lookups };
}

/** A zone-file line, for fixes. */
function caaRecord(owner: string, tag: string, issuer: string): string {
  return `${owner}. CAA 0 ${tag} "${issuer}"`;
}

export function evaluateCaa(f: CaaFacts, ca: CaIdentities): CheckResult {
  const subject = f.domain;
  const wildcard = isWildcard(f.domain);
  const notChecked: string[] = [];
  let relevant: { name: string; records: CaaData[] } | undefined;
  for (const lookup of f.lookups) {
    if (lookup.kind === 'records') {
      relevant = lookup;
      break;
    }
    if (lookup.kind === 'empty') continue;
    const aboveZone = f.zone !== undefined && !isInZone(lookup.name, f.zone);
    if (lookup.kind === 'refused' && aboveZone) {
      notChecked.push(lookup.name);
      continue;
    }
    const reason = lookup.kind === 'refused' ? 'the lookup servers refused the query' : lookup.reason;
    return fail('caa', subject, `the CAA lookup for ${lookup.name} failed (${reason}); a CA refuses to issue when it cannot look up CAA`,
      lookup.kind === 'error' && lookup.fix ? lookup.fix : `make CAA queries for ${lookup.name} answer (NOERROR), and check dns.resolvers`);
  }
  const skipped = notChecked.length > 0 ? ` (${notChecked.join(', ')} not checked: the lookup servers refused, they are not recursive)` : '';
  if (!relevant) return ok('caa', subject, `no CAA records from ${f.lookups[0]?.name ?? f.domain} up to the root: any CA may issue${skipped}`);

  const owner = relevant.name;
  const props = relevant.records.map((r) => ({ ...r, tag: r.tag.toLowerCase() }));
  const critical = props.find((p) => (p.flags & 128) !== 0 && !KNOWN_TAGS.includes(p.tag));
  if (critical) {
    return fail('caa', subject, `the CAA records at ${owner} have a critical property "${critical.tag}" that CAs do not know, which forbids issuance`,
      `remove the critical flag (128) from the "${critical.tag}" property at ${owner}, or remove the property`);
  }
  const issuewild = props.filter((p) => p.tag === 'issuewild');
  const tag = wildcard && issuewild.length > 0 ? 'issuewild' : 'issue';
  const selected = props.filter((p) => p.tag === tag).map((p) => parseIssueValue(p.value));
  const found = `CAA at ${owner}`;
  if (selected.length === 0) {
    const ignored = !wildcard && issuewild.length > 0 ? ' (issuewild applies to wildcard names only)' : '';
    return ok('caa', subject, `${found} has no ${tag} property${ignored}: it does not restrict issuance for this name`);
  }
  const named = selected.filter((v) => v.issuer !== '');
  const identity = ca.identities?.[0] ?? '<the CA\'s CAA identity>';
  const allowedList = [...new Set(named.map((v) => v.issuer))].join(', ');
  if (named.length === 0) {
    return fail('caa', subject, `${found} forbids every CA (${tag} ";")${wildcard && tag === 'issuewild' ? ' for wildcard names' : ''}`,
      `replace it with the record ${caaRecord(owner, tag, identity)}`);
  }
  if (!ca.identities || ca.identities.length === 0) {
    return warn('caa', subject, `${found} allows only ${allowedList} (${tag}); the CA's CAA identity is unknown (neither caa_identities nor the ACME directory's meta.caaIdentities name it)`,
      'set caa_identities: [...] to the CA\'s CAA identity (its documentation names it) so that check-dns can compare');
  }
  const ours = new Set(ca.identities.map((i) => i.toLowerCase()));
  const matching = named.filter((v) => ours.has(v.issuer));
  if (matching.length === 0) {
    return fail('caa', subject, `${found} allows only ${allowedList} (${tag}), not this CA (${ca.identities.join(', ')} from ${ca.source ?? 'the configuration'})`,
      `add the record ${caaRecord(owner, tag, identity)}`);
  }
  const methodsAllow = (v: IssueValue): boolean =>
    v.params.validationmethods === undefined || v.params.validationmethods.split(',').map((m) => m.trim().toLowerCase()).includes('dns-01');
  const accountAllows = (v: IssueValue): boolean | undefined =>
    v.params.accounturi === undefined ? true : ca.accountUrl === undefined ? undefined : v.params.accounturi === ca.accountUrl;
  const usable = matching.find((v) => methodsAllow(v) && accountAllows(v) === true);
  if (usable) return ok('caa', subject, `${found} allows ${usable.issuer} (${tag})${skipped}`);
  const pending = matching.find((v) => methodsAllow(v) && accountAllows(v) === undefined);
  if (pending) {
    return warn('caa', subject, `${found} allows ${pending.issuer} only for account ${pending.params.accounturi}, and no account is stored yet`,
      'after the first issue, check that the account URL in state_dir/accounts matches accounturi (or remove accounturi)');
  }
  const first = matching[0] as IssueValue;
  if (!methodsAllow(first)) {
    return fail('caa', subject, `${found} allows ${first.issuer} only with validationmethods=${first.params.validationmethods}, not dns-01`,
      `add dns-01 to validationmethods in the ${tag} property at ${owner}`);
  }
  return fail('caa', subject, `${found} allows ${first.issuer} only for account ${first.params.accounturi}, not for the stored account ${ca.accountUrl}`,
    `set accounturi=${ca.accountUrl} in the ${tag} property at ${owner}, or remove accounturi`);
}
