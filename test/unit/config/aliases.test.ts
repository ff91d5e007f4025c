import { describe, expect, test } from 'vitest';
import { ANSIBLE_ALIASES, applyAliases, isAnsibleVocabulary, KNOWN_ROLE_KEYS } from '../../../src/config/aliases.js';
import { get, parseYamlTree, type MapNode, type TreeNode } from '../../../src/config/tree.js';
import { PROVIDERS } from '../../../src/dns/providers/registry.js';

function aliased(text: string) {
  const parsed = parseYamlTree(text, 'vars.yml');
  expect(parsed.problems).toEqual([]);
  return applyAliases(parsed.tree!, 'vars.yml', PROVIDERS);
}

function node(root: MapNode, ...keys: (string | number)[]): TreeNode | undefined {
  let current: TreeNode | undefined = root;
  for (const key of keys) {
    if (current === undefined) return undefined;
    if (typeof key === 'number') current = current.kind === 'seq' ? current.items[key] : undefined;
    else current = current.kind === 'map' ? get(current, key) : undefined;
  }
  return current;
}

describe('applyAliases', () => {
  test('a native file passes through unchanged', () => {
    const parsed = parseYamlTree('email: a@b.org\nfoo: 1\n', 'c.yml').tree!;
    const result = applyAliases(parsed, 'c.yml', PROVIDERS);
    expect(result.ansible).toBe(false);
    expect(result.root).toBe(parsed);
    expect(result.warnings).toEqual([]);
  });

  test('any certbot_ key makes it an Ansible vars file', () => {
    expect(isAnsibleVocabulary(parseYamlTree('certbot_auto_renew: true\n', 'x').tree!)).toBe(true);
    expect(isAnsibleVocabulary(parseYamlTree('email: a@b.org\n', 'x').tree!)).toBe(false);
  });

  test('the training group_vars map onto native keys and keep their written paths and lines', () => {
    const result = aliased(`galaxy_config:
  galaxy:
    interactivetools_enable: true
nginx_servers: [redirect-ssl]
certbot_auth_method: --webroot
certbot_environment: staging
certbot_admin_email: admin@example.org
certbot_domains:
  - galaxy.example.org
  - "*.interactivetoolentrypoint.interactivetool.galaxy.example.org"
certbot_dns_provider: rfc2136
certbot_dns_credentials:
  server: ns-training.galaxyproject.org
  port: 53
  name: certbot-training.
  secret: c2VjcmV0
  algorithm: HMAC-SHA512
  sign_query: false
`);
    expect(result.ansible).toBe(true);
    expect(result.problems).toEqual([]);
    expect(result.warnings).toEqual([]);
    const root = result.root;
    expect([...root.entries.keys()].sort()).toEqual(['certificates', 'dns', 'email', 'server']);
    expect(node(root, 'email')).toMatchObject({ value: 'admin@example.org', path: 'certbot_admin_email', line: 7 });
    expect(node(root, 'server')).toMatchObject({ value: 'letsencrypt-staging', path: 'certbot_environment', line: 6 });
    expect(node(root, 'certificates', 0, 'domains', 1)).toMatchObject({
      value: '*.interactivetoolentrypoint.interactivetool.galaxy.example.org',
      path: 'certbot_domains[1]',
      line: 10,
    });
    expect(node(root, 'dns', 'provider')).toMatchObject({ value: 'rfc2136', path: 'certbot_dns_provider' });
    expect(node(root, 'dns', 'rfc2136', 'algorithm')).toMatchObject({ value: 'HMAC-SHA512', path: 'certbot_dns_credentials.algorithm', line: 17 });
    expect(node(root, 'dns', 'rfc2136', 'sign_query')).toBeUndefined();
  });

  test.each([
    ['production', 'letsencrypt'],
    ['staging', 'letsencrypt-staging'],
  ])('certbot_environment: %s -> server %s', (environment, server) => {
    expect(node(aliased(`certbot_environment: ${environment}\n`).root, 'server')).toMatchObject({ value: server });
  });

  test.each([
    ['certbot_environment: testing\n', /"testing" is neither staging nor production/],
    ['certbot_environment: true\n', /must be staging or production/],
    ['certbot_environment: "{{ env }}"\n', /unrendered Jinja/],
  ])('a wrong certbot_environment is a problem: %j', (text, message) => {
    const result = aliased(text);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatchObject({ line: 1, path: 'certbot_environment', code: 'CONFIG_INVALID' });
    expect(result.problems[0]!.message).toMatch(message);
    expect(result.problems[0]!.fix).toMatch(/staging/);
  });

  test('certbot_hostname_override names the lineage', () => {
    const result = aliased('certbot_domains: [galaxy.example.org]\ncertbot_hostname_override: galaxy\n');
    expect(node(result.root, 'certificates', 0, 'name')).toMatchObject({ value: 'galaxy', path: 'certbot_hostname_override' });
  });

  test('route53 credentials go to dns.route53', () => {
    const result = aliased('certbot_dns_provider: route53\ncertbot_dns_credentials:\n  region: eu-west-1\n');
    expect(node(result.root, 'dns', 'route53', 'region')).toMatchObject({ value: 'eu-west-1', path: 'certbot_dns_credentials.region' });
    expect(node(result.root, 'dns', 'rfc2136')).toBeUndefined();
  });

  test('credentials of an unsupported provider have no place (validation reports the provider)', () => {
    const result = aliased('certbot_dns_provider: gandi\ncertbot_dns_credentials:\n  api_token: x\n');
    expect(node(result.root, 'dns', 'provider')).toMatchObject({ value: 'gandi' });
    expect(node(result.root, 'dns', 'rfc2136')).toBeUndefined();
    expect(node(result.root, 'dns', 'route53')).toBeUndefined();
  });

  test('native keys win over aliases, with a warning naming both lines', () => {
    const result = aliased(`email: native@example.org
certbot_admin_email: alias@example.org
certificates:
  - domains: [native.example.org]
certbot_domains: [alias.example.org]
certbot_hostname_override: alias
server: letsencrypt
certbot_environment: staging
dns:
  provider: rfc2136
  rfc2136:
    server: 127.0.0.2
certbot_dns_provider: route53
certbot_dns_credentials:
  server: 10.0.0.1
`);
    expect(node(result.root, 'email')).toMatchObject({ value: 'native@example.org' });
    expect(node(result.root, 'certificates', 0, 'domains', 0)).toMatchObject({ value: 'native.example.org' });
    expect(node(result.root, 'server')).toMatchObject({ value: 'letsencrypt' });
    expect(node(result.root, 'dns', 'provider')).toMatchObject({ value: 'rfc2136' });
    expect(node(result.root, 'dns', 'rfc2136', 'server')).toMatchObject({ value: '127.0.0.2' });
    expect(result.warnings).toEqual([
      'vars.yml:2: certbot_admin_email: is ignored: email (line 1) takes precedence',
      'vars.yml:5: certbot_domains: is ignored: certificates (line 3) takes precedence',
      'vars.yml:6: certbot_hostname_override: is ignored: certificates takes precedence',
      'vars.yml:8: certbot_environment: is ignored: server (line 7) takes precedence',
      'vars.yml:13: certbot_dns_provider: is ignored: dns.provider (line 10) takes precedence',
      'vars.yml:14: certbot_dns_credentials: is ignored: dns.rfc2136 (line 11) takes precedence',
    ]);
  });

  test('aliases fill in what a native dns section leaves out', () => {
    const result = aliased(`certbot_dns_provider: rfc2136
certbot_dns_credentials: {server: 127.0.0.2}
dns:
  resolvers: [127.0.0.2]
`);
    expect(node(result.root, 'dns', 'resolvers', 0)).toMatchObject({ value: '127.0.0.2' });
    expect(node(result.root, 'dns', 'provider')).toMatchObject({ value: 'rfc2136', path: 'certbot_dns_provider' });
    expect(node(result.root, 'dns', 'rfc2136', 'server')).toMatchObject({ path: 'certbot_dns_credentials.server' });
    expect(result.warnings).toEqual([]);
  });

  test('keys of other roles are ignored silently; a near-miss of a native key gets a warning', () => {
    const result = aliased(`certbot_domains: [galaxy.example.org]
galaxy_config: {galaxy: {}}
nginx_ssl_servers: [galaxy]
miniconda_prefix: /x
state-dir: /var/lib/gxit-cert
`);
    expect([...result.root.entries.keys()]).toEqual(['certificates']);
    expect(result.warnings).toEqual(['vars.yml:5: state-dir: is ignored (this file is read as Ansible variables); did you mean state_dir?']);
  });

  test.each([
    ['certbot_post_renewal: |\n  systemctl restart nginx || true\n', /certbot_post_renewal: is not run by gxit-cert/],
    ['certbot_share_key_users: [nginx]\n', /certbot_share_key_users: is ignored: gxit-cert does not copy the private key/],
    ['certbot_letsencrypt_dir: /etc/letsencrypt\n', /certbot_letsencrypt_dir: is ignored: gxit-cert keeps certificates under state_dir/],
    ['certbot_dns_provider_propagation_seconds: 60\n', /propagation_seconds: is ignored: gxit-cert asks every authoritative nameserver/],
    ['certbot_domian: [x.example.org]\n', /certbot_domian: is not a key of the certbot role .*; did you mean certbot_domains\?/],
    ['certbot_something_else: 1\n', /certbot_something_else: is not a key of the certbot role gxit-cert understands and is ignored$/],
  ])('a role key that matters is warned about: %j', (text, warning) => {
    const result = aliased(text);
    expect(result.problems).toEqual([]);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatch(warning);
  });

  test.each([
    'certbot_post_renewal: ""\n',
    'certbot_share_key_users: []\n',
    'certbot_agree_tos: --agree-tos\n',
    'certbot_auth_method: --webroot\n',
    'certbot_install_method: virtualenv\n',
    'certbot_auto_renew: true\ncertbot_auto_renew_user: root\ncertbot_auto_renew_hour: 3\ncertbot_auto_renew_minute: 30\n',
    'certbot_expand: true\ncertbot_force_run: yes\ncertbot_well_known_root: /srv/nginx/_well-known_root\n',
  ])('a role key that does not matter is ignored silently: %j', (text) => {
    const result = aliased(text);
    expect(result.warnings).toEqual([]);
    expect(result.problems).toEqual([]);
  });

  test('missing essentials are named in the Ansible vocabulary', () => {
    const result = aliased('certbot_auth_method: --webroot\n');
    expect(result.root.absent?.certificates?.path).toBe('certbot_domains');
    expect(result.root.absent?.dns?.path).toBe('certbot_dns_provider');
  });

  test('the alias table and the known role keys agree', () => {
    for (const key of Object.keys(ANSIBLE_ALIASES)) expect(KNOWN_ROLE_KEYS).toContain(key);
    expect(new Set(KNOWN_ROLE_KEYS).size).toBe(KNOWN_ROLE_KEYS.length);
  });
});
