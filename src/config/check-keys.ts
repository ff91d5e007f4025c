/**
 * The check-dns keys of a configuration (part of step 4, validation), both optional:
 *
 *   caa_identities: [letsencrypt.org]   # the CA's CAA issuer domain names, when its ACME directory
 *                                       # does not announce them (meta.caaIdentities): private/test CAs
 *   dns:
 *     expect_target: proxy.example.org  # where *.X names must lead; default: the certificate's first
 *                                       # non-wildcard name (the Galaxy host)
 */
import { get, type MapNode } from './tree.js';
import type { Checker } from './combinators.js';
import { normalizeDomain, normalizeZone, showValue } from './values.js';

export const CHECK_KEYS = ['caa_identities'] as const;
export const CHECK_DNS_KEYS = ['expect_target', 'trust_anchors'] as const;

export interface CheckSettings {
  caaIdentities?: string[];
}

export function validateCheckKeys(check: Checker, root: MapNode): CheckSettings {
  const fix = 'write caa_identities: [letsencrypt.org] with the issuer domain names the CA recognizes in CAA records';
  const node = get(root, 'caa_identities');
  if (node === undefined) return {};
  const list = check.list(node, fix);
  if (list === undefined) return {};
  const identities: string[] = [];
  for (const item of list.items) {
    const text = check.scalarString(item, fix);
    if (text === undefined) continue;
    const parsed = normalizeZone(text);
    if (parsed.ok) identities.push(parsed.value);
    else check.report(item, `${showValue(text)} ${parsed.reason}`, fix);
  }
  return identities.length === list.items.length ? { caaIdentities: [...new Set(identities)] } : {};
}

/** dns.expect_target: a host name (not a wildcard), lower case without the trailing dot. */
export function validateExpectTarget(check: Checker, dns: MapNode): string | undefined {
  const fix = 'write the host name that names under each wildcard must lead to, e.g. expect_target: galaxy.example.org';
  const found = check.string(dns, 'expect_target', fix);
  if (found === undefined) return undefined;
  const parsed = normalizeDomain(found.value);
  if (!parsed.ok) return check.report(found.node, `${showValue(found.value)} ${parsed.reason}`, fix);
  if (parsed.value.startsWith('*.')) return check.report(found.node, `${showValue(found.value)} is a wildcard, not a host name`, fix);
  return parsed.value;
}
