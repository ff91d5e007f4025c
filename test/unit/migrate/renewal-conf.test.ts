import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LETSENCRYPT_DIRECTORY, LETSENCRYPT_STAGING_DIRECTORY } from '../../../src/config/types.js';
import { parseConfigObj } from '../../../src/migrate/configobj.js';
import { mapRenewalConf, parseRenewBefore } from '../../../src/migrate/renewal-conf.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/certbot');
const mapFixture = (file: string) => mapRenewalConf('galaxy.example.org', parseConfigObj(readFileSync(path.join(fixtures, file), 'utf8')).root);

describe('mapRenewalConf', () => {
  it('certbot 0.31 with webroot: RSA 4096, the hook, and warnings for what DNS-01 replaces', () => {
    const m = mapFixture('certbot-0.31-webroot.conf');
    expect(m).toMatchObject({
      server: LETSENCRYPT_DIRECTORY,
      accountId: '0123456789abcdef0123456789abcdef',
      keyType: 'rsa-4096',
      provider: { kind: 'unsupported', authenticator: 'webroot' },
      hooks: [{ phase: 'deploy', command: { shell: 'systemctl restart nginx || true' }, origin: 'renew_hook of renewal/galaxy.example.org.conf' }],
      autorenewOff: false,
    });
    expect(m.renewBeforeDays).toBeUndefined();
    expect(m.warnings).toEqual([
      'galaxy.example.org: authenticator webroot cannot be carried over (import-certbot maps dns-rfc2136 and dns-route53; gxit-cert validates with DNS-01 only); fill in dns: in the written configuration (docs/providers.md)',
      'galaxy.example.org: webroot_path = /srv/nginx/_well-known_root is not carried over: gxit-cert has no counterpart for it',
      'galaxy.example.org: [[webroot_map]] in [renewalparams] is not carried over (webroot validation; gxit-cert validates with DNS-01)',
    ]);
    expect(m.notes).toEqual([]);
  });

  it('certbot 1.12 with rfc2136: staging, credentials by reference, every hook, two weeks, reuse_key carried over', () => {
    const m = mapFixture('certbot-1.12-rfc2136.conf');
    expect(m).toMatchObject({
      server: LETSENCRYPT_STAGING_DIRECTORY,
      keyType: 'rsa-2048',
      provider: { kind: 'rfc2136', credentials: '/etc/letsencrypt/dns-rfc2136-credentials.ini' },
      renewBeforeDays: 14,
      reuseKey: true,
    });
    expect(m.preferredChain).toBeUndefined();
    expect(m.hooks.map((h) => [h.phase, h.command])).toEqual([
      ['pre', { shell: 'systemctl stop foo # not a comment, inside quotes' }],
      ['post', { shell: 'echo a, b' }],
    ]);
    expect(m.warnings).toEqual([]);
    expect(m.notes).toEqual([
      'galaxy.example.org: pref_challs not needed (gxit-cert always answers dns-01)',
      'galaxy.example.org: dns_rfc2136_propagation_seconds not needed (gxit-cert asks every authoritative nameserver instead of sleeping)',
    ]);
  });

  it('certbot 2.11 with route53 and ARI: P-384, autorenew already off, the retry time, preferred_chain carried over', () => {
    const m = mapFixture('certbot-2.11-route53-ari.conf');
    expect(m).toMatchObject({ keyType: 'ecdsa-p384', provider: { kind: 'route53' }, autorenewOff: true, ariRetryAfter: new Date('2026-12-04T06:00:00').toISOString(), hooks: [] });
    expect(m.preferredChain).toBe('ISRG Root X1');
    expect(m.reuseKey).toBeUndefined();
    expect(m.warnings).toEqual([]);
    expect(m.notes).toContain('galaxy.example.org: autorenew is already off in certbot');
    expect(m.notes).toContain('galaxy.example.org: must_staple not needed (off)');
  });

  it.each([
    ['reuse_key = False\npreferred_chain = None\n', { reuseKey: false }, []],
    ['reuse_key = on\npreferred_chain = "  DST Root CA X3 "\n', { reuseKey: true, preferredChain: 'DST Root CA X3' }, []],
    ['reuse_key = sometimes\n', {}, ['x: reuse_key = sometimes is not True or False; a new key is made for every certificate']],
  ] as const)('reuse_key and preferred_chain: %j', (extra, fields, warnings) => {
    const m = mapRenewalConf('x', parseConfigObj(`[renewalparams]\naccount = a\nauthenticator = dns-route53\n${extra}`).root);
    expect({ reuseKey: m.reuseKey, preferredChain: m.preferredChain }).toEqual({ reuseKey: undefined, preferredChain: undefined, ...fields });
    expect(m.warnings).toEqual(warnings);
    expect(m.notes).toEqual([]);
  });

  it('without key settings keeps the current key type, and without [renewalparams] warns about the account', () => {
    const m = mapRenewalConf('x', parseConfigObj('version = 2.1.0\n').root);
    expect(m.keyType).toBeUndefined();
    expect(m.server).toBe(LETSENCRYPT_DIRECTORY);
    expect(m.warnings).toContain('x: no account in [renewalparams]; gxit-cert registers a new one at the next order');
  });

  it('maps deploy_hook, warns about an installer and an unknown top-level key', () => {
    const m = mapRenewalConf('x', parseConfigObj('odd = 1\n[renewalparams]\nauthenticator = dns-route53\ninstaller = nginx\ndeploy_hook = /bin/true\naccount = a\n').root);
    expect(m.hooks).toEqual([{ phase: 'deploy', command: { shell: '/bin/true' }, origin: 'deploy_hook of renewal/x.conf' }]);
    expect(m.warnings).toEqual([
      'x: installer nginx is not carried over (gxit-cert edits no server configuration); add a deploy hook such as reload-nginx',
      'x: odd = 1 (line 1) is not carried over',
    ]);
  });
});

describe('parseRenewBefore', () => {
  it.each([
    ['30 days', 30],
    ['1 day', 1],
    ['2 weeks', 14],
    ['10d', 10],
    [' 7 W ', 49],
    ['1 month', undefined],
    ['0 days', undefined],
    ['soon', undefined],
  ])('%s -> %s', (text, days) => {
    expect(parseRenewBefore(text)).toBe(days);
  });
});

describe('secrets in warnings', () => {
  it('does not echo the value of a secret-looking setting', () => {
    const m = mapRenewalConf('x', parseConfigObj('[renewalparams]\naccount = a\nauthenticator = dns-route53\neab_hmac_key = short\ndns_route53_extra = QmFzZTY0U2VjcmV0VmFsdWUxMjM0NTY3OA==\n').root);
    expect(m.warnings).toEqual([
      'x: eab_hmac_key = (not shown) is not carried over: gxit-cert has no counterpart for it',
      'x: dns_route53_extra = (not shown) is not carried over: a DNS plugin setting gxit-cert has no counterpart for',
    ]);
  });
});
