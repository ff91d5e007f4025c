import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { applyEdits, flagEdits, hasCertbotFlags, onlyCertificate } from '../../../src/cli/certbot-flags.js';
import { parseConfigText } from '../../../src/config/load.js';
import { LETSENCRYPT_STAGING_DIRECTORY } from '../../../src/config/types.js';
import { PROVIDERS } from '../../../src/dns/providers/registry.js';
import { rfc2136Of } from '../dns/providers/settings.js';

const INI = { server: '192.0.2.53', port: '53', name: 'certbot-training.', algorithm: 'HMAC-SHA512' };

describe('flagEdits', () => {
  it('knows when certbot flags were given', () => {
    expect(hasCertbotFlags({})).toBe(false);
    expect(hasCertbotFlags({ domains: [] })).toBe(false);
    expect(hasCertbotFlags({ staging: true })).toBe(true);
  });

  it('makes one certificate of -d (repeated or comma-separated), named like certbot names it', async () => {
    const edits = flagEdits({ domains: ['Galaxy.Example.org', '*.ep.interactivetool.galaxy.example.org,galaxy.example.org'] }, undefined);
    expect(parse(await applyEdits('', edits))).toEqual({
      certificates: [{ name: 'galaxy.example.org', domains: ['galaxy.example.org', '*.ep.interactivetool.galaxy.example.org'] }],
    });
    const named = flagEdits({ domains: ['*.example.org'], certName: 'wild' }, undefined);
    expect(parse(await applyEdits('', named))).toEqual({ certificates: [{ name: 'wild', domains: ['*.example.org'] }] });
    expect(parse(await applyEdits('', flagEdits({ domains: ['*.example.org'] }, undefined)))).toEqual({ certificates: [{ name: 'example.org', domains: ['*.example.org'] }] });
  });

  it('lays -m, --staging and the credentials file over a file, keeping its other keys and comments', async () => {
    const file = '# mine\nemail: old@example.org\nstate_dir: /srv/state  # here\ndns:\n  resolvers: ["127.0.0.2:53"]\n  rfc2136:\n    server: 10.0.0.1\n    secret: inline\n';
    const text = await applyEdits(file, flagEdits({ email: 'new@example.org', staging: true, dnsRfc2136Credentials: '/etc/letsencrypt/rfc2136.ini' }, INI));
    expect(text).toContain('# mine');
    expect(text).toContain('# here');
    expect(parse(text)).toEqual({
      email: 'new@example.org',
      state_dir: '/srv/state',
      server: LETSENCRYPT_STAGING_DIRECTORY,
      dns: {
        resolvers: ['127.0.0.2:53'],
        provider: 'rfc2136',
        rfc2136: { server: '192.0.2.53', port: 53, name: 'certbot-training.', algorithm: 'HMAC-SHA512', secret_file: '/etc/letsencrypt/rfc2136.ini' },
      },
    });
  });

  it('replaces the role\'s keys of a group_vars file instead of adding native keys beside them', async () => {
    const vars = 'certbot_domains: [a.example.org]\ncertbot_admin_email: a@example.org\ncertbot_environment: staging\ncertbot_dns_provider: rfc2136\ncertbot_dns_credentials: {server: 10.0.0.1}\n';
    const text = await applyEdits(vars, flagEdits({ domains: ['b.example.org'], email: 'b@example.org', server: 'https://ca.test/dir', dnsRfc2136Credentials: '/x.ini' }, { server: '10.0.0.2' }));
    expect(parse(text)).toEqual({
      certificates: [{ name: 'b.example.org', domains: ['b.example.org'] }],
      email: 'b@example.org',
      server: 'https://ca.test/dir',
      dns: { provider: 'rfc2136', rfc2136: { server: '10.0.0.2', secret_file: '/x.ini' } },
    });
  });

  it('gives a configuration the pipeline accepts from flags alone (secret from the ini file)', async () => {
    const text = await applyEdits('', flagEdits({ domains: ['galaxy.example.org'], email: 'a@example.org', dnsRfc2136Credentials: '/etc/letsencrypt/rfc2136.ini' }, INI));
    const ini = 'dns_rfc2136_server = 192.0.2.53\ndns_rfc2136_name = certbot-training.\ndns_rfc2136_secret = c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0\ndns_rfc2136_algorithm = HMAC-SHA512\n';
    const config = parseConfigText(text, 'command-line flags', { providers: PROVIDERS, baseDir: '/', readSecretFile: () => ({ data: ini, mode: 0o600 }) });
    expect(config.certificates).toEqual([{ name: 'galaxy.example.org', domains: ['galaxy.example.org'], keyType: 'ecdsa-p256' }]);
    expect(rfc2136Of(config)?.servers).toEqual([{ host: '192.0.2.53', port: 53 }]);
    expect(rfc2136Of(config)?.tsig?.name).toBe('certbot-training');
  });

  it('selects one configured certificate with --cert-name alone', () => {
    const edits = flagEdits({ certName: 'galaxy.example.org' }, undefined);
    expect(onlyCertificate(edits)).toBe('galaxy.example.org');
  });

  it.each([
    [{ domains: ['10.0.0.1'] }, '-d: "10.0.0.1" is an IP address; certificates here are for domain names'],
    [{ domains: ['a.*.example.org'] }, '-d: "a.*.example.org" may contain "*" only as the whole first label ("*.example.org")'],
    [{ email: 'nobody' }, '-m: "nobody" is not an e-mail address'],
    [{ server: 'ftp.example.org' }, '--server: "ftp.example.org" is neither letsencrypt, letsencrypt-staging nor a directory URL'],
    [{ server: 'https://ca.test/dir', staging: true }, '--staging: cannot be combined with --server'],
    [{ certName: '../etc' }, '--cert-name: "../etc" must start with a letter or digit and contain only letters, digits, ".", "_" and "-"'],
  ])('refuses %j', (flags, message) => {
    expect(() => flagEdits(flags, undefined)).toThrow(expect.objectContaining({ code: 'USAGE', message }));
  });
});

describe('loadConfigWithFlags', () => {
  it('without a configuration file needs -d', async () => {
    const { loadConfigWithFlags } = await import('../../../src/cli/certbot-flags.js');
    await expect(loadConfigWithFlags({ flags: { email: 'a@example.org' } }, {})).rejects.toMatchObject({
      code: 'USAGE',
      message: '-d: no names to issue for: give -d NAME, or a configuration with --config',
    });
  });
});
