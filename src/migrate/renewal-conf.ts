/**
 * What one certbot renewal/<name>.conf means for gxit-cert (pure): the CA, the account, the key type,
 * the DNS provider, the hooks and the renewal window, plus a warning for every setting that has no
 * counterpart. Fields certbot needs and gxit-cert does not (its own directories, the sleep before
 * validation) are listed as notes, not warnings.
 */
import type { KeyType } from '../config/types.js';
import { LETSENCRYPT_DIRECTORY } from '../config/types.js';
import { looksLikeSecret } from '../config/values.js';
import { isNone, parseBool, scalarOf, type CoSection, type CoValue } from './configobj.js';
import { keyTypeFromParams } from './key-type.js';

export type ProviderMapping =
  | { kind: 'rfc2136'; credentials: string }
  | { kind: 'route53' }
  | { kind: 'unsupported'; authenticator: string };

export interface HookSpec {
  phase: 'pre' | 'deploy' | 'post';
  /** A shell command (as certbot runs it, /bin/sh -c) or an argv. */
  command: { shell: string } | { argv: string[] };
  /** Where it came from, for the config's comment. */
  origin: string;
}

export interface RenewalMapping {
  name: string;
  server: string;
  accountId?: string;
  /** From key_type/rsa_key_size/elliptic_curve; undefined when the file does not say (keep the current key's type). */
  keyType?: KeyType;
  provider: ProviderMapping;
  hooks: HookSpec[];
  renewBeforeDays?: number;
  /** [acme_renewal_info] ari_retry_after, ISO 8601. */
  ariRetryAfter?: string;
  /** reuse_key = True: renewals keep the live private key (config reuse_key:, per certificate). */
  reuseKey?: boolean;
  /** preferred_chain: the issuer common name of the chain to take (config preferred_chain:, per certificate). */
  preferredChain?: string;
  /** autorenew = False already: certbot does not renew this lineage. */
  autorenewOff: boolean;
  /** The live/ paths certbot recorded (cert, privkey, chain, fullchain), to check they are the usual ones. */
  recordedPaths: Partial<Record<'cert' | 'privkey' | 'chain' | 'fullchain' | 'archive_dir', string>>;
  warnings: string[];
  notes: string[];
}

/** Settings that only concern certbot itself: nothing to carry over. */
const CERTBOT_ONLY: Record<string, string> = {
  version: 'the certbot release that wrote the file',
  config_dir: "certbot's directories",
  work_dir: "certbot's directories",
  logs_dir: "certbot's directories",
  dns_rfc2136_propagation_seconds: 'gxit-cert asks every authoritative nameserver instead of sleeping',
  dns_route53_propagation_seconds: 'gxit-cert asks every authoritative nameserver instead of sleeping',
  manual_public_ip_logging_ok: 'a question certbot no longer asks',
  pref_challs: 'gxit-cert always answers dns-01',
  strict_permissions: 'gxit-cert always writes private files 0600',
  uir: 'an nginx/apache installer setting',
  hsts: 'an nginx/apache installer setting',
  redirect: 'an nginx/apache installer setting',
  staple_ocsp: 'an nginx/apache installer setting',
};

const CONSUMED_PARAMS = new Set([
  'account',
  'server',
  'authenticator',
  'installer',
  'key_type',
  'rsa_key_size',
  'elliptic_curve',
  'renew_hook',
  'deploy_hook',
  'pre_hook',
  'post_hook',
  'dns_rfc2136_credentials',
  'autorenew',
  'renew_before_expiry',
  'reuse_key',
  'preferred_chain',
]);
const CONSUMED_TOP = new Set(['version', 'archive_dir', 'cert', 'privkey', 'chain', 'fullchain', 'renew_before_expiry']);

export function mapRenewalConf(name: string, root: CoSection): RenewalMapping {
  const params = root.sections.get('renewalparams');
  const warnings: string[] = [];
  const notes: string[] = [];
  const param = (key: string): string | undefined => scalarOf(params, key);

  const server = param('server') ?? LETSENCRYPT_DIRECTORY;
  const accountId = param('account');
  if (accountId === undefined) warnings.push(`${name}: no account in [renewalparams]; gxit-cert registers a new one at the next order`);

  const keyResult = keyTypeFromParams({
    ...optional('key_type', param('key_type')),
    ...optional('rsa_key_size', param('rsa_key_size')),
    ...optional('elliptic_curve', param('elliptic_curve')),
  });
  let keyType: KeyType | undefined;
  if (keyResult?.ok === true) keyType = keyResult.keyType;
  else if (keyResult?.ok === false) warnings.push(`${name}: ${keyResult.reason}; the key type of the current key is kept`);

  const authenticator = param('authenticator') ?? 'None';
  let provider: ProviderMapping;
  if (authenticator === 'dns-rfc2136') {
    const credentials = param('dns_rfc2136_credentials');
    if (credentials === undefined) {
      warnings.push(`${name}: authenticator dns-rfc2136 without dns_rfc2136_credentials; fill in dns.rfc2136 in the written configuration`);
      provider = { kind: 'unsupported', authenticator };
    } else {
      provider = { kind: 'rfc2136', credentials };
    }
  } else if (authenticator === 'dns-route53') {
    provider = { kind: 'route53' };
  } else {
    provider = { kind: 'unsupported', authenticator };
    warnings.push(
      `${name}: authenticator ${authenticator} cannot be carried over (import-certbot maps dns-rfc2136 and dns-route53; gxit-cert validates with DNS-01 only); fill in dns: in the written configuration (docs/providers.md)`,
    );
  }

  const installer = param('installer');
  if (installer !== undefined) {
    warnings.push(`${name}: installer ${installer} is not carried over (gxit-cert edits no server configuration); add a deploy hook such as reload-nginx`);
  }

  const hooks: HookSpec[] = [];
  const hook = (phase: HookSpec['phase'], key: string): void => {
    const command = param(key);
    if (command !== undefined && command.trim() !== '') hooks.push({ phase, command: { shell: command }, origin: `${key} of renewal/${name}.conf` });
  };
  hook('pre', 'pre_hook');
  // certbot records --deploy-hook as renew_hook; a hand-written deploy_hook means the same.
  hook('deploy', 'renew_hook');
  hook('deploy', 'deploy_hook');
  hook('post', 'post_hook');

  const renewBefore = scalarOf(root, 'renew_before_expiry') ?? param('renew_before_expiry');
  let renewBeforeDays: number | undefined;
  if (renewBefore !== undefined) {
    renewBeforeDays = parseRenewBefore(renewBefore);
    if (renewBeforeDays === undefined) warnings.push(`${name}: renew_before_expiry = ${renewBefore} is not a number of days or weeks; gxit-cert's default applies`);
  }

  // certbot's --reuse-key and --preferred-chain have the same meaning as gxit-cert's keys of these names.
  const reuse = param('reuse_key');
  let reuseKey: boolean | undefined;
  if (reuse !== undefined) {
    reuseKey = parseBool(reuse);
    if (reuseKey === undefined) warnings.push(`${name}: reuse_key = ${reuse} is not True or False; a new key is made for every certificate`);
  }
  const chain = param('preferred_chain')?.trim();
  const preferredChain = chain === undefined || chain === '' ? undefined : chain;

  const autorenew = param('autorenew');
  const autorenewOff = autorenew !== undefined && parseBool(autorenew) === false;
  if (autorenewOff) notes.push(`${name}: autorenew is already off in certbot`);

  const ari = root.sections.get('acme_renewal_info');
  const retryAfter = scalarOf(ari, 'ari_retry_after');
  let ariRetryAfter: string | undefined;
  if (retryAfter !== undefined) {
    const ms = Date.parse(retryAfter);
    if (Number.isNaN(ms)) warnings.push(`${name}: [acme_renewal_info] ari_retry_after = ${retryAfter} is not a time; ignored`);
    else ariRetryAfter = new Date(ms).toISOString();
  }

  for (const [key, entry] of params?.values ?? []) {
    if (CONSUMED_PARAMS.has(key) || isNone(entry.value)) continue;
    const why = CERTBOT_ONLY[key] ?? reasonForUnmapped(key, entry.value);
    if (why.startsWith('!')) warnings.push(`${name}: ${key} = ${show(key, entry.value)} is not carried over: ${why.slice(1)}`);
    else notes.push(`${name}: ${key} not needed (${why})`);
  }
  for (const sub of params?.sections.keys() ?? []) {
    warnings.push(`${name}: [[${sub}]] in [renewalparams] is not carried over${sub === 'webroot_map' ? ' (webroot validation; gxit-cert validates with DNS-01)' : ''}`);
  }
  for (const [key, entry] of root.values) {
    if (!CONSUMED_TOP.has(key) && !isNone(entry.value)) warnings.push(`${name}: ${key} = ${show(key, entry.value)} (line ${entry.line}) is not carried over`);
  }
  for (const sub of root.sections.keys()) {
    if (sub !== 'renewalparams' && sub !== 'acme_renewal_info') warnings.push(`${name}: section [${sub}] is not carried over`);
  }
  for (const key of ari?.values.keys() ?? []) {
    if (key !== 'ari_retry_after') warnings.push(`${name}: [acme_renewal_info] ${key} is not carried over`);
  }

  const recordedPaths: RenewalMapping['recordedPaths'] = {};
  for (const key of ['cert', 'privkey', 'chain', 'fullchain', 'archive_dir'] as const) {
    const value = scalarOf(root, key);
    if (value !== undefined) recordedPaths[key] = value;
  }

  return {
    name,
    server,
    ...(accountId === undefined ? {} : { accountId }),
    ...(keyType === undefined ? {} : { keyType }),
    provider,
    hooks,
    ...(renewBeforeDays === undefined ? {} : { renewBeforeDays }),
    ...(ariRetryAfter === undefined ? {} : { ariRetryAfter }),
    ...(reuseKey === undefined ? {} : { reuseKey }),
    ...(preferredChain === undefined ? {} : { preferredChain }),
    autorenewOff,
    recordedPaths,
    warnings,
    notes,
  };
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

/** The reason an unknown setting is not carried over; "!" marks one worth a warning. */
function reasonForUnmapped(key: string, value: CoValue): string {
  if (key === 'must_staple') return parseBool(String(value)) === true ? '!gxit-cert does not request OCSP must-staple' : 'off';
  if (key === 'no_verify_ssl') return parseBool(String(value)) === true ? '!set ca_bundle to trust a test CA instead' : 'off';
  if (key.startsWith('dns_rfc2136_') || key.startsWith('dns_route53_')) return '!a DNS plugin setting gxit-cert has no counterpart for';
  return '!gxit-cert has no counterpart for it';
}

/** A value for a warning: a secret (an EAB HMAC key, a token) is not echoed. */
function show(key: string, value: CoValue): string {
  const text = Array.isArray(value) ? value.join(', ') : value;
  return looksLikeSecret(text) || /secret|token|password|hmac/i.test(key) ? '(not shown)' : text;
}

/** certbot's renew_before_expiry: "30 days", "2 weeks", "10 d" (certbot reads it with parsedatetime). */
export function parseRenewBefore(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(d|day|days|w|week|weeks)\s*$/i.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  const days = m[2]!.toLowerCase().startsWith('w') ? n * 7 : n;
  return days > 0 ? days : undefined;
}
