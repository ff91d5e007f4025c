/**
 * Step 4 of the configuration pipeline: the (aliased, defaulted) tree -> a typed ConfigDraft, collecting
 * every problem with its line, key path and fix. Unknown keys are errors with a "did you mean" suggestion;
 * a value of the wrong type or out of range is an error, never a silent fallback.
 *
 * Secrets are not read here: the draft holds references (inline value, file, environment variable) that
 * secrets.ts resolves. Values of secret keys are never quoted in a message.
 *
 * The generic sections live here; `dns.<provider>` is validated by the provider's descriptor (from the
 * registry passed in), and the readers are the combinators of combinators.ts.
 *
 * `dns:` is required, except on a cluster follower (`cluster.renewer: false`): there it may be left out,
 * and when it is written it is checked like a renewer's and then dropped (the draft has no DNS part, so
 * secrets.ts reads none of its secrets).
 */
import { Checker, quote, type At, type ValidateOptions } from './combinators.js';
import { DEFAULTS } from './defaults.js';
import type { ConfigProblem } from './problems.js';
import { sectionKey, sectionKeys, type ProviderSection, type SectionDraft } from './provider-section.js';
import { validateClusterKeys, writtenAsFollower } from './cluster.js';
import { CHECK_DNS_KEYS, CHECK_KEYS, validateCheckKeys, validateExpectTarget } from './check-keys.js';
import { validateTrustAnchors } from './trust-anchors.js';
import { validateEab, type EabDraft } from './eab.js';
import { validateNotify } from './notify.js';
import { RENEWAL_KEYS, validateRenewalKeys } from './renewal.js';
import { checkDuration } from './durations.js';
import { childPath, get, type MapNode, type TreeNode } from './tree.js';
import type { CertificateConfig, ConfigBase, DnsCommon, FollowerCluster, KeyType, RenewerCluster, ServerAddress } from './types.js';
import { KEY_TYPE_SPELLINGS, checkEmail, checkLineageName, normalizeDomain, parseAcmeServer, parseKeyType, parseServerAddress } from './values.js';

export const KNOWN_KEYS = {
  top: ['email', 'server', 'ca_bundle', 'state_dir', 'key_type', 'certificates', 'dns', ...RENEWAL_KEYS, ...CHECK_KEYS, 'eab', 'preferred_chain', 'reuse_key', 'profile', 'notify', 'cluster', 'acme_retry_max_wait'],
  certificate: ['name', 'domains', 'key_type', 'server', 'email', 'eab', 'ca_bundle', 'preferred_chain', 'reuse_key', 'profile'],
  /** The dns section's own keys; each registered provider adds its section key (its name, or `section`). */
  dns: ['provider', 'resolvers', 'propagation_timeout', 'propagation_interval', 'propagation_check', 'nameserver_port', ...CHECK_DNS_KEYS],
} as const;

/** The dns section validated: the provider's section is a draft of its descriptor, secrets unread. */
export interface DnsDraft extends DnsCommon {
  provider: string;
  section: SectionDraft;
}

interface DraftBase extends Omit<ConfigBase, 'eab' | 'certificates' | 'cluster'> {
  eab?: EabDraft;
  certificates: CertificateDraft[];
}

/** A renewer's draft (RenewerConfig to be): with the dns section. */
export interface RenewerDraft extends DraftBase {
  dns: DnsDraft;
  cluster?: RenewerCluster;
}

/** A follower's draft (FollowerConfig to be): no DNS part, whatever the file says under dns:. */
export interface FollowerDraft extends DraftBase {
  dns?: undefined;
  cluster: FollowerCluster;
}

/** A validated configuration whose secrets are still references. */
export type ConfigDraft = RenewerDraft | FollowerDraft;

/** A certificate whose EAB key is still a reference. */
export interface CertificateDraft extends Omit<CertificateConfig, 'eab'> {
  eab?: EabDraft;
}

export interface TreeOptions extends ValidateOptions {
  /** The registered providers (src/dns/providers/registry.ts, passed in by src/cli). */
  providers: readonly ProviderSection[];
}

export interface ValidationResult {
  draft?: ConfigDraft;
  problems: ConfigProblem[];
  warnings: string[];
}

/**
 * Validates the tree (after aliases and defaults). Returns a draft only when there are no problems.
 */
export function validateTree(root: MapNode, options: TreeOptions): ValidationResult {
  const check = new Checker(options);
  check.map(root, KNOWN_KEYS.top, 'see the configuration reference');

  const email = validateEmail(check, root);
  const server = validateServer(check, root);
  const caBundle = check.path(root, 'ca_bundle', 'write the path of a PEM file with the CA certificates');
  const retryWait = checkDuration(check, root, 'acme_retry_max_wait', 'acme_retry_max_wait');
  const eab = validateEab(check, get(root, 'eab'));
  const stateDir = check.path(root, 'state_dir', `write the absolute path of a directory (default ${DEFAULTS.state_dir})`);
  const keyType = validateKeyType(check, root, 'key_type') ?? 'ecdsa-p256';
  const preferredChain = validatePreferredChain(check, root);
  const reuseKey = check.bool(root, 'reuse_key');
  const profile = validateProfile(check, root);
  const certificates = validateCertificates(check, root, keyType, {
    ...(profile === undefined ? {} : { profile }),
    ...(preferredChain === undefined ? {} : { preferredChain }),
    ...(reuseKey === undefined ? {} : { reuseKey }),
  });
  // A follower never writes DNS records: its dns: section may be left out (written, it is still checked).
  const dns = validateDns(check, root, options.providers, !writtenAsFollower(root));
  const renewal = validateRenewalKeys(check, root);
  const notify = validateNotify(check, get(root, 'notify'));
  const checkSettings = validateCheckKeys(check, root);
  const { cluster } = validateClusterKeys(check, root);

  if (check.problems.length > 0 || server === undefined || stateDir === undefined) {
    return { problems: check.problems, warnings: check.warnings };
  }
  const common: DraftBase = {
    source: options.source,
    ...(email === undefined ? {} : { email }),
    server,
    ...(caBundle === undefined ? {} : { caBundle }),
    ...(retryWait === undefined ? {} : { acmeRetryMaxWaitMs: retryWait.ms }),
    ...(eab === undefined ? {} : { eab }),
    stateDir,
    keyType,
    certificates,
    ...renewal,
    ...checkSettings,
    ...(notify === undefined ? {} : { notify }),
    warnings: [],
  };
  if (cluster?.renewer === false) return { draft: { ...common, cluster }, problems: [], warnings: check.warnings };
  // Without dns (a renewer's file) validateDns has reported it missing.
  if (dns === undefined) return { problems: check.problems, warnings: check.warnings };
  return { draft: { ...common, dns, ...(cluster === undefined ? {} : { cluster }) }, problems: [], warnings: check.warnings };
}

function validateEmail(check: Checker, root: MapNode): string | undefined {
  const found = check.string(root, 'email', 'write an e-mail address such as admin@example.org');
  if (found === undefined) return undefined;
  const parsed = checkEmail(found.value);
  if (!parsed.ok) return check.report(found.node, `${quote(found.value)} ${parsed.reason}`, 'write an e-mail address such as admin@example.org');
  return parsed.value;
}

function validateServer(check: Checker, root: MapNode, required = true): string | undefined {
  const fix = 'write letsencrypt, letsencrypt-staging or the https:// URL of an ACME directory (http only for localhost/127.x)';
  const found = check.string(root, 'server', fix);
  if (found === undefined) return get(root, 'server') === undefined && required ? check.missing(root, 'server', fix) : undefined;
  const parsed = parseAcmeServer(found.value);
  if (!parsed.ok) return check.report(found.node, `${quote(found.value)} ${parsed.reason}`, fix);
  return parsed.value;
}

function validateKeyType(check: Checker, map: MapNode, key: string): KeyType | undefined {
  const fix = `write one of ${KEY_TYPE_SPELLINGS}`;
  const found = check.string(map, key, fix);
  if (found === undefined) return undefined;
  const type = parseKeyType(found.value);
  if (type === undefined) return check.report(found.node, `${quote(found.value)} is not a key type`, fix);
  return type;
}

/** What a certificate inherits from the top level unless it sets its own. */
type Inherited = Pick<CertificateConfig, 'preferredChain' | 'reuseKey' | 'profile'>;

function validateProfile(check: Checker, map: MapNode): string | undefined {
  const found = check.string(map, 'profile', 'write the name of a profile the CA offers, e.g. profile: tlsserver');
  if (found === undefined) return undefined;
  const name = found.value.trim();
  if (!/^[A-Za-z0-9._-]+$/.test(name)) return check.report(found.node, `${quote(name)} is not a profile name`, 'write a profile name such as classic, tlsserver or shortlived');
  return name;
}

function validatePreferredChain(check: Checker, map: MapNode): string | undefined {
  return check.string(map, 'preferred_chain', 'write the common name of the root (issuer of the topmost certificate), e.g. preferred_chain: "ISRG Root X1"')?.value.trim();
}

function validateCertificates(check: Checker, root: MapNode, defaultKeyType: KeyType, inherited: Inherited): CertificateDraft[] {
  const exampleFix = 'add certificates: with a list of entries like - domains: [galaxy.example.org, "*.ep.interactivetool.galaxy.example.org"]';
  const node = get(root, 'certificates');
  if (node === undefined) {
    check.missing(root, 'certificates', exampleFix);
    return [];
  }
  const list = check.list(node, exampleFix);
  if (list === undefined) return [];

  const certificates: CertificateDraft[] = [];
  const names = new Map<string, At>();
  list.items.forEach((item) => {
    const map = check.map(item, KNOWN_KEYS.certificate, 'write each certificate as a mapping with domains: (and optionally name:, key_type:)');
    if (map === undefined) return;
    const domains = validateDomains(check, map);
    const keyType = validateKeyType(check, map, 'key_type') ?? defaultKeyType;
    const ca = validateCertificateCa(check, map);
    const preferredChain = validatePreferredChain(check, map) ?? inherited.preferredChain;
    const reuseKey = check.bool(map, 'reuse_key') ?? inherited.reuseKey;
    const profile = validateProfile(check, map) ?? inherited.profile;

    let name: string | undefined;
    let nameAt: At = map;
    const written = check.string(map, 'name', 'write a lineage name such as galaxy.example.org');
    if (written !== undefined) {
      nameAt = written.node;
      const parsed = checkLineageName(written.value);
      if (parsed.ok) name = parsed.value;
      else check.report(written.node, `${quote(written.value)} ${parsed.reason}`, 'write a lineage name such as galaxy.example.org');
    } else if (get(map, 'name') === undefined && domains[0] !== undefined) {
      name = domains[0].replace(/^\*\./, '');
    }
    if (name === undefined || domains.length === 0) return;
    const earlier = names.get(name);
    if (earlier !== undefined) {
      check.report(
        { line: nameAt.line, path: written ? nameAt.path : childPath(map.path, 'name') },
        `lineage name ${quote(name)} is already used by ${earlier.path.replace(/\.name$/, '')} (line ${earlier.line})`,
        'give each certificate its own name: (the lineage directory)',
      );
      return;
    }
    names.set(name, { line: nameAt.line, path: childPath(map.path, 'name') });
    certificates.push({ name, domains, keyType, ...ca, ...(preferredChain === undefined ? {} : { preferredChain }), ...(reuseKey ? { reuseKey } : {}), ...(profile === undefined ? {} : { profile }) });
  });
  return certificates;
}

/** server, email, eab, ca_bundle of one certificate: only what is written there (the rest is inherited). */
function validateCertificateCa(check: Checker, map: MapNode): Pick<CertificateDraft, 'server' | 'email' | 'eab' | 'caBundle'> {
  const server = validateServer(check, map, false);
  const email = validateEmail(check, map);
  const eab = validateEab(check, get(map, 'eab'));
  const caBundle = check.path(map, 'ca_bundle', 'write the path of a PEM file with the CA certificates');
  return {
    ...(server === undefined ? {} : { server }),
    ...(email === undefined ? {} : { email }),
    ...(eab === undefined ? {} : { eab }),
    ...(caBundle === undefined ? {} : { caBundle }),
  };
}

function validateDomains(check: Checker, certificate: MapNode): string[] {
  const fix = 'write domains: [galaxy.example.org, "*.ep.interactivetool.galaxy.example.org"]';
  const node = get(certificate, 'domains');
  if (node === undefined) {
    check.missing(certificate, 'domains', fix);
    return [];
  }
  const list = check.list(node, fix);
  if (list === undefined) return [];
  const domains: string[] = [];
  const seen = new Map<string, At>();
  for (const item of list.items) {
    const text = check.scalarString(item, 'write the domain name as a string');
    if (text === undefined) continue;
    const parsed = normalizeDomain(text);
    if (!parsed.ok) {
      check.report(item, `${quote(text)} ${parsed.reason}`, 'write a domain name such as galaxy.example.org or *.ep.interactivetool.galaxy.example.org ("*." only at the start)');
      continue;
    }
    const earlier = seen.get(parsed.value);
    if (earlier !== undefined) {
      check.report(item, `${quote(parsed.value)} is listed twice (also ${earlier.path}, line ${earlier.line})`, 'remove the duplicate');
      continue;
    }
    seen.set(parsed.value, item);
    domains.push(parsed.value);
  }
  return domains;
}

/**
 * The configured provider's section: under its section key, else under a deprecated spelling (with a
 * warning, so that files written before the rename keep working). With both, the deprecated one is ignored.
 */
function chosenSection(check: Checker, dns: MapNode, provider: ProviderSection): TreeNode | undefined {
  const key = sectionKey(provider);
  let chosen = get(dns, key);
  for (const old of provider.deprecatedSections ?? []) {
    const node = get(dns, old);
    if (node === undefined) continue;
    if (chosen === undefined) {
      check.warn(node, `is a deprecated spelling of dns.${key}: rename it to ${key}:`);
      chosen = node;
    } else {
      check.warn(node, `is ignored: dns.${key} is used (${old}: is a deprecated spelling of ${key}:)`);
    }
  }
  return chosen;
}

function validateDns(check: Checker, root: MapNode, providers: readonly ProviderSection[], required: boolean): DnsDraft | undefined {
  const names = providers.map((p) => p.name);
  const sectionFix = `add dns: with ${providers.map((p) => `provider: ${p.name}${p.missingFix === undefined ? '' : ` (and an ${sectionKey(p)}: section)`}`).join(' or ')}`;
  const node = get(root, 'dns');
  if (node === undefined) return required ? check.missing(root, 'dns', sectionFix) : undefined;
  const dns = check.map(node, [...KNOWN_KEYS.dns, ...providers.flatMap(sectionKeys)], sectionFix);
  if (dns === undefined) return undefined;

  const providerFix = `write provider: ${names.join(' or provider: ')}`;
  let provider: ProviderSection | undefined;
  const written = check.string(dns, 'provider', providerFix);
  if (written !== undefined) {
    const value = written.value.trim();
    provider = providers.find((p) => p.name === value);
    if (provider === undefined) check.report(written.node, `${quote(value)} is not a supported DNS provider (${names.join(', ')})`, providerFix);
  } else if (get(dns, 'provider') === undefined) {
    check.missing(dns, 'provider', providerFix);
  }

  const resolvers = validateResolvers(check, dns);
  const timeout = checkDuration(check, dns, 'propagation_timeout', 'dns.propagation_timeout');
  const interval = checkDuration(check, dns, 'propagation_interval', 'dns.propagation_interval');
  const propagationCheck = check.bool(dns, 'propagation_check');
  const nameserverPort = check.number(dns, 'nameserver_port', { min: 1, max: 65535, integer: true, what: 'the port authoritative nameservers answer on' });
  const expectTarget = validateExpectTarget(check, dns);
  const trustAnchors = validateTrustAnchors(check, dns);

  let section: SectionDraft | undefined;
  if (provider !== undefined) {
    const key = sectionKey(provider);
    const sectionNode = chosenSection(check, dns, provider);
    if (sectionNode === undefined && provider.missingFix !== undefined) check.missing(dns, key, provider.missingFix);
    else section = provider.validate(check, sectionNode, dns);
  }
  // Sections of the other providers may stay for switching back: they are checked, then dropped.
  for (const other of providers) {
    if (other === provider) continue;
    for (const key of sectionKeys(other)) {
      const otherNode = get(dns, key);
      if (otherNode === undefined) continue;
      other.validate(check, otherNode, dns);
      if (provider !== undefined) check.warn(otherNode, `is ignored: the DNS provider is ${provider.name}`);
    }
  }

  if (
    provider === undefined ||
    section === undefined ||
    timeout === undefined ||
    interval === undefined ||
    propagationCheck === undefined ||
    nameserverPort === undefined
  ) {
    return undefined;
  }
  // The provider's say on the propagation check counts only where the file leaves it at its default.
  const checkNode = get(dns, 'propagation_check');
  const defaulted = checkNode?.kind === 'scalar' && checkNode.defaulted === true;
  return {
    provider: provider.name,
    section,
    ...(resolvers === undefined ? {} : { resolvers }),
    propagationTimeoutMs: timeout.ms,
    propagationIntervalMs: interval.ms,
    propagationCheck: defaulted && section.propagationCheck !== undefined ? section.propagationCheck : propagationCheck,
    nameserverPort: nameserverPort.value,
    ...(expectTarget === undefined ? {} : { expectTarget }),
    ...(trustAnchors === undefined ? {} : { trustAnchors }),
  };
}

function validateResolvers(check: Checker, dns: MapNode): ServerAddress[] | undefined {
  const fix = 'write resolvers: ["127.0.0.1", "192.0.2.53:5353", "[2001:db8::53]:53"] (IP addresses), or remove the key to use the system resolver';
  const node = get(dns, 'resolvers');
  if (node === undefined) return undefined;
  const list = check.list(node, fix);
  if (list === undefined) return undefined;
  const resolvers: ServerAddress[] = [];
  for (const item of list.items) {
    const text = check.scalarString(item, fix);
    if (text === undefined) continue;
    const parsed = parseServerAddress(text, 53, true);
    if (!parsed.ok) check.report(item, `${quote(text)} ${parsed.reason}`, fix);
    else resolvers.push({ host: parsed.value.host, port: parsed.value.port });
  }
  return resolvers;
}

