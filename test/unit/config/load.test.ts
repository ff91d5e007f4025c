import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GxitError } from '../../../src/errors.js';
import { DEFAULT_CONFIG_PATH, evaluateConfigText, loadConfig, parseConfigText } from '../../../src/config/load.js';
import { TSIG_SECRET_ENV } from '../../../src/dns/providers/rfc2136/section.js';
import { ConfigError } from '../../../src/config/problems.js';
import { LETSENCRYPT_DIRECTORY, LETSENCRYPT_STAGING_DIRECTORY, type Config } from '../../../src/config/types.js';
import { PROVIDERS } from '../../../src/dns/providers/registry.js';
import { rfc2136Of, route53Of } from '../dns/providers/settings.js';

const SECRET_TEXT = 'training-tsig-secret';
const SECRET = Buffer.from(SECRET_TEXT).toString('base64');

const NATIVE = `# /etc/gxit-cert/config.yml
email: admin@example.org
server: letsencrypt
ca_bundle: /etc/ssl/extra-ca.pem
state_dir: /etc/gxit-cert
key_type: ecdsa-p256
certificates:
  - name: galaxy.example.org
    domains: [galaxy.example.org, "*.ep.interactivetool.galaxy.example.org"]
    key_type: rsa-2048
dns:
  provider: rfc2136
  resolvers: ["127.0.0.2:53"]
  propagation_timeout: 120
  propagation_interval: 0.05
  propagation_check: true
  nameserver_port: 53
  rfc2136:
    server: 127.0.0.2
    port: 53
    name: certbot-training.
    secret_file: /etc/gxit-cert/tsig.secret
    algorithm: HMAC-SHA512
    zone: example.org
    tcp: false
    ttl: 60
    timeout: 2
    retries: 3
`;

/** What the integration lab writes: local Pebble, BIND on 127.0.0.2:5353, a tsig-keygen key file. */
const LAB = `email: admin@galaxy.lab
server: https://127.0.0.1:14000/dir
ca_bundle: pebble.minica.pem
state_dir: state
certificates:
  - domains:
      - galaxy.example.org
      - "*.ep.interactivetool.galaxy.example.org"
dns:
  provider: rfc2136
  resolvers: ["127.0.0.2:5353"]
  nameserver_port: 5353
  propagation_timeout: 10
  propagation_interval: 0.05
  rfc2136:
    server: 127.0.0.2
    port: 5353
    secret_file: tsig.key
    zone: example.org.
    timeout: 0.5
    retries: 2
`;

/** A rendered group_vars/galaxyservers.yml from the Galaxy admin training, with other roles' keys. */
const GROUP_VARS = `---
# Galaxy
galaxy_create_user: true
galaxy_separate_privileges: true
galaxy_manage_paths: true
galaxy_layout: root-dir
galaxy_root: /srv/galaxy
galaxy_config:
  galaxy:
    brand: "🧬🔬🚀"
    admin_users: admin@example.org
    interactivetools_enable: true
    galaxy_infrastructure_url: "https://{{ inventory_hostname }}"
  gravity:
    process_manager: systemd

# Certbot
certbot_auto_renew_hour: "{{ 23 |random(seed=inventory_hostname)  }}"
certbot_auto_renew_minute: "{{ 59 |random(seed=inventory_hostname)  }}"
#certbot_auth_method: --webroot
certbot_install_method: virtualenv
certbot_auto_renew: yes
certbot_auto_renew_user: root
certbot_environment: staging
certbot_well_known_root: /srv/nginx/_well-known_root
certbot_share_key_users:
  - www-data
certbot_post_renewal: |
    systemctl restart nginx || true
certbot_domains:
  - galaxy.example.org
  - "*.interactivetoolentrypoint.interactivetool.galaxy.example.org"
certbot_agree_tos: --agree-tos
certbot_dns_provider: rfc2136
certbot_dns_credentials:
  server: ns-training.galaxyproject.org
  port: 53
  name: certbot-training.
  secret: ${SECRET}
  algorithm: HMAC-SHA512

# NGINX
nginx_selinux_allow_local_connections: true
nginx_servers:
  - redirect-ssl
nginx_ssl_servers:
  - galaxy
nginx_enable_default_server: false
nginx_conf_http:
  client_max_body_size: 1g
nginx_ssl_role: usegalaxy_eu.certbot
nginx_conf_ssl_certificate: /etc/ssl/certs/fullchain.pem
nginx_conf_ssl_certificate_key: /etc/ssl/user/privkey-www-data.pem
`;

describe('whole files', () => {
  test('a native file with every key', () => {
    const config = parseConfigText(NATIVE, '/etc/gxit-cert/config.yml', { providers: PROVIDERS,
      readSecretFile: (path) => {
        expect(path).toBe('/etc/gxit-cert/tsig.secret');
        return { data: `${SECRET}\n`, mode: 0o100600 };
      },
    });
    expect(config).toEqual<Config>({
      source: '/etc/gxit-cert/config.yml',
      email: 'admin@example.org',
      server: LETSENCRYPT_DIRECTORY,
      caBundle: '/etc/ssl/extra-ca.pem',
      stateDir: '/etc/gxit-cert',
      keyType: 'ecdsa-p256',
      certificates: [{ name: 'galaxy.example.org', domains: ['galaxy.example.org', '*.ep.interactivetool.galaxy.example.org'], keyType: 'rsa-2048' }],
      dns: {
        provider: 'rfc2136',
        resolvers: [{ host: '127.0.0.2', port: 53 }],
        propagationTimeoutMs: 120_000,
        propagationIntervalMs: 50,
        propagationCheck: true,
        nameserverPort: 53,
        settings: config.dns.settings,
      },
      warnings: [],
    });
    expect(rfc2136Of(config)).toEqual({
      servers: [{ host: '127.0.0.2', port: 53 }],
      tsig: { name: 'certbot-training', algorithm: 'hmac-sha512', secret: Buffer.from(SECRET_TEXT) },
      zone: 'example.org',
      tcp: false,
      ttl: 60,
      timeoutMs: 2000,
      retries: 3,
    });
  });

  test('a minimal native file gets every default', () => {
    const config = parseConfigText(
      'certificates:\n  - domains: [galaxy.example.org]\ndns:\n  provider: rfc2136\n  rfc2136:\n    server: 127.0.0.2\n',
      '/etc/gxit-cert/config.yml', { providers: PROVIDERS }
    );
    expect(config).toEqual<Config>({
      source: '/etc/gxit-cert/config.yml',
      server: LETSENCRYPT_DIRECTORY,
      stateDir: '/etc/gxit-cert',
      keyType: 'ecdsa-p256',
      certificates: [{ name: 'galaxy.example.org', domains: ['galaxy.example.org'], keyType: 'ecdsa-p256' }],
      dns: {
        provider: 'rfc2136',
        propagationTimeoutMs: 120_000,
        propagationIntervalMs: 50,
        propagationCheck: true,
        nameserverPort: 53,
        settings: config.dns.settings,
      },
      warnings: [],
    });
    expect(rfc2136Of(config)).toEqual({ servers: [{ host: '127.0.0.2', port: 53 }], tcp: false, ttl: 60, timeoutMs: 2000, retries: 3 });
  });

  test('the lab file: local CA over https, BIND key file next to the config, relative paths', () => {
    const keyFile = `key "certbot-training." {\n\talgorithm hmac-sha256;\n\tsecret "${SECRET}";\n};\n`;
    const config = parseConfigText(LAB, '/tmp/lab/gxit-cert.yml', { providers: PROVIDERS,
      readSecretFile: (path) => {
        expect(path).toBe('/tmp/lab/tsig.key');
        return { data: keyFile, mode: 0o100600 };
      },
    });
    expect(config.server).toBe('https://127.0.0.1:14000/dir');
    expect(config.caBundle).toBe('/tmp/lab/pebble.minica.pem');
    expect(config.stateDir).toBe('/tmp/lab/state');
    expect(config.certificates).toEqual([{ name: 'galaxy.example.org', domains: ['galaxy.example.org', '*.ep.interactivetool.galaxy.example.org'], keyType: 'ecdsa-p256' }]);
    expect(config.dns).toEqual({
      provider: 'rfc2136',
      resolvers: [{ host: '127.0.0.2', port: 5353 }],
      propagationTimeoutMs: 10_000,
      propagationIntervalMs: 50,
      propagationCheck: true,
      nameserverPort: 5353,
      settings: config.dns.settings,
    });
    expect(rfc2136Of(config)).toEqual({
      servers: [{ host: '127.0.0.2', port: 5353 }],
      tsig: { name: 'certbot-training', algorithm: 'hmac-sha256', secret: Buffer.from(SECRET_TEXT) },
      zone: 'example.org',
      tcp: false,
      ttl: 60,
      timeoutMs: 500,
      retries: 2,
    });
    expect(config.warnings).toEqual([]);
  });

  test('an Ansible group_vars file from the Galaxy training works as it is', () => {
    const config = parseConfigText(GROUP_VARS, '/srv/ansible/group_vars/galaxyservers.yml', { providers: PROVIDERS });
    expect(config.email).toBeUndefined();
    expect(config.server).toBe(LETSENCRYPT_STAGING_DIRECTORY);
    expect(config.certificates).toEqual([
      { name: 'galaxy.example.org', domains: ['galaxy.example.org', '*.interactivetoolentrypoint.interactivetool.galaxy.example.org'], keyType: 'ecdsa-p256' },
    ]);
    expect(config.dns.provider).toBe('rfc2136');
    expect(rfc2136Of(config)).toEqual({
      servers: [{ host: 'ns-training.galaxyproject.org', port: 53 }],
      tsig: { name: 'certbot-training', algorithm: 'hmac-sha512', secret: Buffer.from(SECRET_TEXT) },
      tcp: false,
      ttl: 60,
      timeoutMs: 2000,
      retries: 3,
    });
    // Only the role keys whose absence changes something are mentioned; galaxy_*, nginx_* are silent,
    // and so are the unrendered templates in keys gxit-cert does not read.
    expect(config.warnings).toEqual([
      '/srv/ansible/group_vars/galaxyservers.yml:26: certbot_share_key_users: is ignored: gxit-cert does not copy the private key for other users; read it from the state directory or copy it in a deploy hook',
      '/srv/ansible/group_vars/galaxyservers.yml:28: certbot_post_renewal: is not run by gxit-cert; reload or restart the web server from a gxit-cert deploy hook instead',
    ]);
    for (const warning of config.warnings) expect(warning).not.toContain(SECRET);
  });

  test('the unrendered training file fails on the template, naming the line, and never shows the secret', () => {
    const unrendered = GROUP_VARS.replace('  - galaxy.example.org\n', '  - "{{ inventory_hostname }}"\n').replace(
      '  - "*.interactivetoolentrypoint.interactivetool.galaxy.example.org"',
      '  - "*.interactivetoolentrypoint.interactivetool.{{ inventory_hostname }}"',
    );
    const result = evaluateConfigText(unrendered, 'galaxyservers.yml', { providers: PROVIDERS });
    expect(result.problems.map((p) => `${p.line} ${p.path} ${p.message}`)).toEqual([
      '31 certbot_domains[0] is an unrendered Jinja template',
      '32 certbot_domains[1] is an unrendered Jinja template',
    ]);
    expect(JSON.stringify(result)).not.toContain(SECRET);
  });

  test('a placeholder secret in the training file is an error without the placeholder echoed', () => {
    const placeholder = GROUP_VARS.replace(`secret: ${SECRET}`, 'secret: <SECRET PROVIDED BY INSTRUCTOR>');
    expect(() => parseConfigText(placeholder, 'galaxyservers.yml', { providers: PROVIDERS })).toThrow('galaxyservers.yml:39: certbot_dns_credentials.secret: is not a base64 TSIG secret');
    try {
      parseConfigText(placeholder, 'galaxyservers.yml', { providers: PROVIDERS });
    } catch (error) {
      expect((error as Error).message).not.toContain('PROVIDED');
    }
  });
});

describe('loadConfig', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gxit-cert-load-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('reads the file and resolves secrets next to it', async () => {
    writeFileSync(join(dir, 'tsig.key'), `key "certbot-training." { algorithm hmac-sha512; secret "${SECRET}"; };\n`, { mode: 0o600 });
    chmodSync(join(dir, 'tsig.key'), 0o600);
    writeFileSync(join(dir, 'config.yml'), LAB.replace('state_dir: state', `state_dir: ${join(dir, 'state')}`));
    const config = await loadConfig(join(dir, 'config.yml'), { providers: PROVIDERS, env: {} });
    expect(config.source).toBe(join(dir, 'config.yml'));
    expect(config.caBundle).toBe(join(dir, 'pebble.minica.pem'));
    expect(rfc2136Of(config)?.tsig).toEqual({ name: 'certbot-training', algorithm: 'hmac-sha512', secret: Buffer.from(SECRET_TEXT) });
  });

  test('a world-readable file with an inline secret gives a warning that does not hold the secret', async () => {
    const text = `certificates:\n  - domains: [galaxy.example.org]\ndns:\n  provider: rfc2136\n  rfc2136:\n    server: 127.0.0.2\n    name: k\n    secret: ${SECRET}\n`;
    const file = join(dir, 'inline.yml');
    writeFileSync(file, text);
    chmodSync(file, 0o644);
    const config = await loadConfig(file, { providers: PROVIDERS, env: {} });
    expect(config.warnings).toEqual([`${file}: holds an inline secret (dns.rfc2136.secret) and is readable by every user (mode 0644); run chmod 600 ${file}, or move the secret to a file (secret_file:)`]);
    chmodSync(file, 0o600);
    expect((await loadConfig(file, { providers: PROVIDERS, env: {} })).warnings).toEqual([]);
  });

  test('the inline-secret warning follows the provider descriptor\'s secretKeys: the Cloudflare token and the AWS secret key', async () => {
    const cases: [string, string][] = [
      ['cloudflare', '  cloudflare:\n    api_token: abcdefghijklmnopqrstuvwxyz0123456789ABCD\n'],
      ['route53', '  route53:\n    access_key_id: AKIAIOSFODNN7EXAMPLE\n    secret_access_key: wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY\n'],
    ];
    const expected: Record<string, string> = { cloudflare: 'dns.cloudflare.api_token', route53: 'dns.route53.secret_access_key' };
    expect(PROVIDERS.filter((p) => (p.secretKeys ?? []).length > 0).map((p) => p.name).sort()).toEqual(['cloudflare', 'rfc2136', 'route53']);
    for (const [provider, section] of cases) {
      const file = join(dir, `${provider}.yml`);
      writeFileSync(file, `certificates:\n  - domains: [galaxy.example.org]\ndns:\n  provider: ${provider}\n${section}`);
      chmodSync(file, 0o644);
      const config = await loadConfig(file, { providers: PROVIDERS, env: {} });
      expect(config.warnings.join('\n')).toContain(`holds an inline secret (${expected[provider]})`);
      expect(config.warnings.join('\n')).not.toMatch(/abcdefghij|wJalrXUtn/);
    }
  });

  test.each([
    ['a directory', (d: string) => d, /the configuration file is a directory, not a regular file/],
    ['/dev/zero', () => '/dev/zero', /the configuration file is a character device, not a regular file/],
  ])('refuses %s as the configuration with one line', async (_what, where, message) => {
    await expect(loadConfig(where(dir), { providers: PROVIDERS, env: {} })).rejects.toThrow(message);
  });

  test('takes the TSIG secret from the environment it is given', async () => {
    const text = 'certificates:\n  - domains: [galaxy.example.org]\ndns:\n  provider: rfc2136\n  rfc2136:\n    server: 127.0.0.2\n    name: k\n';
    const config = await loadConfig('/etc/gxit-cert/config.yml', { providers: PROVIDERS, readFile: async () => Buffer.from(text), env: { [TSIG_SECRET_ENV]: SECRET } });
    expect(rfc2136Of(config)?.tsig?.secret).toEqual(Buffer.from(SECRET_TEXT));
  });

  test('reads the default path when none is given', async () => {
    const seen: string[] = [];
    await expect(
      loadConfig(undefined, { providers: PROVIDERS,
        readFile: async (path) => {
          seen.push(path);
          throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
        },
      }),
    ).rejects.toThrow(GxitError);
    expect(seen).toEqual([DEFAULT_CONFIG_PATH]);
  });

  test.each([
    ['ENOENT', 'CONFIG_NOT_FOUND', /\/etc\/gxit-cert\/config\.yml: the configuration file does not exist/],
    ['EACCES', 'CONFIG_UNREADABLE', /cannot be read \(permission denied\)/],
    ['EISDIR', 'CONFIG_UNREADABLE', /cannot be read \(it is a directory\)/],
    ['EIO', 'CONFIG_UNREADABLE', /cannot be read \(EIO\)/],
  ])('%s -> %s', async (errno, code, message) => {
    const error = await loadConfig('/etc/gxit-cert/config.yml', { providers: PROVIDERS,
      readFile: async () => {
        throw Object.assign(new Error(errno), { code: errno });
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GxitError);
    expect(error).toMatchObject({ code, subject: '/etc/gxit-cert/config.yml' });
    expect((error as GxitError).message).toMatch(message);
    expect((error as GxitError).fix).toBeTruthy();
    expect((error as GxitError).kind).toBe('config');
  });

  test('a real missing file is CONFIG_NOT_FOUND', async () => {
    await expect(loadConfig(join(dir, 'nope.yml'), { providers: PROVIDERS })).rejects.toMatchObject({ code: 'CONFIG_NOT_FOUND' });
  });

  test('a syntax error is CONFIG_SYNTAX at its line', async () => {
    const error = await loadConfig('/etc/gxit-cert/config.yml', { providers: PROVIDERS, readFile: async () => 'email: a@b.org\nemail: c@d.org\n', env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: 'CONFIG_SYNTAX' });
    expect((error as Error).message).toBe('/etc/gxit-cert/config.yml:2: email: YAML syntax error: duplicate key (also on line 1)');
  });

  test('an invalid file is CONFIG_INVALID listing every problem', async () => {
    const error = (await loadConfig('/c.yml', { providers: PROVIDERS, readFile: async () => 'emial: x\ncertificates: []\n', env: {} }).catch((e: unknown) => e)) as ConfigError;
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.problems.map((p) => p.path)).toEqual(['emial', 'dns', 'certificates']);
    expect(error.message).toBe('/c.yml:1: emial: unknown key; did you mean email? (and 2 more problems)');
  });
});
