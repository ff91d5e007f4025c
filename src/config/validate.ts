/**
 * Step 4 of the configuration pipeline: the (aliased, defaulted) tree -> a typed ConfigDraft, collecting
 * every problem with its line, key path and fix. Unknown keys are errors with a "did you mean" suggestion;
 * a value of the wrong type or out of range is an error, never a silent fallback.
 *
 * Secrets are not read here: the draft holds references (inline value, file, environment variable) that
 * secrets.ts resolves. Values of secret keys are never quoted in a message.
 */
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { DEFAULTS, TSIG_SECRET_ENV } from './defaults.js';
import type { ConfigProblem, ConfigProblemCode } from './problems.js';
import { formatProblem } from './problems.js';
import { validateClusterKeys } from './cluster.js';
import { CHECK_DNS_KEYS, CHECK_KEYS, validateCheckKeys, validateExpectTarget } from './check-keys.js';
import { RENEWAL_KEYS, validateRenewalKeys } from './renewal.js';
import { childPath, get, kindName, locate, type MapNode, type ScalarNode, type SeqNode, type TreeNode } from './tree.js';
import type {
  CertificateConfig,
  Config,
  DnsConfig,
  KeyType,
  Rfc2136Config,
  Route53Config,
  ServerAddress,
  TsigAlgorithm,
} from './types.js';
import {
  KEY_TYPE_SPELLINGS,
  TSIG_ALGORITHM_SPELLINGS,
  checkEmail,
  checkLineageName,
  closest,
  decodeBase64Secret,
  normalizeDomain,
  normalizeKeyName,
  normalizeZone,
  parseAcmeServer,
  parseKeyType,
  parseServerAddress,
  parseServiceUrl,
  parseTsigAlgorithm,
  showValue,
} from './values.js';

export const KNOWN_KEYS = {
  top: ['email', 'server', 'ca_bundle', 'state_dir', 'key_type', 'certificates', 'dns', ...RENEWAL_KEYS, ...CHECK_KEYS, 'cluster'],
  certificate: ['name', 'domains', 'key_type'],
  dns: ['provider', 'resolvers', 'propagation_timeout', 'propagation_interval', 'propagation_check', 'nameserver_port', 'rfc2136', 'route53', ...CHECK_DNS_KEYS],
  rfc2136: ['server', 'port', 'name', 'secret', 'secret_file', 'secret_env', 'algorithm', 'zone', 'tcp', 'ttl', 'timeout', 'retries'],
  route53: [
    'region',
    'profile',
    'access_key_id',
    'secret_access_key',
    'secret_access_key_file',
    'session_token',
    'role_arn',
    'external_id',
    'hosted_zone_id',
    'private_zone',
    'endpoint',
    'ttl',
  ],
} as const;

export const DNS_PROVIDERS = ['rfc2136', 'route53'] as const;

/** Where a value came from, for messages about it after validation. */
export interface Place {
  source: string;
  line: number;
  path: string;
}

/** A secret not yet read. `implicit`: the fallback environment variable, not written in the file. */
export type SecretRef =
  | { kind: 'inline'; value: string; at: Place }
  | { kind: 'file'; file: string; at: Place }
  | { kind: 'env'; variable: string; at: Place; implicit?: boolean };

export interface TsigDraft {
  /** Undefined only with a secret file, which may name the key itself (a BIND key file). */
  name?: string;
  nameAt: Place;
  algorithm: TsigAlgorithm;
  /** Written in the file (not the default): a key file's algorithm must then agree with it. */
  algorithmExplicit: boolean;
  algorithmAt: Place;
  secret: SecretRef;
}

export interface Rfc2136Draft extends Omit<Rfc2136Config, 'tsig'> {
  tsig?: TsigDraft;
  /** The section (for messages about keys that are not there). */
  at: Place;
}

export interface Route53Draft extends Omit<Route53Config, 'secretAccessKey'> {
  secretAccessKey?: SecretRef;
}

export interface DnsDraft extends Omit<DnsConfig, 'rfc2136' | 'route53'> {
  rfc2136?: Rfc2136Draft;
  route53?: Route53Draft;
}

/** A validated configuration whose secrets are still references. */
export interface ConfigDraft extends Omit<Config, 'dns'> {
  dns: DnsDraft;
}

export interface ValidateOptions {
  source: string;
  /** Directory that relative paths (ca_bundle, state_dir, secret files) are relative to. */
  baseDir: string;
}

export interface ValidationResult {
  draft?: ConfigDraft;
  problems: ConfigProblem[];
  warnings: string[];
}

const JINJA = /\{\{|\{%/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_TTL = 2_147_483_647;
/** Values are quoted in messages, except ones that look like secrets. */
const quote = showValue;

type At = { line: number; path: string };

/** Collects problems; every check returns undefined after reporting. */
export class Checker {
  readonly problems: ConfigProblem[] = [];
  readonly warnings: string[] = [];

  constructor(readonly options: ValidateOptions) {}

  place(at: At): Place {
    return { source: this.options.source, line: at.line, path: at.path };
  }

  report(at: At, message: string, fix?: string, code: ConfigProblemCode = 'CONFIG_INVALID'): undefined {
    this.problems.push({ code, source: this.options.source, line: at.line, path: at.path, message, ...(fix === undefined ? {} : { fix }) });
    return undefined;
  }

  warn(at: At, message: string): void {
    this.warnings.push(formatProblem({ code: 'CONFIG_INVALID', source: this.options.source, line: at.line, path: at.path, message }));
  }

  missing(map: MapNode, key: string, fix: string): undefined {
    const hint = map.absent?.[key];
    return this.report(locate(map, key), 'is missing', hint?.fix ?? fix);
  }

  /** The node as a mapping whose keys are all known. */
  map(node: TreeNode, known: readonly string[], fix: string): MapNode | undefined {
    if (node.kind !== 'map') return this.report(node, `must be a mapping of keys, not ${kindName(node)}`, fix);
    for (const [key, entry] of node.entries) {
      if (known.includes(key)) continue;
      const suggestion = closest(key, known);
      this.report(
        entry.node,
        `unknown key${suggestion ? `; did you mean ${suggestion}?` : ''}`,
        suggestion ? `rename it to ${suggestion}, or remove it` : `remove it; allowed here: ${known.join(', ')}`,
      );
    }
    return node;
  }

  scalarString(node: TreeNode, fix: string, secret = false): string | undefined {
    if (node.kind !== 'scalar' || typeof node.value !== 'string') {
      return this.report(node, `must be a string, not ${kindName(node)}`, secret ? fix : `${fix} (quote it if it looks like a number)`);
    }
    if (node.tag === '!vault') {
      return this.report(node, 'is encrypted with Ansible Vault', 'write the decrypted value (ansible-vault view), or keep the secret in a file and use secret_file');
    }
    if (node.tag !== '!unsafe' && JINJA.test(node.value)) {
      return this.report(node, 'is an unrendered Jinja template', `render the Ansible variables first (e.g. ansible HOST -m debug -a var=${node.path.split(/[.[]/)[0]}) and write the resulting value`);
    }
    return node.value;
  }

  string(map: MapNode, key: string, fix: string, secret = false): { value: string; node: ScalarNode } | undefined {
    const node = get(map, key);
    if (node === undefined) return undefined;
    const value = this.scalarString(node, fix, secret);
    if (value === undefined) return undefined;
    if (value.trim() === '') return this.report(node, 'is empty', fix);
    return { value, node: node as ScalarNode };
  }

  number(
    map: MapNode,
    key: string,
    rule: { min: number; max?: number; integer?: boolean; aboveMin?: boolean; what: string },
  ): { value: number; node: ScalarNode } | undefined {
    const node = get(map, key);
    if (node === undefined) return undefined;
    const bounds =
      rule.max === undefined
        ? `${rule.aboveMin ? 'greater than' : 'at least'} ${rule.min}`
        : `from ${rule.min} to ${rule.max}`;
    const fix = `write ${rule.integer ? 'a whole number' : 'a number'} ${bounds} (${rule.what})`;
    if (node.kind !== 'scalar' || typeof node.value !== 'number') {
      const shown = node.kind === 'scalar' && typeof node.value === 'string' ? `${quote(node.value)} is a string` : `is ${kindName(node)}`;
      return this.report(node, `must be a number: ${shown}`, fix);
    }
    const value = node.value;
    const inRange =
      Number.isFinite(value) &&
      (rule.aboveMin ? value > rule.min : value >= rule.min) &&
      (rule.max === undefined || value <= rule.max) &&
      (!rule.integer || Number.isInteger(value));
    if (!inRange) return this.report(node, `${value} is not ${rule.integer ? 'a whole number ' : ''}${bounds}`, fix);
    return { value, node: node as ScalarNode };
  }

  bool(map: MapNode, key: string): boolean | undefined {
    const node = get(map, key);
    if (node === undefined) return undefined;
    if (node.kind !== 'scalar' || typeof node.value !== 'boolean') {
      const shown = node.kind === 'scalar' && typeof node.value === 'string' ? `${quote(node.value)} is a string` : `is ${kindName(node)}`;
      return this.report(node, `must be true or false: ${shown}`, `write ${key}: true or ${key}: false`);
    }
    return node.value;
  }

  list(node: TreeNode, fix: string): SeqNode | undefined {
    if (node.kind !== 'seq') return this.report(node, `must be a list, not ${kindName(node)}`, fix);
    if (node.items.length === 0) return this.report(node, 'is an empty list', fix);
    return node;
  }

  path(map: MapNode, key: string, fix: string): string | undefined {
    const found = this.string(map, key, fix);
    if (found === undefined) return undefined;
    const text = found.value.trim();
    if (text.startsWith('~')) return this.report(found.node, `${quote(text)} starts with "~", which is not expanded`, 'write an absolute path');
    if (text.includes('\0')) return this.report(found.node, 'contains a NUL character', fix);
    return isAbsolute(text) ? resolvePath(text) : resolvePath(this.options.baseDir, text);
  }
}


/**
 * Validates the tree (after aliases and defaults). Returns a draft only when there are no problems.
 */
export function validateTree(root: MapNode, options: ValidateOptions): ValidationResult {
  const check = new Checker(options);
  check.map(root, KNOWN_KEYS.top, 'see the configuration reference');

  const email = validateEmail(check, root);
  const server = validateServer(check, root);
  const caBundle = check.path(root, 'ca_bundle', 'write the path of a PEM file with the CA certificates');
  const stateDir = check.path(root, 'state_dir', `write the absolute path of a directory (default ${DEFAULTS.state_dir})`);
  const keyType = validateKeyType(check, root, 'key_type') ?? 'ecdsa-p256';
  const certificates = validateCertificates(check, root, keyType);
  const dns = validateDns(check, root);
  const renewal = validateRenewalKeys(check, root);
  const checkSettings = validateCheckKeys(check, root);
  const cluster = validateClusterKeys(check, root);

  if (check.problems.length > 0 || server === undefined || stateDir === undefined || dns === undefined) {
    return { problems: check.problems, warnings: check.warnings };
  }
  const draft: ConfigDraft = {
    source: options.source,
    ...(email === undefined ? {} : { email }),
    server,
    ...(caBundle === undefined ? {} : { caBundle }),
    stateDir,
    keyType,
    certificates,
    dns,
    ...renewal,
    ...checkSettings,
    ...cluster,
    warnings: [],
  };
  return { draft, problems: [], warnings: check.warnings };
}

function validateEmail(check: Checker, root: MapNode): string | undefined {
  const found = check.string(root, 'email', 'write an e-mail address such as admin@example.org');
  if (found === undefined) return undefined;
  const parsed = checkEmail(found.value);
  if (!parsed.ok) return check.report(found.node, `${quote(found.value)} ${parsed.reason}`, 'write an e-mail address such as admin@example.org');
  return parsed.value;
}

function validateServer(check: Checker, root: MapNode): string | undefined {
  const fix = 'write letsencrypt, letsencrypt-staging or the https:// URL of an ACME directory (http only for localhost/127.x)';
  const found = check.string(root, 'server', fix);
  if (found === undefined) return get(root, 'server') === undefined ? check.missing(root, 'server', fix) : undefined;
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

function validateCertificates(check: Checker, root: MapNode, defaultKeyType: KeyType): CertificateConfig[] {
  const exampleFix = 'add certificates: with a list of entries like - domains: [galaxy.example.org, "*.ep.interactivetool.galaxy.example.org"]';
  const node = get(root, 'certificates');
  if (node === undefined) {
    check.missing(root, 'certificates', exampleFix);
    return [];
  }
  const list = check.list(node, exampleFix);
  if (list === undefined) return [];

  const certificates: CertificateConfig[] = [];
  const names = new Map<string, At>();
  list.items.forEach((item) => {
    const map = check.map(item, KNOWN_KEYS.certificate, 'write each certificate as a mapping with domains: (and optionally name:, key_type:)');
    if (map === undefined) return;
    const domains = validateDomains(check, map);
    const keyType = validateKeyType(check, map, 'key_type') ?? defaultKeyType;

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
    certificates.push({ name, domains, keyType });
  });
  return certificates;
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

function validateDns(check: Checker, root: MapNode): DnsDraft | undefined {
  const sectionFix = 'add dns: with provider: rfc2136 (and an rfc2136: section) or provider: route53';
  const node = get(root, 'dns');
  if (node === undefined) return check.missing(root, 'dns', sectionFix);
  const dns = check.map(node, KNOWN_KEYS.dns, sectionFix);
  if (dns === undefined) return undefined;

  const providerFix = `write provider: ${DNS_PROVIDERS.join(' or provider: ')}`;
  let provider: DnsDraft['provider'] | undefined;
  const written = check.string(dns, 'provider', providerFix);
  if (written !== undefined) {
    const value = written.value.trim();
    if ((DNS_PROVIDERS as readonly string[]).includes(value)) provider = value as DnsDraft['provider'];
    else check.report(written.node, `${quote(value)} is not a supported DNS provider (${DNS_PROVIDERS.join(', ')})`, providerFix);
  } else if (get(dns, 'provider') === undefined) {
    check.missing(dns, 'provider', providerFix);
  }

  const resolvers = validateResolvers(check, dns);
  const timeout = check.number(dns, 'propagation_timeout', { min: 0, aboveMin: true, what: 'seconds to wait for every nameserver' });
  const interval = check.number(dns, 'propagation_interval', { min: 0.001, what: 'seconds between propagation checks' });
  const propagationCheck = check.bool(dns, 'propagation_check');
  const nameserverPort = check.number(dns, 'nameserver_port', { min: 1, max: 65535, integer: true, what: 'the port authoritative nameservers answer on' });
  const expectTarget = validateExpectTarget(check, dns);

  const rfcNode = get(dns, 'rfc2136');
  const rfc2136 = rfcNode === undefined ? undefined : validateRfc2136(check, rfcNode);
  if (provider === 'rfc2136' && rfcNode === undefined) {
    check.missing(dns, 'rfc2136', 'add an rfc2136: section with server: and, for TSIG, name:, secret_file: and algorithm:');
  }
  const r53Node = get(dns, 'route53');
  const route53 = r53Node === undefined ? (provider === 'route53' ? defaultRoute53() : undefined) : validateRoute53(check, r53Node);

  if (provider === 'rfc2136' && r53Node !== undefined) check.warn(r53Node, 'is ignored: the DNS provider is rfc2136');
  if (provider === 'route53' && rfcNode !== undefined) check.warn(rfcNode, 'is ignored: the DNS provider is route53');

  if (
    provider === undefined ||
    timeout === undefined ||
    interval === undefined ||
    propagationCheck === undefined ||
    nameserverPort === undefined
  ) {
    return undefined;
  }
  const draft: DnsDraft = {
    provider,
    ...(resolvers === undefined ? {} : { resolvers }),
    propagationTimeout: timeout.value,
    propagationInterval: Math.round(interval.value * 1000),
    propagationCheck,
    nameserverPort: nameserverPort.value,
    ...(expectTarget === undefined ? {} : { expectTarget }),
  };
  if (provider === 'rfc2136') {
    if (rfc2136 === undefined) return undefined;
    draft.rfc2136 = rfc2136;
  } else {
    if (route53 === undefined) return undefined;
    draft.route53 = route53;
    // A private hosted zone is not served by the public nameservers that the propagation check asks:
    // unless the file says otherwise, Route53's own INSYNC is the signal.
    const checkNode = get(dns, 'propagation_check');
    if (route53.privateZone && checkNode?.kind === 'scalar' && checkNode.defaulted === true) draft.propagationCheck = false;
  }
  return draft;
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

function validateRfc2136(check: Checker, node: TreeNode): Rfc2136Draft | undefined {
  const sectionFix = 'write rfc2136: as a mapping with server:, and name:, secret_file:, algorithm: for TSIG';
  const map = check.map(node, KNOWN_KEYS.rfc2136, sectionFix);
  if (map === undefined) return undefined;

  const port = check.number(map, 'port', { min: 1, max: 65535, integer: true, what: 'the port of the DNS server' });
  const serverFix = 'write the IP address or host name of the primary DNS server, e.g. server: 192.0.2.53';
  let server: ServerAddress | undefined;
  const serverText = check.string(map, 'server', serverFix);
  if (serverText === undefined) {
    if (get(map, 'server') === undefined) check.missing(map, 'server', serverFix);
  } else if (port !== undefined) {
    const parsed = parseServerAddress(serverText.value, port.value, false);
    if (!parsed.ok) {
      check.report(serverText.node, `${quote(serverText.value)} ${parsed.reason}`, serverFix);
    } else if (parsed.value.portGiven && !port.node.defaulted && parsed.value.port !== port.value) {
      check.report(serverText.node, `names port ${parsed.value.port} but port: says ${port.value}`, 'write the port in one place only');
    } else {
      server = { host: parsed.value.host, port: parsed.value.port };
    }
  }

  const tsig = validateTsig(check, map);
  const zoneText = check.string(map, 'zone', 'write the zone name, e.g. zone: example.org');
  let zone: string | undefined;
  if (zoneText !== undefined) {
    const parsed = normalizeZone(zoneText.value);
    if (parsed.ok) zone = parsed.value;
    else check.report(zoneText.node, `${quote(zoneText.value)} ${parsed.reason}`, 'write the zone name, e.g. zone: example.org');
  }
  const tcp = check.bool(map, 'tcp');
  const ttl = check.number(map, 'ttl', { min: 0, max: MAX_TTL, integer: true, what: 'seconds' });
  const timeout = check.number(map, 'timeout', { min: 0.001, what: 'seconds per attempt' });
  const retries = check.number(map, 'retries', { min: 1, max: 100, integer: true, what: 'attempts per message' });

  if (server === undefined || tsig === null || tcp === undefined || ttl === undefined || timeout === undefined || retries === undefined) {
    return undefined;
  }
  return {
    server,
    ...(tsig === undefined ? {} : { tsig }),
    ...(zone === undefined ? {} : { zone }),
    tcp,
    ttl: ttl.value,
    timeoutMs: Math.round(timeout.value * 1000),
    retries: retries.value,
    at: check.place(map),
  };
}

/** The TSIG key (undefined: unsigned updates; null: a problem was reported). */
function validateTsig(check: Checker, map: MapNode): TsigDraft | undefined | null {
  const nameFix = 'write the TSIG key name as in the server\'s key statement, e.g. name: certbot-training.';
  const secretFix = `write the base64 secret of the TSIG key (better: keep it in a file and use secret_file:, or set ${TSIG_SECRET_ENV})`;
  const algorithmFix = `write one of ${TSIG_ALGORITHM_SPELLINGS} (any case, trailing dot optional)`;
  let failed = false;

  let name: string | undefined;
  const nameText = check.string(map, 'name', nameFix);
  if (nameText !== undefined) {
    const parsed = normalizeKeyName(nameText.value);
    if (parsed.ok) name = parsed.value;
    else {
      check.report(nameText.node, `${quote(nameText.value)} ${parsed.reason}`, nameFix);
      failed = true;
    }
  } else if (get(map, 'name') !== undefined) {
    failed = true;
  }

  let algorithm: TsigAlgorithm | undefined;
  const algorithmNode = get(map, 'algorithm');
  const algorithmText = check.string(map, 'algorithm', algorithmFix);
  if (algorithmText !== undefined) {
    algorithm = parseTsigAlgorithm(algorithmText.value);
    if (algorithm === undefined) {
      check.report(algorithmText.node, `${quote(algorithmText.value)} is not a TSIG algorithm`, algorithmFix);
      failed = true;
    }
  } else if (algorithmNode !== undefined) {
    failed = true;
  }

  const sources: SecretRef[] = [];
  const inline = check.string(map, 'secret', secretFix, true);
  if (inline !== undefined) {
    if (decodeBase64Secret(inline.value) === undefined) {
      check.report(inline.node, 'is not a base64 TSIG secret', 'write the secret exactly as in the server\'s key statement (base64, e.g. from tsig-keygen)');
      failed = true;
    } else {
      sources.push({ kind: 'inline', value: inline.value, at: check.place(inline.node) });
    }
  } else if (get(map, 'secret') !== undefined) {
    failed = true;
  }
  const file = check.path(map, 'secret_file', 'write the path of a file holding the secret (or a BIND key file)');
  if (file !== undefined) sources.push({ kind: 'file', file, at: check.place(locate(map, 'secret_file')) });
  else if (get(map, 'secret_file') !== undefined) failed = true;
  const env = check.string(map, 'secret_env', 'write the name of an environment variable, e.g. secret_env: TSIG_SECRET');
  if (env !== undefined) {
    if (ENV_NAME.test(env.value.trim())) sources.push({ kind: 'env', variable: env.value.trim(), at: check.place(env.node) });
    else {
      check.report(env.node, `${quote(env.value)} is not an environment variable name`, 'write a name of letters, digits and "_", e.g. secret_env: TSIG_SECRET');
      failed = true;
    }
  } else if (get(map, 'secret_env') !== undefined) {
    failed = true;
  }

  if (sources.length > 1) {
    for (const extra of sources.slice(1)) {
      check.report(extra.at, `is a second source for the TSIG secret (also ${sources[0]!.at.path})`, 'keep only one of secret, secret_file and secret_env');
    }
    return null;
  }
  if (failed || algorithm === undefined) return null;
  const secret = sources[0];
  const nameAt = check.place(locate(map, 'name'));
  const algorithmAt = check.place(locate(map, 'algorithm'));
  const algorithmExplicit = !(algorithmNode?.kind === 'scalar' && algorithmNode.defaulted === true);

  if (name === undefined && secret === undefined) return undefined;
  if (name === undefined && secret !== undefined && secret.kind !== 'file') {
    check.report(secret.at, 'is a TSIG secret without a key name', `add ${nameAt.path}: with the key name from the server's key statement (e.g. certbot-training.)`);
    return null;
  }
  return {
    ...(name === undefined ? {} : { name }),
    nameAt,
    algorithm,
    algorithmExplicit,
    algorithmAt,
    secret: secret ?? { kind: 'env', variable: TSIG_SECRET_ENV, at: nameAt, implicit: true },
  };
}

function defaultRoute53(): Route53Draft {
  return { privateZone: DEFAULTS.route53.private_zone, ttl: DEFAULTS.route53.ttl };
}

function validateRoute53(check: Checker, node: TreeNode): Route53Draft | undefined {
  const map = check.map(node, KNOWN_KEYS.route53, 'write route53: as a mapping (region:, profile:, hosted_zone_id:, ...)');
  if (map === undefined) return undefined;
  const before = check.problems.length;

  const text = (key: string, fix: string, pattern?: RegExp, what?: string, secret = false): string | undefined => {
    const found = check.string(map, key, fix, secret);
    if (found === undefined) return undefined;
    const value = found.value.trim();
    if (pattern !== undefined && !pattern.test(value)) {
      return check.report(found.node, secret ? `is not ${what}` : `${quote(value)} is not ${what}`, fix);
    }
    return value;
  };

  const region = text('region', 'write an AWS region such as us-east-1', /^[a-z]{2}(-[a-z]+)+-\d+$/, 'an AWS region');
  const profile = text('profile', 'write the name of a profile in ~/.aws/config');
  const accessKeyId = text('access_key_id', 'write the access key ID (AKIA...)', /^[A-Z0-9]{16,128}$/, 'an AWS access key ID', true);
  const sessionToken = text('session_token', 'write the session token, or remove it', /^\S+$/, 'a session token', true);
  const roleArn = text('role_arn', 'write a role ARN such as arn:aws:iam::123456789012:role/gxit-cert', /^arn:aws[a-z-]*:iam::\d{12}:role\/\S+$/, 'an IAM role ARN');
  const externalId = text('external_id', 'write the external ID required by the role');
  const zoneId = text('hosted_zone_id', 'write the hosted zone ID, e.g. Z0123456789ABCDEFGHIJ', /^(\/hostedzone\/)?[A-Z0-9]+$/, 'a hosted zone ID');
  const privateZone = check.bool(map, 'private_zone');
  const ttl = check.number(map, 'ttl', { min: 0, max: MAX_TTL, integer: true, what: 'seconds' });

  let endpoint: string | undefined;
  const endpointText = check.string(map, 'endpoint', 'write an https:// URL (http only for localhost/127.x)');
  if (endpointText !== undefined) {
    const parsed = parseServiceUrl(endpointText.value);
    if (parsed.ok) endpoint = parsed.value;
    else check.report(endpointText.node, `${quote(endpointText.value)} ${parsed.reason}`, 'write an https:// URL (http only for localhost/127.x)');
  }

  let secretAccessKey: SecretRef | undefined;
  const secretFix = 'write the secret access key, or better secret_access_key_file: with the path of a file holding it';
  const inline = text('secret_access_key', secretFix, /^\S+$/, 'a secret access key (it contains white space)', true);
  const file = check.path(map, 'secret_access_key_file', 'write the path of a file holding the secret access key');
  if (inline !== undefined && file !== undefined) {
    check.report(locate(map, 'secret_access_key_file'), 'is a second source for the secret access key (also secret_access_key)', 'keep only one of secret_access_key and secret_access_key_file');
  } else if (inline !== undefined) {
    secretAccessKey = { kind: 'inline', value: inline, at: check.place(locate(map, 'secret_access_key')) };
  } else if (file !== undefined) {
    secretAccessKey = { kind: 'file', file, at: check.place(locate(map, 'secret_access_key_file')) };
  }

  const hasSecret = get(map, 'secret_access_key') !== undefined || get(map, 'secret_access_key_file') !== undefined;
  if (get(map, 'access_key_id') !== undefined && !hasSecret) {
    check.report(locate(map, 'access_key_id'), 'needs a secret access key', 'add secret_access_key_file: (or secret_access_key:)');
  }
  if (hasSecret && get(map, 'access_key_id') === undefined) {
    check.report(locate(map, get(map, 'secret_access_key') !== undefined ? 'secret_access_key' : 'secret_access_key_file'), 'needs an access key ID', 'add access_key_id:');
  }
  if (get(map, 'session_token') !== undefined && get(map, 'access_key_id') === undefined) {
    check.report(locate(map, 'session_token'), 'is only used with access_key_id and a secret access key', 'add access_key_id: and secret_access_key_file:, or remove session_token');
  }
  if (get(map, 'profile') !== undefined && get(map, 'access_key_id') !== undefined) {
    check.report(locate(map, 'profile'), 'and access_key_id both choose credentials', 'keep either profile: or access_key_id: with its secret');
  }
  if (get(map, 'external_id') !== undefined && get(map, 'role_arn') === undefined) {
    check.report(locate(map, 'external_id'), 'is only used when assuming a role', 'add role_arn:, or remove external_id');
  }

  if (check.problems.length > before || privateZone === undefined || ttl === undefined) return undefined;
  return {
    ...(region === undefined ? {} : { region }),
    ...(profile === undefined ? {} : { profile }),
    ...(accessKeyId === undefined ? {} : { accessKeyId }),
    ...(secretAccessKey === undefined ? {} : { secretAccessKey }),
    ...(sessionToken === undefined ? {} : { sessionToken }),
    ...(roleArn === undefined ? {} : { roleArn }),
    ...(externalId === undefined ? {} : { externalId }),
    ...(zoneId === undefined ? {} : { hostedZoneId: zoneId.replace(/^\/hostedzone\//, '') }),
    privateZone,
    ...(endpoint === undefined ? {} : { endpoint }),
    ttl: ttl.value,
  };
}
