/** Which names each check looks at, from the configured certificates. Pure. */
import type { CertificateConfig } from '../config/types.js';
import { challengeName } from '../dns/challenge-name.js';

export interface WildcardPlan {
  /** "*.ep.interactivetool.galaxy.example.org" */
  wildcard: string;
  /** Where a name under the wildcard must lead: dns.expect_target, else the certificate's first non-wildcard name. */
  target?: string;
  /** Where the target came from, for the fix. */
  targetFrom?: 'dns.expect_target' | 'certificate';
}

export interface CheckPlan {
  wildcards: WildcardPlan[];
  /** Names that must have an address: every non-wildcard name, and dns.expect_target. */
  hosts: string[];
  /** One domain per distinct _acme-challenge name (a base name and its wildcard share one). */
  challengeDomains: string[];
  /** Every name the CA is asked for (CAA is decided per name, wildcards differently). */
  caaNames: string[];
}

export function isWildcard(domain: string): boolean {
  return domain.startsWith('*.');
}

export function planChecks(certificates: CertificateConfig[], expectTarget?: string): CheckPlan {
  const wildcards = new Map<string, WildcardPlan>();
  const hosts = new Set<string>();
  const challenges = new Map<string, string>();
  const caa = new Set<string>();
  for (const cert of certificates) {
    const host = cert.domains.find((d) => !isWildcard(d));
    const target = expectTarget ?? host;
    for (const domain of cert.domains) {
      caa.add(domain);
      if (!challenges.has(challengeName(domain))) challenges.set(challengeName(domain), domain);
      if (!isWildcard(domain)) hosts.add(domain);
      else {
        const key = `${domain} ${target ?? ''}`;
        const from = expectTarget !== undefined ? 'dns.expect_target' : 'certificate';
        if (!wildcards.has(key)) wildcards.set(key, { wildcard: domain, ...(target === undefined ? {} : { target, targetFrom: from }) });
      }
    }
  }
  if (expectTarget !== undefined) hosts.add(expectTarget);
  return { wildcards: [...wildcards.values()], hosts: [...hosts], challengeDomains: [...challenges.values()], caaNames: [...caa] };
}
