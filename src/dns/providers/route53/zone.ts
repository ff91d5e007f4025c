/**
 * Which Route53 hosted zone holds a name: the longest zone name that is a suffix of it, among the
 * public zones (or the private ones with `private_zone: true`). An account may hold several zones of
 * one name (a public and a private one for split-horizon DNS, or a stale copy of a migrated zone);
 * several candidates of the wanted kind at the longest name are an error, never a guess.
 */
import { GxitError } from '../../../errors.js';

export interface HostedZoneInfo {
  /** Bare id ("Z0123..."), without "/hostedzone/". */
  id: string;
  /** Lower case, no trailing dot. */
  name: string;
  private: boolean;
}

export type ZoneChoice =
  | { kind: 'found'; zone: HostedZoneInfo }
  | { kind: 'ambiguous'; name: string; candidates: HostedZoneInfo[] }
  /** `otherKind`: zones of the other kind (private vs public) that would have matched. */
  | { kind: 'none'; otherKind: HostedZoneInfo[] };

/** The name and every parent name, longest first: the names a zone holding `fqdn` can have. */
export function zoneNameCandidates(fqdn: string): string[] {
  const labels = fqdn.split('.').filter((label) => label !== '');
  return labels.map((_, i) => labels.slice(i).join('.'));
}

/** True when `zoneName` is `fqdn` or one of its parents. */
export function holdsName(zoneName: string, fqdn: string): boolean {
  return fqdn === zoneName || fqdn.endsWith(`.${zoneName}`);
}

/** The zone for `fqdn` among `zones` (any subset of the account's zones that includes the candidates). */
export function chooseZone(fqdn: string, zones: readonly HostedZoneInfo[], privateZone: boolean): ZoneChoice {
  const matching = zones.filter((z) => holdsName(z.name, fqdn));
  const wanted = matching.filter((z) => z.private === privateZone);
  if (wanted.length === 0) return { kind: 'none', otherKind: matching.filter((z) => z.private !== privateZone) };
  const longest = Math.max(...wanted.map((z) => z.name.length));
  const best = wanted.filter((z) => z.name.length === longest).sort((a, b) => a.id.localeCompare(b.id));
  if (best.length > 1) return { kind: 'ambiguous', name: best[0]!.name, candidates: best };
  return { kind: 'found', zone: best[0]! };
}

/** The lookup may stop at a candidate name once a zone of the wanted kind has that name. */
export function endsLookup(zonesAtName: readonly HostedZoneInfo[], privateZone: boolean): boolean {
  return zonesAtName.some((z) => z.private === privateZone);
}

/** The error for a choice that is not `found`. */
export function zoneChoiceError(fqdn: string, choice: Exclude<ZoneChoice, { kind: 'found' }>, privateZone: boolean): GxitError {
  const kind = privateZone ? 'private' : 'public';
  if (choice.kind === 'ambiguous') {
    const list = choice.candidates.map((z) => z.id).join(', ');
    return new GxitError('DNS_ZONE_NOT_FOUND', `${choice.candidates.length} ${kind} Route53 hosted zones are named ${choice.name} (${list}); gxit-cert does not guess which one holds ${fqdn}`, {
      subject: fqdn,
      fix: `set dns.route53.hosted_zone_id to the zone whose name servers the domain is delegated to (compare "aws route53 get-hosted-zone --id ID" with "dig NS ${choice.name}")`,
    });
  }
  const other = choice.otherKind[0];
  if (other !== undefined) {
    const otherKind = other.private ? 'private' : 'public';
    return new GxitError('DNS_ZONE_NOT_FOUND', `no ${kind} Route53 hosted zone holds ${fqdn}; only the ${otherKind} zone ${other.name} (${other.id}) does`, {
      subject: fqdn,
      fix: other.private
        ? 'set dns.route53.private_zone: true to write into the private zone (only for a CA that resolves inside the VPC), or create the public zone'
        : 'set dns.route53.private_zone: false (the default) to use the public zone, or set dns.route53.hosted_zone_id',
    });
  }
  return new GxitError('DNS_ZONE_NOT_FOUND', `no ${kind} Route53 hosted zone of this AWS account holds ${fqdn}`, {
    subject: fqdn,
    fix: 'check that the credentials belong to the account that hosts the domain (aws route53 list-hosted-zones), or set dns.route53.hosted_zone_id',
  });
}
