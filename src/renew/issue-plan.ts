import type { CertificateConfig, KeyType } from '../config/types.js';
import type { DueDecision } from './due.js';

/** What the state directory knows about a lineage, as far as planning needs it. */
export interface LineageFacts {
  domains: string[];
  keyType?: KeyType;
  server?: string;
  /** The live certificate was revoked: the next run orders a new one. */
  revoked?: boolean;
  /** The ACME profile of the live certificate; undefined: none (or not recorded). */
  profile?: string;
}

export type PlanReason = 'new' | 'expanded' | 'domains-changed' | 'key-type-changed' | 'ca-changed' | 'profile-changed' | 'revoked' | 'forced' | 'due' | 'broken';

export interface PlanItem {
  certificate: CertificateConfig;
  /** Why an order is needed; undefined when the lineage is current. */
  reason?: PlanReason;
  previousDomains?: string[];
  /** Why renew found the lineage due (reason 'due'). */
  due?: DueDecision;
}

function sameSet(a: string[], b: string[]): boolean {
  const setA = new Set(a);
  return setA.size === new Set(b).size && b.every((d) => setA.has(d));
}

/** Decides per configured certificate whether `issue` has to place an order, and why. */
export function planIssuance(
  certificates: CertificateConfig[],
  existing: ReadonlyMap<string, LineageFacts>,
  /** `server`: the top-level CA; a certificate's own server wins. */
  opts: { force: boolean; server: string; due?: ReadonlyMap<string, DueDecision> },
): PlanItem[] {
  return certificates.map((certificate): PlanItem => {
    const facts = existing.get(certificate.name);
    if (!facts) return { certificate, reason: 'new' };
    const previousDomains = facts.domains;
    if (!sameSet(previousDomains, certificate.domains)) {
      const expanded = previousDomains.every((d) => certificate.domains.includes(d));
      return { certificate, reason: expanded ? 'expanded' : 'domains-changed', previousDomains };
    }
    if (facts.keyType && facts.keyType !== certificate.keyType) return { certificate, reason: 'key-type-changed', previousDomains };
    if (facts.server && facts.server !== (certificate.server ?? opts.server)) return { certificate, reason: 'ca-changed', previousDomains };
    if (facts.profile !== certificate.profile) return { certificate, reason: 'profile-changed', previousDomains };
    if (facts.revoked) return { certificate, reason: 'revoked', previousDomains };
    if (opts.force) return { certificate, reason: 'forced', previousDomains };
    const due = opts.due?.get(certificate.name);
    if (due?.due) return { certificate, reason: 'due', previousDomains, due };
    return { certificate, previousDomains };
  });
}
