/**
 * Challenge name: where the TXT record for each name goes. A plain name is written as it is; an
 * explicit CNAME there delegates validation to its target (whose zone is then checked too); a CNAME
 * that a wildcard synthesizes there (the GxIT wildcard covers _acme-challenge.ep.interactivetool.<host>)
 * is not followed by gxit-cert: correct for us (✓), with a note because it misleads clients that follow CNAMEs.
 */
import { challengeName, resolveChallengeTarget, type ChallengeTarget } from '../dns/challenge-name.js';
import { RRType } from '../dns/message.js';
import { isGxitError, messageOf } from '../errors.js';
import { resolve } from './lookup.js';
import { fail, ok, okWithNote, type CheckResult } from './types.js';
import type { LookupDeps } from './wildcard.js';

export interface ChallengeFacts {
  domain: string;
  /** _acme-challenge.<domain without "*."> */
  name: string;
  target?: ChallengeTarget;
  error?: unknown;
  /** The synthesized CNAME's target, when the name is covered by a wildcard. */
  synthesizedTo?: string;
}

export async function gatherChallenge(deps: LookupDeps, domain: string): Promise<ChallengeFacts> {
  const name = challengeName(domain);
  try {
    const target = await resolveChallengeTarget(deps.query, deps.resolvers, domain);
    if (!target.wildcardCovered) return { domain, name, target };
    const cname = await resolve(deps.query, deps.resolvers, target.fqdn, RRType.CNAME);
    const to = cname.records[0]?.data;
    return { domain, name, target, ...(typeof to === 'string' ? { synthesizedTo: to } : {}) };
  } catch (error) {
    return { domain, name, error };
  }
}

export function evaluateChallenge(f: ChallengeFacts): CheckResult {
  if (f.error !== undefined || !f.target) {
    return fail('challenge', f.name, `cannot tell where the TXT record goes: ${messageOf(f.error)}`,
      isGxitError(f.error) && f.error.fix ? f.error.fix : 'check that dns.resolvers (or the system resolver) answer');
  }
  const t = f.target;
  if (t.wildcardCovered) {
    // The standard GxIT set-up: the CA asks for TXT at the literal name, and gxit-cert writes there
    // (it does not follow a synthesized CNAME), so nothing is wrong for us. Other clients may be.
    const answer = f.synthesizedTo ? `a CNAME to ${f.synthesizedTo}` : 'a CNAME';
    return okWithNote(
      'challenge',
      f.name,
      `covered by the Interactive Tools wildcard (answers with ${answer}); gxit-cert writes the TXT records at this literal name, where the CA looks`,
      `ACME clients that follow CNAMEs (lego, cert-manager) would write at ${f.synthesizedTo ?? 'the CNAME target'} instead; ` +
        'another client for these names must write at the literal name',
    );
  }
  if (t.delegatedVia.length > 0) {
    const via = [...t.delegatedVia, t.fqdn].join(' → CNAME ');
    return ok('challenge', f.name, `delegated: ${via}; TXT records are written at ${t.fqdn}`);
  }
  return ok('challenge', f.name, 'a plain name (no CNAME, no wildcard): TXT records are written here');
}
