/**
 * Step 2 of the configuration pipeline: the Ansible role vocabulary of the Galaxy training
 * (usegalaxy_eu.certbot: certbot_domains, certbot_dns_provider, certbot_dns_credentials, ...) rewritten
 * into the native tree, so a rendered group_vars file works as a configuration.
 *
 * A file is in Ansible vocabulary when any top-level key starts with `certbot_`. Then:
 * - top-level keys that are neither native nor `certbot_` belong to other roles and are ignored;
 * - native keys win over their alias when both are present (with a warning);
 * - role keys that gxit-cert does not need are ignored, with a warning only where ignoring them
 *   changes what happens on the machine (post-renewal commands, shared keys, ...);
 * - values keep their written key path (`certbot_dns_credentials.algorithm`), so problems name
 *   the key the user wrote.
 * A native file passes through unchanged.
 */
import type { ConfigProblem } from './problems.js';
import { formatProblem } from './problems.js';
import { sectionKey, type AnsibleAliases, type ProviderSection } from './provider-section.js';
import { get, mapNode, type AbsentKeyHint, type MapNode, type ScalarNode, type SeqNode, type TreeNode } from './tree.js';
import { closest, showValue } from './values.js';

export const NATIVE_TOP_LEVEL_KEYS = ['email', 'server', 'ca_bundle', 'eab', 'profile', 'preferred_chain', 'reuse_key', 'notify', 'state_dir', 'key_type', 'certificates', 'dns', 'hooks', 'renew_before_days', 'verify_served', 'caa_identities'] as const;

/** Role keys gxit-cert reads, and what they become. */
export const ANSIBLE_ALIASES: Readonly<Record<string, string>> = {
  certbot_domains: 'certificates[0].domains',
  certbot_hostname_override: 'certificates[0].name',
  certbot_admin_email: 'email',
  certbot_environment: 'server (staging: letsencrypt-staging, production: letsencrypt)',
  certbot_dns_provider: 'dns.provider',
  certbot_dns_credentials: 'dns.<provider> (the section of the provider certbot_dns_provider names)',
};

/**
 * Role keys gxit-cert does not need. A function returns a warning (without location) when ignoring
 * the key changes the outcome; keys mapped to undefined are ignored silently.
 */
const IGNORED_ROLE_KEYS: Readonly<Record<string, ((node: TreeNode) => string | undefined) | undefined>> = {
  certbot_post_renewal: (node) =>
    isEmpty(node) ? undefined : 'is not run by gxit-cert; reload or restart the web server from a gxit-cert deploy hook instead',
  certbot_share_key_users: (node) =>
    isEmpty(node) ? undefined : 'is ignored: gxit-cert does not copy the private key for other users; read it from the state directory or copy it in a deploy hook',
  certbot_letsencrypt_dir: () => 'is ignored: gxit-cert keeps certificates under state_dir (default /etc/gxit-cert), not under the certbot directory',
  certbot_dns_provider_propagation_seconds: () =>
    'is ignored: gxit-cert asks every authoritative nameserver instead of sleeping; dns.propagation_timeout bounds the wait',
  certbot_agree_tos: undefined,
  certbot_auth_method: undefined,
  certbot_install_method: undefined,
  certbot_install_from_source: undefined,
  certbot_package: undefined,
  certbot_script: undefined,
  certbot_repo: undefined,
  certbot_version: undefined,
  certbot_keep_updated: undefined,
  certbot_dir: undefined,
  certbot_expand: undefined,
  certbot_force_run: undefined,
  certbot_well_known_root: undefined,
  certbot_dns_credentials_file: undefined,
  certbot_dns_plugin_package: undefined,
  certbot_share_key_dir: undefined,
  certbot_ssl_group: undefined,
  certbot_ssl_private_dir_mode: undefined,
  certbot_virtualenv_package_name: undefined,
  certbot_virtualenv_command: undefined,
  certbot_auto_renew: undefined,
  certbot_auto_renew_user: undefined,
  certbot_auto_renew_hour: undefined,
  certbot_auto_renew_minute: undefined,
  certbot_auto_renew_extra: undefined,
  certbot_auto_renew_cron_file: undefined,
};

export const KNOWN_ROLE_KEYS: readonly string[] = [...Object.keys(ANSIBLE_ALIASES), ...Object.keys(IGNORED_ROLE_KEYS)];

export interface AliasResult {
  root: MapNode;
  /** The file uses the Ansible role vocabulary. */
  ansible: boolean;
  warnings: string[];
  problems: ConfigProblem[];
}

export function isAnsibleVocabulary(root: MapNode): boolean {
  return [...root.entries.keys()].some((key) => key.startsWith('certbot_'));
}

/**
 * Rewrites a file in the role's vocabulary. `providers`: the registered ones, whose descriptors say
 * which certbot_dns_provider value selects them and how their certbot_dns_credentials keys are named.
 */
export function applyAliases(root: MapNode, source: string, providers: readonly ProviderSection[]): AliasResult {
  if (!isAnsibleVocabulary(root)) return { root, ansible: false, warnings: [], problems: [] };

  const notes: { line: number; text: string }[] = [];
  const problems: ConfigProblem[] = [];
  const warn = (node: TreeNode, message: string): void => {
    notes.push({ line: node.line, text: formatProblem({ code: 'CONFIG_INVALID', source, line: node.line, path: node.path, message }) });
  };
  const native = (key: string): TreeNode | undefined => get(root, key);
  const alias = (key: string): TreeNode | undefined => get(root, key);

  const out = mapNode(root.line, '');
  for (const key of NATIVE_TOP_LEVEL_KEYS) {
    const entry = root.entries.get(key);
    if (entry !== undefined) out.entries.set(key, entry);
  }

  // Keys of other roles and unknown role keys.
  for (const [key, { node }] of root.entries) {
    if ((NATIVE_TOP_LEVEL_KEYS as readonly string[]).includes(key) || key in ANSIBLE_ALIASES) continue;
    if (key.startsWith('certbot_')) {
      if (key in IGNORED_ROLE_KEYS) {
        const message = IGNORED_ROLE_KEYS[key]?.(node);
        if (message !== undefined) warn(node, message);
      } else {
        const suggestion = closest(key, KNOWN_ROLE_KEYS);
        warn(node, `is not a key of the certbot role gxit-cert understands and is ignored${suggestion ? `; did you mean ${suggestion}?` : ''}`);
      }
      continue;
    }
    const suggestion = closest(key, NATIVE_TOP_LEVEL_KEYS, 1);
    if (suggestion !== undefined) warn(node, `is ignored (this file is read as Ansible variables); did you mean ${suggestion}?`);
  }

  /** Uses the alias for `nativeKey` in `target` unless the native value is there. */
  const adopt = (target: MapNode, nativeKey: string, nativeNode: TreeNode | undefined, value: TreeNode): void => {
    if (nativeNode !== undefined) {
      warn(value, `is ignored: ${nativeNode.path} (line ${nativeNode.line}) takes precedence`);
      return;
    }
    target.entries.set(nativeKey, { key: nativeKey, node: value });
  };

  const email = alias('certbot_admin_email');
  if (email !== undefined) adopt(out, 'email', native('email'), email);

  const environment = alias('certbot_environment');
  if (environment !== undefined) {
    const server = environmentServer(environment, source, problems);
    if (server !== undefined) adopt(out, 'server', native('server'), server);
  }

  const domains = alias('certbot_domains');
  const hostnameOverride = alias('certbot_hostname_override');
  if (domains !== undefined) {
    if (native('certificates') !== undefined) {
      adopt(out, 'certificates', native('certificates'), domains);
      if (hostnameOverride !== undefined) warn(hostnameOverride, `is ignored: ${native('certificates')?.path} takes precedence`);
    } else {
      const certificate = mapNode(domains.line, domains.path, [{ key: 'domains', node: domains }]);
      if (hostnameOverride !== undefined) certificate.entries.set('name', { key: 'name', node: hostnameOverride });
      const certificates: SeqNode = { kind: 'seq', line: domains.line, path: domains.path, items: [certificate] };
      out.entries.set('certificates', { key: 'certificates', node: certificates });
    }
  } else if (hostnameOverride !== undefined && native('certificates') === undefined) {
    warn(hostnameOverride, 'is ignored: there is no certbot_domains list it could name');
  }

  const provider = alias('certbot_dns_provider');
  const credentials = alias('certbot_dns_credentials');
  if (provider !== undefined || credentials !== undefined) {
    const nativeDns = native('dns');
    if (nativeDns !== undefined && nativeDns.kind !== 'map') {
      // Validation reports the broken dns key; the aliases have nowhere to go.
    } else {
      const dns: MapNode =
        nativeDns === undefined
          ? mapNode((provider ?? credentials)!.line, 'dns')
          : { ...nativeDns, entries: new Map(nativeDns.entries) };
      if (provider !== undefined) adopt(dns, 'provider', get(dns, 'provider'), nativeProvider(provider, providers));
      if (credentials !== undefined) {
        const providerName = stringValue(get(dns, 'provider'));
        // Without a registered provider (absent, misspelt, ...) validation reports the provider and the
        // credentials have no place to go.
        const chosen = providers.find((p) => p.name === providerName);
        if (chosen !== undefined) adopt(dns, sectionKey(chosen), get(dns, sectionKey(chosen)), nativeCredentials(credentials, chosen.ansible));
      }
      const roleProviders = providers.flatMap((p) => (p.ansible === undefined ? [] : [p.ansible.provider]));
      dns.absent = {
        ...dns.absent,
        provider: {
          path: 'certbot_dns_provider',
          fix: `add certbot_dns_provider: ${roleProviders[0] ?? 'rfc2136'}${roleProviders.length > 1 ? ` (or ${roleProviders.slice(1).join(', ')})` : ''}; gxit-cert answers DNS-01 challenges only`,
        },
        ...Object.fromEntries(
          providers.flatMap((p): [string, AbsentKeyHint][] => (p.ansible === undefined ? [] : [[sectionKey(p), { path: 'certbot_dns_credentials', fix: p.ansible.credentialsFix }]])),
        ),
      };
      out.entries.set('dns', { key: 'dns', node: dns });
    }
  }

  out.absent = {
    certificates: { path: 'certbot_domains', fix: 'add certbot_domains: [galaxy.example.org, "*.ep.interactivetool.galaxy.example.org"]' },
    dns: { path: 'certbot_dns_provider', fix: 'add certbot_dns_provider: rfc2136 and certbot_dns_credentials: (server, name, secret, algorithm); gxit-cert answers DNS-01 challenges only' },
  };
  const warnings = notes.sort((a, b) => a.line - b.line).map((note) => note.text);
  return { root: out, ansible: true, warnings, problems };
}

function environmentServer(node: TreeNode, source: string, problems: ConfigProblem[]): ScalarNode | undefined {
  const value = stringValue(node);
  if (value === 'staging') return { kind: 'scalar', value: 'letsencrypt-staging', line: node.line, path: node.path };
  if (value === 'production') return { kind: 'scalar', value: 'letsencrypt', line: node.line, path: node.path };
  const jinja = value !== undefined && /\{\{|\{%/.test(value);
  problems.push({
    code: 'CONFIG_INVALID',
    source,
    line: node.line,
    path: node.path,
    message: jinja ? 'is an unrendered Jinja template' : value === undefined ? 'must be staging or production' : `${showValue(value)} is neither staging nor production`,
    fix: jinja ? 'render the variables first and write the value: staging or production' : 'write certbot_environment: staging (or production)',
  });
  return undefined;
}

/** certbot_dns_provider's value as the native provider name of the descriptor that claims it. */
function nativeProvider(node: TreeNode, providers: readonly ProviderSection[]): TreeNode {
  const value = stringValue(node);
  const claimed = providers.find((p) => p.ansible?.provider === value);
  if (node.kind !== 'scalar' || claimed === undefined || claimed.name === value) return node;
  return { ...node, value: claimed.name };
}

/** The credentials with the role's key names turned into the section's (null: accepted, not needed). */
function nativeCredentials(node: TreeNode, aliases: AnsibleAliases | undefined): TreeNode {
  if (node.kind !== 'map' || aliases === undefined) return node;
  const copy: MapNode = { ...node, entries: new Map() };
  for (const [key, entry] of node.entries) {
    const renamed = Object.hasOwn(aliases.credentialKeys, key) ? aliases.credentialKeys[key] : key;
    if (renamed === null || renamed === undefined) continue;
    copy.entries.set(renamed, { ...entry, key: renamed });
  }
  return copy;
}

function stringValue(node: TreeNode | undefined): string | undefined {
  return node?.kind === 'scalar' && typeof node.value === 'string' ? node.value : undefined;
}

function isEmpty(node: TreeNode): boolean {
  if (node.kind === 'seq') return node.items.length === 0;
  if (node.kind === 'map') return node.entries.size === 0;
  return node.value === null || node.value === '' || node.value === false;
}
