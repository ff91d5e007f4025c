/**
 * `init` (pure): a first configuration from what a Galaxy server already says about itself.
 *
 *   galaxy.yml         galaxy.galaxy_infrastructure_url (its host), galaxy.interactivetools_prefix
 *                      (default "interactivetool"): the names <host> and *.ep.<prefix>.<host>
 *   group_vars         the Galaxy certbot role's certbot_domains, certbot_admin_email, certbot_environment,
 *                      certbot_dns_provider, certbot_dns_credentials, certbot_share_key_users,
 *                      certbot_ssl_group, certbot_post_renewal; galaxy_config.galaxy as in galaxy.yml
 *   certbot's directory  a lineage's names, CA and rfc2136 credentials file (see certbot-tree.ts)
 *   flags              --host, --email, --server, ... win over all of these
 *
 * Values still holding Ansible templating ("{{ inventory_hostname }}") are not used (a warning says so).
 */
import { join } from 'node:path';
import { LETSENCRYPT_DIRECTORY, LETSENCRYPT_STAGING_DIRECTORY } from '../config/types.js';
import type { Rfc2136Ini } from './certbot-tree.js';
import { flow, map, renderYaml, scalar, seq, type YEntry, type YItem, type YValue } from './yaml-out.js';

export interface CertbotFacts {
  dir: string;
  name: string;
  domains: string[];
  server: string;
  credentials?: string;
  ini?: Rfc2136Ini;
  route53: boolean;
}

export interface InitInput {
  /** Parsed galaxy.yml (any shape). */
  galaxy?: unknown;
  galaxyPath?: string;
  /** Parsed group_vars (any shape). */
  groupVars?: unknown;
  groupVarsPath?: string;
  certbot?: CertbotFacts;
  flags: { host?: string; email?: string; server?: string; stateDir?: string; caBundle?: string; resolvers?: string[] };
  hooksDir: string;
  now: Date;
  /** Names of the registered DNS providers (src/dns/providers/registry.ts); default rfc2136, route53. */
  providers?: readonly string[];
}

export interface InitResult {
  configText: string;
  /** The text holds a secret (certbot_dns_credentials.secret): write it 0600. */
  holdsSecret: boolean;
  domains: string[];
  /** What is still missing for a working configuration (each also in the file as a comment). */
  missing: string[];
  warnings: string[];
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

const templated = (v: string): boolean => v.includes('{{') || v.includes('{%');

/** The Galaxy section of galaxy.yml ("galaxy:") or of group_vars ("galaxy_config: galaxy:"). */
function galaxySection(doc: unknown, nested: boolean): Record<string, unknown> | undefined {
  const top = record(doc);
  return nested ? record(record(top?.galaxy_config)?.galaxy) : record(top?.galaxy);
}

export function hostOfUrl(url: string): string | undefined {
  try {
    const host = new URL(url.includes('://') ? url : `https://${url}`).hostname.toLowerCase();
    return host === '' || host === 'localhost' || /^[\d.]+$/.test(host) || host.startsWith('[') ? undefined : host;
  } catch {
    return undefined;
  }
}

export function deriveInit(input: InitInput): InitResult {
  const warnings: string[] = [];
  const missing: string[] = [];
  const vars = record(input.groupVars) ?? {};
  const str = (value: unknown, what: string): string | undefined => {
    if (typeof value !== 'string' || value.trim() === '') return undefined;
    if (templated(value)) {
      warnings.push(`${what} is an Ansible template (${value}); give the rendered value (or --host/--email)`);
      return undefined;
    }
    return value.trim();
  };

  // Names: --host, else galaxy.yml, else group_vars' galaxy_config, else certbot_domains, else certbot's lineage.
  const sections: [Record<string, unknown> | undefined, string][] = [
    [galaxySection(input.galaxy, false), input.galaxyPath ?? 'galaxy.yml'],
    [galaxySection(input.groupVars, true), `${input.groupVarsPath ?? 'group_vars'} galaxy_config.galaxy`],
  ];
  let host = input.flags.host?.toLowerCase();
  let prefix: string | undefined;
  let hostFrom = '--host';
  for (const [section, where] of sections) {
    if (section === undefined) continue;
    const url = str(section.galaxy_infrastructure_url, `${where}: galaxy_infrastructure_url`);
    if (host === undefined && url !== undefined) {
      host = hostOfUrl(url);
      hostFrom = `galaxy_infrastructure_url of ${where}`;
      if (host === undefined) warnings.push(`${where}: galaxy_infrastructure_url ${url} names no public host`);
    }
    prefix ??= str(section.interactivetools_prefix, `${where}: interactivetools_prefix`);
    if (section.interactivetools_enable === false) warnings.push(`${where}: interactivetools_enable is false; the wildcard name is included for when Interactive Tools are switched on`);
  }
  const roleDomains = Array.isArray(vars.certbot_domains)
    ? vars.certbot_domains.map((d, i) => str(d, `certbot_domains[${i}]`)).filter((d): d is string => d !== undefined)
    : [];
  let domains: string[];
  if (host !== undefined) {
    domains = [host, `*.ep.${prefix ?? 'interactivetool'}.${host}`];
    const extra = roleDomains.filter((d) => !domains.includes(d.toLowerCase()));
    if (extra.length > 0) warnings.push(`certbot_domains also names ${extra.join(', ')}: not included (names from ${hostFrom}); add them to certificates[0].domains if they are still served`);
  } else if (roleDomains.length > 0) {
    domains = roleDomains;
    hostFrom = 'certbot_domains';
  } else if (input.certbot !== undefined) {
    domains = input.certbot.domains;
    hostFrom = `certbot's lineage ${input.certbot.name}`;
  } else {
    domains = ['galaxy.example.org', '*.ep.interactivetool.galaxy.example.org'];
    hostFrom = 'a placeholder';
    missing.push('the Galaxy host name (--host, or --galaxy-config galaxy.yml with galaxy_infrastructure_url)');
  }

  const email = input.flags.email ?? str(vars.certbot_admin_email, 'certbot_admin_email');
  if (email === undefined) missing.push('an email address for the CA (--email, or certbot_admin_email)');

  const environment = str(vars.certbot_environment, 'certbot_environment');
  const server = input.flags.server ?? input.certbot?.server ?? (environment === 'staging' ? LETSENCRYPT_STAGING_DIRECTORY : LETSENCRYPT_DIRECTORY);

  // DNS: the role's provider and credentials, else certbot's lineage.
  let holdsSecret = false;
  let dns: YEntry;
  const providerName = str(vars.certbot_dns_provider, 'certbot_dns_provider');
  const credentials = record(vars.certbot_dns_credentials);
  const resolvers: YEntry[] = input.flags.resolvers !== undefined && input.flags.resolvers.length > 0 ? [{ key: 'resolvers', value: flow(input.flags.resolvers), comment: 'instead of the system resolver' }] : [];
  const known = input.providers ?? ['rfc2136', 'route53'];
  if (providerName !== undefined && known.includes(providerName)) {
    const entries: YEntry[] = [];
    for (const [key, value] of Object.entries(credentials ?? {})) {
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') continue;
      if (typeof value === 'string' && templated(value)) {
        warnings.push(`certbot_dns_credentials.${key} is an Ansible template; fill in dns.${providerName}.${key}`);
        continue;
      }
      const secret = /secret|password|token/.test(key);
      if (secret) holdsSecret = true;
      entries.push({ key, value: scalar(value as YValue), ...(secret ? { comment: 'a secret: keep this file 0600 (or use secret_file)' } : {}) });
    }
    if (providerName === 'rfc2136' && !entries.some((e) => e.key === 'server')) missing.push('dns.rfc2136.server (certbot_dns_credentials.server)');
    dns = { key: 'dns', value: map([{ key: 'provider', value: scalar(providerName) }, ...resolvers, { key: providerName, value: map(entries) }]) };
  } else if (input.certbot?.credentials !== undefined) {
    const ini = input.certbot.ini;
    const rfc: YEntry[] = [];
    if (ini?.server !== undefined) rfc.push({ key: 'server', value: scalar(ini.server) });
    if (ini?.port !== undefined && /^\d+$/.test(ini.port)) rfc.push({ key: 'port', value: scalar(Number(ini.port)) });
    if (ini?.name !== undefined) rfc.push({ key: 'name', value: scalar(ini.name) });
    if (ini?.algorithm !== undefined) rfc.push({ key: 'algorithm', value: scalar(ini.algorithm) });
    rfc.push({ key: 'secret_file', value: scalar(input.certbot.credentials), comment: "certbot's credentials file, read as it is" });
    dns = { key: 'dns', value: map([{ key: 'provider', value: scalar('rfc2136') }, ...resolvers, { key: 'rfc2136', value: map(rfc) }]) };
  } else if (input.certbot?.route53 === true) {
    dns = { key: 'dns', value: map([{ key: 'provider', value: scalar('route53') }, ...resolvers]) };
  } else {
    if (providerName !== undefined) warnings.push(`certbot_dns_provider ${providerName} is not one gxit-cert writes with (${known.join(', ')})`);
    missing.push('the DNS provider and its credentials (dns:)');
    dns = {
      key: 'dns',
      above: ['How gxit-cert writes the _acme-challenge TXT records: fill this in (see README, Configuration)'],
      value: map([
        { key: 'provider', value: scalar('rfc2136') },
        ...resolvers,
        { key: 'rfc2136', value: map([{ key: 'server', value: scalar('ns1.example.org') }, { key: 'name', value: scalar('tsig-key.') }, { key: 'secret_file', value: scalar('/etc/gxit-cert/tsig.secret') }]) },
      ]),
    };
  }

  // Hooks: what the role's post-renewal script did (copies for other users, certbot_post_renewal).
  const deploy: YItem[] = [];
  const users = Array.isArray(vars.certbot_share_key_users) ? vars.certbot_share_key_users.filter((u): u is string => typeof u === 'string' && !templated(u)) : [];
  const group = str(vars.certbot_ssl_group, 'certbot_ssl_group');
  const postRenewal = str(vars.certbot_post_renewal, 'certbot_post_renewal');
  if (users.length > 0 || group !== undefined || postRenewal !== undefined) {
    const argv = [join(input.hooksDir, 'install-files'), ...(group === undefined ? [] : ['--group', group]), ...users.flatMap((u) => ['--user', u])];
    deploy.push({ value: flow(argv), comment: "the role's copies to /etc/ssl (certbot_share_key_users, certbot_ssl_group)" });
  }
  for (const line of (postRenewal ?? '').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))) {
    deploy.push({ value: scalar(line), comment: 'from certbot_post_renewal' });
  }

  const entries: YEntry[] = [
    email === undefined
      ? { key: 'email', value: scalar('admin@example.org'), disabled: true, comment: "the CA's expiry mail goes here: set it" }
      : { key: 'email', value: scalar(email) },
    { key: 'server', value: scalar(server), comment: server === LETSENCRYPT_DIRECTORY ? "Let's Encrypt; letsencrypt-staging to try first" : undefined },
    ...(input.flags.caBundle === undefined ? [] : [{ key: 'ca_bundle', value: scalar(input.flags.caBundle) }]),
    { key: 'state_dir', value: scalar(input.flags.stateDir ?? '/etc/gxit-cert'), comment: 'live/<name>/fullchain.pem and privkey.pem for nginx' },
    { key: 'key_type', value: scalar('ecdsa-p256') },
    {
      key: 'certificates',
      above: [`Names from ${hostFrom}: the Galaxy host and the wildcard its Interactive Tools are served under`],
      value: seq([{ value: map([{ key: 'name', value: scalar(domains[0]!.replace(/^\*\./, '')) }, { key: 'domains', value: flow(domains) }]) }]),
    },
    dns,
    ...(deploy.length > 0 ? [{ key: 'hooks', value: map([{ key: 'deploy', value: seq(deploy) }]) }] : []),
  ];

  const header = [
    `gxit-cert configuration written by gxit-cert init on ${input.now.toISOString().slice(0, 10)}.`,
    'Check it with: gxit-cert check-dns --config <this file>; then: gxit-cert issue --config <this file>',
    ...missing.map((m) => `TODO: ${m}`),
  ];
  return { configText: renderYaml(header, entries), holdsSecret, domains, missing, warnings };
}
