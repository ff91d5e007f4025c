/**
 * Wildcard routing: a browser reaching <id>.ep.interactivetool.<host> must end up at the Galaxy host.
 * A random name under the wildcard is resolved as a browser's resolver would; the chain must pass
 * through the target, or end at the target's addresses.
 *
 * The trap: a wildcard one label too high (*.interactivetool.<host>) answers for <id>.ep.interactivetool.<host>
 * only while ep.interactivetool.<host> owns no records (RFC 4592 closest encloser). The challenge TXT at
 * _acme-challenge.ep.interactivetool.<host> creates that node, so every validation breaks every GxIT.
 */
import type { ServerAddress } from '../config/types.js';
import { RCode, RRType } from '../dns/message.js';
import type { QueryFn } from '../dns/resolver.js';
import { isGxitError, messageOf } from '../errors.js';
import {
  describeAddresses,
  describeAddressResolution,
  parentOf,
  randomLabel,
  resolve,
  resolveAddresses,
  type AddressResolution,
  type Resolution,
} from './lookup.js';
import type { WildcardPlan } from './plan.js';
import { fail, ok, warn, type CheckResult } from './types.js';

export interface WildcardFacts extends WildcardPlan {
  /** The name the wildcard covers: "*.X" -> "X". */
  base: string;
  /** The random name under the wildcard and what it resolved to. */
  probe: AddressResolution;
  /** The target's addresses, when there is a target. */
  target?: string;
  targetAddresses?: AddressResolution;
  /** Set when the random name was answered by a wildcard above the requested one. */
  higher?: { owner?: string };
}

export interface LookupDeps {
  query: QueryFn;
  resolvers: ServerAddress[];
  /** Random hex for probe labels (injected so tests are repeatable). */
  random: () => string;
}

export async function gatherWildcard(deps: LookupDeps, plan: WildcardPlan): Promise<WildcardFacts> {
  const base = plan.wildcard.slice(2);
  const probeName = `${randomLabel(deps.random)}.${base}`;
  const [probe, targetAddresses] = await Promise.all([
    resolveAddresses(deps.query, deps.resolvers, probeName),
    plan.target === undefined ? undefined : resolveAddresses(deps.query, deps.resolvers, plan.target),
  ]);
  const answered = probe.addresses.length > 0 || probe.chain.length > 0;
  const higher = answered ? await findHigherWildcard(deps, base) : undefined;
  return {
    ...plan,
    base,
    probe,
    ...(targetAddresses === undefined ? {} : { targetAddresses }),
    ...(higher === undefined ? {} : { higher }),
  };
}

/** What a name answers with, for comparing a name with a random sibling: "" when nothing. */
export function answerSignature(r: Resolution): string {
  if (r.error !== undefined || r.rcode !== RCode.NOERROR) return '';
  if (r.chain.length > 0) return `CNAME ${r.chain[0]?.to}`;
  return r.records.map((rr) => String(rr.data)).sort().join(',');
}

/**
 * Is `base` a name of its own, or does a wildcard above it answer for it? A synthesized answer is
 * recognized by a random sibling getting the same answer (as in dns/challenge-name.ts). When `base`
 * is synthesized, the closest ancestor that is not is the closest encloser: the wildcard is `*.` that.
 * The ancestors are asked only then, all at once.
 */
export async function findHigherWildcard(deps: LookupDeps, base: string): Promise<{ owner?: string } | undefined> {
  const synthesized = async (name: string): Promise<boolean> => {
    const sibling = `${randomLabel(deps.random)}.${parentOf(name)}`;
    const [own, other] = await Promise.all([
      resolve(deps.query, deps.resolvers, name, RRType.A),
      resolve(deps.query, deps.resolvers, sibling, RRType.A),
    ]);
    const signature = answerSignature(own);
    return signature !== '' && signature === answerSignature(other);
  };
  if (!(await synthesized(base))) return undefined;
  const ancestors: string[] = [];
  for (let n = parentOf(base); n.split('.').length >= 2; n = parentOf(n)) ancestors.push(n);
  const covered = await Promise.all(ancestors.map(synthesized));
  const encloser = ancestors.find((_, i) => !covered[i]);
  return encloser === undefined ? {} : { owner: `*.${encloser}` };
}

function record(wildcard: string, target: string | undefined): string {
  return `"${wildcard}. CNAME ${target ?? '<galaxy host>'}."`;
}

export function evaluateWildcard(f: WildcardFacts): CheckResult {
  const subject = f.wildcard;
  const probe = f.probe;
  const chain = describeAddressResolution(probe);
  const details = f.targetAddresses ? [`target: ${describeAddressResolution(f.targetAddresses)}`] : [];

  if (probe.error !== undefined) {
    return fail('wildcard', subject, `looking up ${probe.name} failed: ${messageOf(probe.error)}`,
      isGxitError(probe.error) && probe.error.fix ? probe.error.fix : 'check that dns.resolvers (or the system resolver) answer', details);
  }
  if (f.higher) {
    const owner = f.higher.owner ?? `a wildcard above ${f.base}`;
    return fail(
      'wildcard',
      subject,
      `${probe.name} resolves only through ${owner}, which answers for names under ${f.base} only while ${f.base} owns no records: ` +
        `the TXT record at _acme-challenge.${f.base} that every validation adds creates ${f.base}, and until it is removed no Interactive Tool name resolves`,
      `add the record ${record(f.wildcard, f.target)}${f.higher.owner ? ` (${f.higher.owner} may stay)` : ''}`,
      details,
    );
  }
  const answered = probe.addresses.length > 0 || probe.chain.length > 0;
  if (!answered) {
    if (probe.rcode !== RCode.NOERROR && probe.rcode !== RCode.NXDOMAIN) {
      return fail('wildcard', subject, `the lookup servers answered ${chain}`,
        `check that dns.resolvers (or the system resolver) answer queries for ${f.base}`, details);
    }
    return fail('wildcard', subject, `there is no DNS wildcard for Interactive Tools: ${chain}`,
      `add the record ${record(f.wildcard, f.target)}`, details);
  }
  if (f.target === undefined) {
    return warn('wildcard', subject, `${chain}; the certificate has no non-wildcard name to compare with`,
      'set dns.expect_target to the host that serves Interactive Tools', details);
  }
  if (probe.final === f.target || probe.chain.some((h) => h.to === f.target)) {
    return ok('wildcard', subject, chain, details);
  }
  const targetAddresses = f.targetAddresses?.addresses ?? [];
  if (probe.chain.length === 0 && probe.addresses.length > 0 && probe.addresses.every((a) => targetAddresses.includes(a))) {
    return ok('wildcard', subject, `${chain} (the address of ${f.target})`, details);
  }
  const theirs = targetAddresses.length > 0 ? ` (${describeAddresses(targetAddresses)})` : '';
  return fail('wildcard', subject, `${chain}: this does not lead to ${f.target}${theirs}`,
    f.targetFrom === 'dns.expect_target'
      ? `point the wildcard at ${f.target} with ${record(f.wildcard, f.target)}, or correct dns.expect_target`
      : `point the wildcard at the Galaxy host with ${record(f.wildcard, f.target)}, or set dns.expect_target when another host serves Interactive Tools`,
    details);
}
