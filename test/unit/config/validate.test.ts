import { describe, expect, test } from 'vitest';
import { evaluateConfigText, parseConfigText } from '../../../src/config/load.js';
import { ConfigError, type ConfigProblem } from '../../../src/config/problems.js';
import { applyDefaults } from '../../../src/config/defaults.js';
import { parseYamlTree } from '../../../src/config/tree.js';
import { KNOWN_KEYS, validateTree } from '../../../src/config/validate.js';
import { Checker } from '../../../src/config/combinators.js';
import { get, type MapNode } from '../../../src/config/tree.js';
import { rfc2136 } from '../../../src/dns/providers/rfc2136/descriptor.js';
import { validateRfc2136 } from '../../../src/dns/providers/rfc2136/section.js';
import type { Config } from '../../../src/config/types.js';
import { PROVIDERS } from '../../../src/dns/providers/registry.js';
import { rfc2136Of, route53Of } from '../dns/providers/settings.js';

const SOURCE = '/etc/gxit-cert/config.yml';
const SECRET = 'c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1uZXZlci1sZWFr'; // base64 of "secret-value-that-must-never-leak"

function problems(text: string): ConfigProblem[] {
  const result = evaluateConfigText(text, SOURCE, { providers: PROVIDERS, env: {}, readSecretFile: () => ({ data: SECRET, mode: 0o100600 }) });
  expect(result.config).toBeUndefined();
  return result.problems;
}

function config(text: string, env: NodeJS.ProcessEnv = {}): Config {
  return parseConfigText(text, SOURCE, { providers: PROVIDERS, env, readSecretFile: () => ({ data: `${SECRET}\n`, mode: 0o100600 }) });
}

const lines = (...text: string[]): string => `${text.join('\n')}\n`;

/** A valid file (6 lines) that cases extend. */
const BASE = ['certificates:', '  - domains: [galaxy.example.org]', 'dns:', '  provider: rfc2136', '  rfc2136:', '    server: 127.0.0.2'];

interface Case {
  name: string;
  text: string;
  line: number;
  path: string;
  message: RegExp;
  fix?: RegExp;
  code?: ConfigProblem['code'];
}

const cases: Case[] = [
  // unknown keys, anywhere, with a suggestion
  { name: 'unknown top-level key (typo)', text: lines('emial: admin@example.org', ...BASE), line: 1, path: 'emial', message: /^unknown key; did you mean email\?$/, fix: /rename it to email/ },
  { name: 'unknown top-level key (no near match)', text: lines(...BASE, 'galaxy_config: {}'), line: 7, path: 'galaxy_config', message: /^unknown key$/, fix: /allowed here: email, server, ca_bundle, state_dir, key_type, certificates, dns/ },
  { name: 'unknown certificate key', text: lines('certificates:', '  - domains: [galaxy.example.org]', '    nmae: galaxy', ...BASE.slice(2)), line: 3, path: 'certificates[0].nmae', message: /did you mean name\?/ },
  { name: 'unknown dns key', text: lines(...BASE.slice(0, 4), '  resolver: [127.0.0.1]', ...BASE.slice(4)), line: 5, path: 'dns.resolver', message: /did you mean resolvers\?/ },
  { name: 'unknown rfc2136 key', text: lines(...BASE, `    secert: ${SECRET}`), line: 7, path: 'dns.rfc2136.secert', message: /did you mean secret\?/ },
  { name: 'camelCase key', text: lines(...BASE.slice(0, 4), '  propagationTimeout: 30', ...BASE.slice(4)), line: 5, path: 'dns.propagationTimeout', message: /did you mean propagation_timeout\?/ },
  { name: 'unknown route53 key', text: lines(...BASE.slice(0, 3), '  provider: route53', '  route53:', '    regoin: eu-west-1'), line: 6, path: 'dns.route53.regoin', message: /did you mean region\?/ },

  // top-level values
  { name: 'email that is no address', text: lines('email: admin', ...BASE), line: 1, path: 'email', message: /"admin" is not an e-mail address/, fix: /admin@example.org/ },
  { name: 'email as a number', text: lines('email: 42', ...BASE), line: 1, path: 'email', message: /must be a string, not a number/ },
  { name: 'empty email', text: lines('email: ""', ...BASE), line: 1, path: 'email', message: /is empty/ },
  { name: 'unknown server name', text: lines('server: staging', ...BASE), line: 1, path: 'server', message: /"staging" is neither letsencrypt, letsencrypt-staging nor a directory URL/, fix: /letsencrypt, letsencrypt-staging or the https:\/\/ URL/ },
  { name: 'http server not on localhost', text: lines('server: http://acme.example.org/dir', ...BASE), line: 1, path: 'server', message: /http, which is allowed only for localhost/ },
  { name: 'key type', text: lines('key_type: rsa', ...BASE), line: 1, path: 'key_type', message: /"rsa" is not a key type/, fix: /ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096/ },
  { name: 'certificate key type', text: lines('certificates:', '  - domains: [galaxy.example.org]', '    key_type: ec256', ...BASE.slice(2)), line: 3, path: 'certificates[0].key_type', message: /"ec256" is not a key type/ },
  { name: 'ca_bundle with ~', text: lines('ca_bundle: ~/ca.pem', ...BASE), line: 1, path: 'ca_bundle', message: /starts with "~", which is not expanded/, fix: /absolute path/ },
  { name: 'unrendered Jinja', text: lines('email: "{{ admin_email }}"', ...BASE), line: 1, path: 'email', message: /unrendered Jinja template/, fix: /render the Ansible variables first/ },

  // certificates
  { name: 'certificates missing', text: lines(...BASE.slice(2)), line: 1, path: 'certificates', message: /^is missing$/, fix: /add certificates:/ },
  { name: 'certificates empty', text: lines('certificates: []', ...BASE.slice(2)), line: 1, path: 'certificates', message: /is an empty list/ },
  { name: 'certificates not a list', text: lines('certificates: galaxy.example.org', ...BASE.slice(2)), line: 1, path: 'certificates', message: /must be a list, not a string/ },
  { name: 'certificate not a mapping', text: lines('certificates:', '  - galaxy.example.org', ...BASE.slice(2)), line: 2, path: 'certificates[0]', message: /must be a mapping of keys, not a string/, fix: /domains:/ },
  { name: 'domains missing', text: lines('certificates:', '  - name: galaxy', ...BASE.slice(2)), line: 2, path: 'certificates[0].domains', message: /^is missing$/ },
  { name: 'wildcard not first', text: lines('certificates:', '  - domains:', '      - galaxy.example.org', '      - "ep.*.galaxy.example.org"', ...BASE.slice(2)), line: 4, path: 'certificates[0].domains[1]', message: /"ep\.\*\.galaxy\.example\.org" may contain "\*" only as the whole first label/ },
  { name: 'invalid label', text: lines('certificates:', '  - domains: [galaxy_1.example.org]', ...BASE.slice(2)), line: 2, path: 'certificates[0].domains[0]', message: /invalid label "galaxy_1"/ },
  { name: 'duplicate domain after normalization', text: lines('certificates:', '  - domains:', '      - galaxy.example.org', '      - Galaxy.Example.ORG.', ...BASE.slice(2)), line: 4, path: 'certificates[0].domains[1]', message: /"galaxy\.example\.org" is listed twice \(also certificates\[0\]\.domains\[0\], line 3\)/ },
  { name: 'domain that is a number', text: lines('certificates:', '  - domains: [1.5]', ...BASE.slice(2)), line: 2, path: 'certificates[0].domains[0]', message: /must be a string, not a number/ },
  { name: 'duplicate lineage (derived)', text: lines('certificates:', '  - domains: [galaxy.example.org]', '  - domains: ["*.galaxy.example.org"]', ...BASE.slice(2)), line: 3, path: 'certificates[1].name', message: /lineage name "galaxy\.example\.org" is already used by certificates\[0\] \(line 2\)/, fix: /its own name/ },
  { name: 'duplicate lineage (written)', text: lines('certificates:', '  - domains: [a.example.org]', '    name: galaxy', '  - domains: [b.example.org]', '    name: galaxy', ...BASE.slice(2)), line: 5, path: 'certificates[1].name', message: /"galaxy" is already used by certificates\[0\] \(line 3\)/ },
  { name: 'lineage name with a slash', text: lines('certificates:', '  - domains: [a.example.org]', '    name: ../etc', ...BASE.slice(2)), line: 3, path: 'certificates[0].name', message: /"\.\.\/etc" must start with a letter or digit/ },

  // dns
  { name: 'dns missing', text: lines(...BASE.slice(0, 2)), line: 1, path: 'dns', message: /^is missing$/, fix: /provider: rfc2136/ },
  { name: 'dns not a mapping', text: lines(...BASE.slice(0, 2), 'dns: rfc2136'), line: 3, path: 'dns', message: /must be a mapping of keys, not a string/ },
  { name: 'provider missing', text: lines(...BASE.slice(0, 3), ...BASE.slice(4)), line: 3, path: 'dns.provider', message: /^is missing$/, fix: /provider: rfc2136 or provider: route53/ },
  { name: 'provider unsupported', text: lines(...BASE.slice(0, 3), '  provider: gandi'), line: 4, path: 'dns.provider', message: /"gandi" is not a supported DNS provider \(rfc2136, route53, cloudflare, acme-dns, exec\)/ },
  { name: 'rfc2136 section missing', text: lines(...BASE.slice(0, 4)), line: 3, path: 'dns.rfc2136', message: /^is missing$/, fix: /server:/ },
  { name: 'resolvers empty', text: lines(...BASE.slice(0, 4), '  resolvers: []', ...BASE.slice(4)), line: 5, path: 'dns.resolvers', message: /is an empty list/, fix: /remove the key to use the system resolver/ },
  { name: 'resolvers not a list', text: lines(...BASE.slice(0, 4), '  resolvers: 127.0.0.2', ...BASE.slice(4)), line: 5, path: 'dns.resolvers', message: /must be a list, not a string/ },
  { name: 'resolver host name', text: lines(...BASE.slice(0, 4), '  resolvers: [127.0.0.2, ns1.example.org]', ...BASE.slice(4)), line: 5, path: 'dns.resolvers[1]', message: /"ns1\.example\.org" must be an IP address/ },
  { name: 'resolver bad port', text: lines(...BASE.slice(0, 4), '  resolvers: ["127.0.0.2:99999"]', ...BASE.slice(4)), line: 5, path: 'dns.resolvers[0]', message: /invalid port "99999"/ },
  { name: 'propagation_timeout 0', text: lines(...BASE.slice(0, 4), '  propagation_timeout: 0', ...BASE.slice(4)), line: 5, path: 'dns.propagation_timeout', message: /0 is not from 0.001 to 7200/ },
  { name: 'propagation_timeout huge', text: lines(...BASE.slice(0, 4), '  propagation_timeout: 3000000', ...BASE.slice(4)), line: 5, path: 'dns.propagation_timeout', message: /3000000 is not from 0.001 to 7200/, fix: /seconds to wait/ },
  { name: 'propagation_timeout string', text: lines(...BASE.slice(0, 4), '  propagation_timeout: 2m', ...BASE.slice(4)), line: 5, path: 'dns.propagation_timeout', message: /must be a number: "2m" is a string/, fix: /seconds/ },
  { name: 'propagation_interval 0', text: lines(...BASE.slice(0, 4), '  propagation_interval: 0', ...BASE.slice(4)), line: 5, path: 'dns.propagation_interval', message: /0 is not from 0.001 to 600/ },
  { name: 'propagation_interval huge', text: lines(...BASE.slice(0, 4), '  propagation_interval: 1e12', ...BASE.slice(4)), line: 5, path: 'dns.propagation_interval', message: /is not from 0.001 to 600/ },
  { name: 'propagation_check as string', text: lines(...BASE.slice(0, 4), '  propagation_check: "false"', ...BASE.slice(4)), line: 5, path: 'dns.propagation_check', message: /must be true or false: "false" is a string/, fix: /propagation_check: true or propagation_check: false/ },
  { name: 'nameserver_port 0', text: lines(...BASE.slice(0, 4), '  nameserver_port: 0', ...BASE.slice(4)), line: 5, path: 'dns.nameserver_port', message: /0 is not a whole number from 1 to 65535/ },

  // rfc2136
  { name: 'rfc2136 server missing', text: lines(...BASE.slice(0, 5), '    port: 53'), line: 5, path: 'dns.rfc2136.server', message: /^is missing$/, fix: /IP address or host name/ },
  { name: 'rfc2136 not a mapping', text: lines(...BASE.slice(0, 4), '  rfc2136: 127.0.0.2'), line: 5, path: 'dns.rfc2136', message: /must be a mapping/ },
  { name: 'rfc2136 server invalid', text: lines(...BASE.slice(0, 5), '    server: "bad host!"'), line: 6, path: 'dns.rfc2136.server', message: /neither an IP address nor a host name/ },
  { name: 'server port conflicts with port', text: lines(...BASE.slice(0, 5), '    server: 127.0.0.2:5353', '    port: 53'), line: 6, path: 'dns.rfc2136.server', message: /names port 5353 but port: says 53/ },
  { name: 'port out of range', text: lines(...BASE, '    port: 70000'), line: 7, path: 'dns.rfc2136.port', message: /70000 is not a whole number from 1 to 65535/ },
  { name: 'port as string', text: lines(...BASE, '    port: "53"'), line: 7, path: 'dns.rfc2136.port', message: /must be a number: "53" is a string/ },
  { name: 'algorithm unknown', text: lines(...BASE, '    algorithm: hmac-sha999'), line: 7, path: 'dns.rfc2136.algorithm', message: /"hmac-sha999" is not a TSIG algorithm/, fix: /hmac-sha512, hmac-sha384, hmac-sha256, hmac-sha224, hmac-sha1, hmac-md5/ },
  { name: 'secret without name', text: lines(...BASE, `    secret: ${SECRET}`), line: 7, path: 'dns.rfc2136.secret', message: /is a TSIG secret without a key name/, fix: /add dns\.rfc2136\.name:/ },
  { name: 'secret_env without name', text: lines(...BASE, '    secret_env: TSIG'), line: 7, path: 'dns.rfc2136.secret_env', message: /without a key name/ },
  { name: 'two secret sources', text: lines(...BASE, '    name: k', `    secret: ${SECRET}`, '    secret_file: /etc/gxit-cert/tsig.key'), line: 9, path: 'dns.rfc2136.secret_file', message: /second source for the TSIG secret \(also dns\.rfc2136\.secret\)/, fix: /only one of secret, secret_file and secret_env/ },
  { name: 'secret not base64', text: lines(...BASE, '    name: k', '    secret: <SECRET PROVIDED BY INSTRUCTOR>'), line: 8, path: 'dns.rfc2136.secret', message: /^is not a base64 TSIG secret$/, fix: /tsig-keygen/ },
  { name: 'secret as a number', text: lines(...BASE, '    name: k', '    secret: 12345'), line: 8, path: 'dns.rfc2136.secret', message: /must be a string, not a number/ },
  { name: 'secret vaulted', text: lines(...BASE, '    name: k', '    secret: !vault |', '      $ANSIBLE_VAULT;1.1;AES256', '      6162636465'), line: 8, path: 'dns.rfc2136.secret', message: /encrypted with Ansible Vault/, fix: /secret_file/ },
  { name: 'secret_env not a variable name', text: lines(...BASE, '    name: k', '    secret_env: "1-TSIG"'), line: 8, path: 'dns.rfc2136.secret_env', message: /"1-TSIG" is not an environment variable name/ },
  { name: 'key name invalid', text: lines(...BASE, '    name: "bad key"', `    secret: ${SECRET}`), line: 7, path: 'dns.rfc2136.name', message: /"bad key" may only contain/ },
  { name: 'zone wildcard', text: lines(...BASE, '    zone: "*.example.org"'), line: 7, path: 'dns.rfc2136.zone', message: /cannot contain "\*"/ },
  { name: 'tcp as yes', text: lines(...BASE, '    tcp: yes'), line: 7, path: 'dns.rfc2136.tcp', message: /must be true or false: "yes" is a string/ },
  { name: 'ttl negative', text: lines(...BASE, '    ttl: -1'), line: 7, path: 'dns.rfc2136.ttl', message: /-1 is not a whole number from 0 to 2147483647/ },
  { name: 'ttl fractional', text: lines(...BASE, '    ttl: 1.5'), line: 7, path: 'dns.rfc2136.ttl', message: /1.5 is not a whole number/ },
  { name: 'timeout 0', text: lines(...BASE, '    timeout: 0'), line: 7, path: 'dns.rfc2136.timeout', message: /0 is not from 0.001 to 300/, fix: /seconds per attempt/ },
  { name: 'retries 0', text: lines(...BASE, '    retries: 0'), line: 7, path: 'dns.rfc2136.retries', message: /0 is not a whole number from 1 to 100/, fix: /attempts per message/ },
  { name: 'retries as list', text: lines(...BASE, '    retries: [3]'), line: 7, path: 'dns.rfc2136.retries', message: /must be a number: is a list/ },
  { name: 'secret_file relative to ~', text: lines(...BASE, '    name: k', '    secret_file: ~/tsig.key'), line: 8, path: 'dns.rfc2136.secret_file', message: /"~" which is not expanded|not expanded/ },

  // route53
  ...((): Case[] => {
    const r53 = (...more: string[]): string => lines(...BASE.slice(0, 3), '  provider: route53', '  route53:', ...more);
    return [
      { name: 'route53 region', text: r53('    region: Frankfurt'), line: 6, path: 'dns.route53.region', message: /"Frankfurt" is not an AWS region/ },
      { name: 'route53 key id without secret', text: r53('    access_key_id: AKIAIOSFODNN7EXAMPLE'), line: 6, path: 'dns.route53.access_key_id', message: /needs a secret access key/, fix: /secret_access_key_file/ },
      { name: 'route53 secret without key id', text: r53('    secret_access_key_file: /etc/gxit-cert/aws.key'), line: 6, path: 'dns.route53.secret_access_key_file', message: /needs an access key ID/ },
      { name: 'route53 two secret sources', text: r53('    access_key_id: AKIAIOSFODNN7EXAMPLE', `    secret_access_key: ${SECRET}`, '    secret_access_key_file: /k'), line: 8, path: 'dns.route53.secret_access_key_file', message: /second source/ },
      { name: 'route53 profile and keys', text: r53('    profile: galaxy', '    access_key_id: AKIAIOSFODNN7EXAMPLE', `    secret_access_key: ${SECRET}`), line: 6, path: 'dns.route53.profile', message: /and access_key_id both choose credentials/ },
      { name: 'route53 session token alone', text: r53('    session_token: abc'), line: 6, path: 'dns.route53.session_token', message: /only used with access_key_id/ },
      { name: 'route53 external id without role', text: r53('    external_id: xyz'), line: 6, path: 'dns.route53.external_id', message: /only used when assuming a role/ },
      { name: 'route53 role arn', text: r53('    role_arn: gxit-cert'), line: 6, path: 'dns.route53.role_arn', message: /"gxit-cert" is not an IAM role ARN/ },
      { name: 'route53 zone id', text: r53('    hosted_zone_id: example.org'), line: 6, path: 'dns.route53.hosted_zone_id', message: /is not a hosted zone ID/ },
      { name: 'route53 endpoint http', text: r53('    endpoint: http://route53.example.org'), line: 6, path: 'dns.route53.endpoint', message: /allowed only for localhost/ },
      { name: 'route53 private_zone', text: r53('    private_zone: "no"'), line: 6, path: 'dns.route53.private_zone', message: /must be true or false/ },
      { name: 'route53 ttl', text: r53('    ttl: -5'), line: 6, path: 'dns.route53.ttl', message: /-5 is not a whole number/ },
    ];
  })(),

  // the Ansible vocabulary: problems name the keys the user wrote
  { name: 'ansible domains not a list', text: lines('certbot_domains: galaxy.example.org', 'certbot_dns_provider: rfc2136', 'certbot_dns_credentials: {server: 127.0.0.2}'), line: 1, path: 'certbot_domains', message: /must be a list, not a string/ },
  { name: 'ansible Jinja domain', text: lines('certbot_domains:', '  - "{{ inventory_hostname }}"', 'certbot_dns_provider: rfc2136', 'certbot_dns_credentials: {server: 127.0.0.2}'), line: 2, path: 'certbot_domains[0]', message: /unrendered Jinja template/, fix: /ansible HOST -m debug -a var=certbot_domains/ },
  { name: 'ansible domains missing', text: lines('certbot_dns_provider: rfc2136', 'certbot_dns_credentials: {server: 127.0.0.2}'), line: 1, path: 'certbot_domains', message: /^is missing$/, fix: /add certbot_domains:/ },
  { name: 'ansible provider missing', text: lines('certbot_domains: [galaxy.example.org]', 'certbot_auth_method: --webroot'), line: 1, path: 'certbot_dns_provider', message: /^is missing$/, fix: /certbot_dns_provider: rfc2136 .*DNS-01/ },
  { name: 'ansible provider unsupported', text: lines('certbot_domains: [galaxy.example.org]', 'certbot_dns_provider: gandi', 'certbot_dns_credentials: {api_token: x}'), line: 2, path: 'certbot_dns_provider', message: /"gandi" is not a supported DNS provider/ },
  { name: 'ansible credentials missing', text: lines('certbot_domains: [galaxy.example.org]', 'certbot_dns_provider: rfc2136'), line: 2, path: 'certbot_dns_credentials', message: /^is missing$/, fix: /add certbot_dns_credentials:/ },
  { name: 'ansible credentials typo', text: lines('certbot_domains: [galaxy.example.org]', 'certbot_dns_provider: rfc2136', 'certbot_dns_credentials:', '  servr: 127.0.0.2'), line: 4, path: 'certbot_dns_credentials.servr', message: /did you mean server\?/ },
  { name: 'ansible credentials algorithm', text: lines('certbot_domains: [galaxy.example.org]', 'certbot_dns_provider: rfc2136', 'certbot_dns_credentials:', '  server: 127.0.0.2', '  name: certbot-training.', `  secret: ${SECRET}`, '  algorithm: HMAC-SHA999'), line: 7, path: 'certbot_dns_credentials.algorithm', message: /"HMAC-SHA999" is not a TSIG algorithm/ },
  { name: 'ansible email', text: lines('certbot_admin_email: admin', 'certbot_domains: [galaxy.example.org]', 'certbot_dns_provider: rfc2136', 'certbot_dns_credentials: {server: 127.0.0.2}'), line: 1, path: 'certbot_admin_email', message: /"admin" is not an e-mail address/ },
];

describe('validation problems name the file, line, key and fix', () => {
  test.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const found = problems(c.text);
    const problem = found.find((p) => p.path === c.path);
    expect(problem, `no problem at ${c.path}; got ${JSON.stringify(found)}`).toBeDefined();
    expect(problem).toMatchObject({ source: SOURCE, line: c.line, code: c.code ?? 'CONFIG_INVALID' });
    expect(problem!.message).toMatch(c.message);
    expect(problem!.fix, 'every problem says what to write instead').toBeTruthy();
    if (c.fix) expect(problem!.fix).toMatch(c.fix);

    // The thrown error: one line `<file>:<line>: <key path>: <what is wrong>`, subject = key path.
    let thrown: unknown;
    try {
      parseConfigText(c.text, SOURCE, { providers: PROVIDERS, env: {}, readSecretFile: () => ({ data: SECRET, mode: 0o100600 }) });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const error = thrown as ConfigError;
    const first = error.problems[0]!;
    expect(error.message.startsWith(`${SOURCE}:${first.line}: ${first.path}: ${first.message}`)).toBe(true);
    expect(error.message).not.toContain('\n');
    expect(error.subject).toBe(first.path);
    expect(error.fix).toBe(first.fix);
    expect(error.kind).toBe('config');

    // No secret anywhere.
    for (const p of found) expect(JSON.stringify(p)).not.toContain(SECRET);
    expect(`${error.message} ${error.fix}`).not.toContain(SECRET);
  });
});

describe('validation collects every problem', () => {
  test('three problems: the first by line, and a count', () => {
    const text = lines('email: nobody', 'key_type: rsa', 'certificates:', '  - domains: [x]', 'dns:', '  provider: nsupdate');
    const found = problems(text);
    expect(found.map((p) => [p.line, p.path])).toEqual([
      [1, 'email'],
      [2, 'key_type'],
      [4, 'certificates[0].domains[0]'],
      [6, 'dns.provider'],
    ]);
    expect(() => parseConfigText(text, SOURCE, { providers: PROVIDERS })).toThrow(`${SOURCE}:1: email: "nobody" is not an e-mail address (and 3 more problems)`);
  });

  test('one problem has no count', () => {
    expect(() => parseConfigText(lines('email: nobody', ...BASE), SOURCE, { providers: PROVIDERS })).toThrow(/is not an e-mail address$/);
  });

  test('two problems say "1 more problem"', () => {
    expect(() => parseConfigText(lines('email: nobody', 'key_type: rsa', ...BASE), SOURCE, { providers: PROVIDERS })).toThrow(/\(and 1 more problem\)$/);
  });
});

describe('validated values', () => {
  test('explicit false and 0 survive into the Config', () => {
    const c = config(
      lines(
        ...BASE.slice(0, 4),
        '  propagation_check: false',
        '  rfc2136:',
        '    server: 127.0.0.2',
        '    tcp: false',
        '    ttl: 0',
      ),
    );
    expect(c.dns.propagationCheck).toBe(false);
    expect(rfc2136Of(c)?.tcp).toBe(false);
    expect(rfc2136Of(c)?.ttl).toBe(0);

    const r = config(lines(...BASE.slice(0, 3), '  provider: route53', '  route53:', '    private_zone: false', '    ttl: 0'));
    expect(route53Of(r)).toEqual({ privateZone: false, ttl: 0 });
  });

  test('true values and non-default numbers are kept too', () => {
    const c = config(lines(...BASE, '    tcp: true', '    ttl: 300', '    timeout: 0.5', '    retries: 1'));
    expect(rfc2136Of(c)).toMatchObject({ tcp: true, ttl: 300, timeoutMs: 500, retries: 1 });
  });

  test('seconds become milliseconds where the Config counts milliseconds', () => {
    const c = config(lines(...BASE.slice(0, 4), '  propagation_interval: 0.25', '  propagation_timeout: 30', ...BASE.slice(4), '    timeout: 1.5'));
    expect(c.dns.propagationIntervalMs).toBe(250);
    expect(c.dns.propagationTimeoutMs).toBe(30_000);
    expect(rfc2136Of(c)?.timeoutMs).toBe(1500);
  });

  test('a lineage is named after its first domain without "*."; key types default to the top-level one', () => {
    const c = config(
      lines(
        'key_type: rsa-3072',
        'certificates:',
        '  - domains: ["*.Galaxy.Example.org.", galaxy.example.org]',
        '  - domains: [other.example.org]',
        '    name: other',
        '    key_type: ECDSA-P384',
        ...BASE.slice(2),
      ),
    );
    expect(c.keyType).toBe('rsa-3072');
    expect(c.certificates).toEqual([
      { name: 'galaxy.example.org', domains: ['*.galaxy.example.org', 'galaxy.example.org'], keyType: 'rsa-3072' },
      { name: 'other', domains: ['other.example.org'], keyType: 'ecdsa-p384' },
    ]);
  });

  test('a port written with the server is used; the same port written twice is fine', () => {
    expect(rfc2136Of(config(lines(...BASE.slice(0, 5), '    server: 127.0.0.2:5353')))?.servers).toEqual([{ host: '127.0.0.2', port: 5353 }]);
    expect(rfc2136Of(config(lines(...BASE.slice(0, 5), '    server: 127.0.0.2:5353', '    port: 5353')))?.servers).toEqual([{ host: '127.0.0.2', port: 5353 }]);
    expect(rfc2136Of(config(lines(...BASE.slice(0, 5), '    server: "[::1]"', '    port: 5300')))?.servers).toEqual([{ host: '::1', port: 5300 }]);
    expect(rfc2136Of(config(lines(...BASE.slice(0, 5), '    server: NS-Training.GalaxyProject.org.')))?.servers).toEqual([{ host: 'ns-training.galaxyproject.org', port: 53 }]);
  });

  test('server takes a list of addresses and host names, tried in that order', () => {
    const c = config(lines(...BASE.slice(0, 5), '    server: [ns1.example.org, "127.0.0.3:5353", "[::1]"]', '    port: 5353'));
    expect(rfc2136Of(c)?.servers).toEqual([
      { host: 'ns1.example.org', port: 5353 },
      { host: '127.0.0.3', port: 5353 },
      { host: '::1', port: 5353 },
    ]);
    expect(() => config(lines(...BASE.slice(0, 5), '    server: []'))).toThrow('is an empty list');
    expect(() => config(lines(...BASE.slice(0, 5), '    server: [127.0.0.2, "bad host!"]'))).toThrow('"bad host!"');
  });

  test('relative paths are relative to the configuration file', () => {
    const c = config(lines('ca_bundle: pebble.minica.pem', 'state_dir: ./state', ...BASE));
    expect(c.caBundle).toBe('/etc/gxit-cert/pebble.minica.pem');
    expect(c.stateDir).toBe('/etc/gxit-cert/state');
    const other = parseConfigText(lines('state_dir: state', ...BASE), 'lab.yml', { providers: PROVIDERS, baseDir: '/tmp/lab' });
    expect(other.stateDir).toBe('/tmp/lab/state');
  });

  test('route53: defaults without a section; zone id prefix stripped; credentials kept', () => {
    expect(route53Of(config(lines(...BASE.slice(0, 3), '  provider: route53')))).toEqual({ privateZone: false, ttl: 60 });
    const c = config(
      lines(
        ...BASE.slice(0, 3),
        '  provider: route53',
        '  route53:',
        '    region: eu-central-1',
        '    access_key_id: AKIAIOSFODNN7EXAMPLE',
        `    secret_access_key: ${SECRET}`,
        '    session_token: FwoGZXIvYXdzEXAMPLE',
        '    role_arn: arn:aws:iam::123456789012:role/gxit-cert',
        '    external_id: galaxy',
        '    hosted_zone_id: /hostedzone/Z0123456789ABCDEFGHIJ',
        '    private_zone: true',
        '    endpoint: http://127.0.0.1:4566',
        '    ttl: 30',
      ),
    );
    expect(route53Of(c)).toEqual({
      region: 'eu-central-1',
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: SECRET,
      sessionToken: 'FwoGZXIvYXdzEXAMPLE',
      roleArn: 'arn:aws:iam::123456789012:role/gxit-cert',
      externalId: 'galaxy',
      hostedZoneId: 'Z0123456789ABCDEFGHIJ',
      privateZone: true,
      endpoint: 'http://127.0.0.1:4566/',
      ttl: 30,
    });
    expect(rfc2136Of(c)).toBeUndefined();
  });

  test('the section of the provider not chosen is checked, then dropped with a warning', () => {
    const c = config(lines(...BASE, '  route53:', '    region: eu-west-1'));
    expect(route53Of(c)).toBeUndefined();
    expect(c.warnings).toContain(`${SOURCE}:7: dns.route53: is ignored: the DNS provider is rfc2136`);
    expect(problems(lines(...BASE, '  route53:', '    regon: eu-west-1'))[0]).toMatchObject({ path: 'dns.route53.regon' });
  });

  test('!unsafe strings are not taken for templates', () => {
    expect(config(lines('ca_bundle: !unsafe "/etc/{{odd}}/ca.pem"', ...BASE)).caBundle).toBe('/etc/{{odd}}/ca.pem');
    expect(problems(lines('ca_bundle: "/etc/{{odd}}/ca.pem"', ...BASE))[0]!.message).toMatch(/unrendered Jinja/);
  });

  test('validateTree alone: a draft with secret references, no secret read', () => {
    const tree = applyDefaults(parseYamlTree(lines(...BASE, '    name: k', '    secret_file: tsig.key'), SOURCE).tree!, PROVIDERS);
    const options = { source: SOURCE, baseDir: '/etc/gxit-cert' };
    const result = validateTree(tree, { ...options, providers: PROVIDERS });
    expect(result.problems).toEqual([]);
    expect(result.draft?.dns.provider).toBe('rfc2136');
    // The rfc2136 section's own draft (the config draft holds it opaquely for its descriptor).
    const dns = get(tree, 'dns') as MapNode;
    expect(validateRfc2136(new Checker(options), get(dns, 'rfc2136')!)?.tsig).toEqual({
      name: 'k',
      nameAt: { source: SOURCE, line: 7, path: 'dns.rfc2136.name' },
      algorithm: 'hmac-sha512',
      algorithmExplicit: false,
      algorithmAt: { source: SOURCE, line: 5, path: 'dns.rfc2136.algorithm' },
      secret: { kind: 'file', file: '/etc/gxit-cert/tsig.key', at: { source: SOURCE, line: 8, path: 'dns.rfc2136.secret_file' } },
    });
  });

  test('the key lists cover every documented key', () => {
    expect(rfc2136.keys).toEqual(['server', 'port', 'name', 'secret', 'secret_file', 'secret_env', 'algorithm', 'zone', 'tcp', 'ttl', 'timeout', 'retries']);
    expect(KNOWN_KEYS.dns).toContain('nameserver_port');
  });
});

describe('a secret written in the wrong place is not echoed either', () => {
  const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  test.each([
    ['as the key name', lines(...BASE, `    name: ${SECRET}`)],
    ['as the algorithm', lines(...BASE, '    name: k', `    algorithm: ${SECRET}`)],
    ['as the server', lines(...BASE.slice(0, 5), `    server: ${AWS_SECRET}`)],
    ['as a domain', lines('certificates:', `  - domains: [${SECRET}]`, ...BASE.slice(2))],
    ['as the e-mail', lines(`email: ${SECRET}`, ...BASE)],
    ['as the environment', lines(`certbot_environment: ${SECRET}`, 'certbot_domains: [galaxy.example.org]')],
    ['as secret_env', lines(...BASE, '    name: k', `    secret_env: ${SECRET}=`)],
    ['as an AWS region', lines(...BASE.slice(0, 3), '  provider: route53', '  route53:', `    region: ${AWS_SECRET}`)],
    ['as an AWS key id', lines(...BASE.slice(0, 3), '  provider: route53', '  route53:', `    access_key_id: ${AWS_SECRET}`, '    secret_access_key: x')],
    ['as a number where a string belongs', lines(...BASE, '    ttl: ' + SECRET)],
  ])('%s', (_name, text) => {
    const found = problems(text);
    expect(found.length).toBeGreaterThan(0);
    const visible = JSON.stringify(found);
    expect(visible).not.toContain(SECRET);
    expect(visible).not.toContain(AWS_SECRET);
  });
});
