import { describe, expect, test } from 'vitest';
import {
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
} from '../../../src/config/values.js';
import { LETSENCRYPT_DIRECTORY, LETSENCRYPT_STAGING_DIRECTORY } from '../../../src/config/types.js';

describe('parseTsigAlgorithm', () => {
  test.each([
    ['HMAC-MD5', 'hmac-md5.sig-alg.reg.int'],
    ['hmac-md5', 'hmac-md5.sig-alg.reg.int'],
    ['hmac-md5.', 'hmac-md5.sig-alg.reg.int'],
    ['hmac-md5.sig-alg.reg.int', 'hmac-md5.sig-alg.reg.int'],
    ['hmac-md5.sig-alg.reg.int.', 'hmac-md5.sig-alg.reg.int'],
    ['HMAC-MD5.SIG-ALG.REG.INT', 'hmac-md5.sig-alg.reg.int'],
    ['HMAC-SHA1', 'hmac-sha1'],
    ['hmac-sha1.', 'hmac-sha1'],
    ['HMAC-SHA224', 'hmac-sha224'],
    ['hmac-sha224.', 'hmac-sha224'],
    ['HMAC-SHA256', 'hmac-sha256'],
    ['hmac-sha256', 'hmac-sha256'],
    ['Hmac-Sha256.', 'hmac-sha256'],
    ['HMAC-SHA384', 'hmac-sha384'],
    ['hmac-sha384.', 'hmac-sha384'],
    ['HMAC-SHA512', 'hmac-sha512'],
    ['hmac-sha512', 'hmac-sha512'],
    ['hmac-sha512.', 'hmac-sha512'],
    [' hmac-sha512 ', 'hmac-sha512'],
  ])('%j -> %s', (text, expected) => {
    expect(parseTsigAlgorithm(text)).toBe(expected);
  });

  test.each(['sha512', 'hmac-sha513', 'hmac-sha512..', 'gss-tsig', '', 'hmac-md5.sig-alg', 'hmac_sha256'])('%j is not an algorithm', (text) => {
    expect(parseTsigAlgorithm(text)).toBeUndefined();
  });
});

describe('normalizeDomain', () => {
  test.each([
    ['galaxy.example.org', 'galaxy.example.org'],
    ['Galaxy.Example.ORG', 'galaxy.example.org'],
    ['galaxy.example.org.', 'galaxy.example.org'],
    ['*.ep.interactivetool.galaxy.example.org', '*.ep.interactivetool.galaxy.example.org'],
    ['*.EP.InteractiveTool.Galaxy.Example.org.', '*.ep.interactivetool.galaxy.example.org'],
    ['xn--mnchen-3ya.de', 'xn--mnchen-3ya.de'],
    ['münchen.de', 'xn--mnchen-3ya.de'],
    ['a-b.c-d.example', 'a-b.c-d.example'],
  ])('%j -> %s', (text, expected) => {
    expect(normalizeDomain(text)).toEqual({ ok: true, value: expected });
  });

  test.each([
    ['', /empty/],
    ['galaxy', /two labels/],
    ['*.org', /two labels/],
    ['galaxy.*.example.org', /"\*" only as the whole first label/],
    ['*galaxy.example.org', /"\*" only/],
    ['**.example.org', /"\*" only/],
    ['*.*.example.org', /"\*" only/],
    ['gal_axy.example.org', /invalid label/],
    ['-galaxy.example.org', /starts or ends with "-"/],
    ['galaxy-.example.org', /starts or ends with "-"/],
    ['galaxy..example.org', /empty label/],
    ['.example.org', /empty label/],
    ['galaxy example.org', /white space/],
    ['127.0.0.1', /IP address/],
    ['2001:db8::1', /IP address/],
    ['example.123', /numeric/],
    [`${'a'.repeat(64)}.example.org`, /longer than 63/],
    [`${'abcdefghi.'.repeat(26)}org`, /longer than 253/],
  ])('%j is rejected (%s)', (text, reason) => {
    const result = normalizeDomain(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});

describe('zone and key names', () => {
  test.each([
    ['Example.ORG.', 'example.org'],
    ['org', 'org'],
  ])('zone %j -> %s', (text, expected) => expect(normalizeZone(text)).toEqual({ ok: true, value: expected }));
  test('a zone cannot be a wildcard', () => expect(normalizeZone('*.example.org').ok).toBe(false));

  test.each([
    ['certbot-training.', 'certbot-training'],
    ['CERTBOT-Training', 'certbot-training'],
    ['tsig_key.example.org.', 'tsig_key.example.org'],
  ])('key name %j -> %s', (text, expected) => expect(normalizeKeyName(text)).toEqual({ ok: true, value: expected }));
  test.each(['', 'a..b', 'key name', 'kéy'])('key name %j is rejected', (text) => expect(normalizeKeyName(text).ok).toBe(false));

  test.each(['galaxy.example.org', 'lab_1', 'A-b.c'])('lineage name %j is accepted', (text) => expect(checkLineageName(text).ok).toBe(true));
  test.each(['', '.hidden', '../etc', 'a/b', 'with space', '-dash'])('lineage name %j is rejected', (text) => expect(checkLineageName(text).ok).toBe(false));
});

describe('parseServerAddress', () => {
  test.each([
    ['127.0.0.2', false, { host: '127.0.0.2', port: 53, portGiven: false }],
    ['127.0.0.2:5353', false, { host: '127.0.0.2', port: 5353, portGiven: true }],
    ['::1', false, { host: '::1', port: 53, portGiven: false }],
    ['2001:db8::53', true, { host: '2001:db8::53', port: 53, portGiven: false }],
    ['[2001:db8::53]:5300', true, { host: '2001:db8::53', port: 5300, portGiven: true }],
    ['[::1]', true, { host: '::1', port: 53, portGiven: false }],
    ['ns-training.galaxyproject.org', false, { host: 'ns-training.galaxyproject.org', port: 53, portGiven: false }],
    ['NS1.Example.org.:54', false, { host: 'ns1.example.org', port: 54, portGiven: true }],
    ['localhost', false, { host: 'localhost', port: 53, portGiven: false }],
  ])('%j (requireIp %s)', (text, requireIp, expected) => {
    expect(parseServerAddress(text, 53, requireIp)).toEqual({ ok: true, value: expected });
  });

  test.each([
    ['', false, /empty/],
    ['127.0.0.2:0', false, /invalid port/],
    ['127.0.0.2:65536', false, /invalid port/],
    ['127.0.0.2:dns', false, /invalid port/],
    ['[example.org]:53', false, /not an IPv6/],
    ['ns1.example.org', true, /must be an IP address/],
    ['bad_host!', false, /neither an IP address nor a host name/],
  ])('%j (requireIp %s) is rejected', (text, requireIp, reason) => {
    const result = parseServerAddress(text, 53, requireIp);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});

describe('parseAcmeServer and parseServiceUrl', () => {
  test.each([
    ['letsencrypt', LETSENCRYPT_DIRECTORY],
    ['LetsEncrypt', LETSENCRYPT_DIRECTORY],
    ['letsencrypt-staging', LETSENCRYPT_STAGING_DIRECTORY],
    ['https://acme.example.org/directory', 'https://acme.example.org/directory'],
    ['https://127.0.0.1:14000/dir', 'https://127.0.0.1:14000/dir'],
    ['http://localhost:14000/dir', 'http://localhost:14000/dir'],
    ['http://127.0.0.2:4001/dir', 'http://127.0.0.2:4001/dir'],
    ['http://[::1]:4001/dir', 'http://[::1]:4001/dir'],
  ])('%j -> %s', (text, expected) => expect(parseAcmeServer(text)).toEqual({ ok: true, value: expected }));

  test.each([
    ['staging', /neither letsencrypt/],
    ['acme.example.org/directory', /neither letsencrypt/],
    ['http://acme.example.org/directory', /only for localhost/],
    ['http://128.0.0.1/dir', /only for localhost/],
    ['ftp://acme.example.org/', /not https/],
    ['https://user:pw@acme.example.org/', /user name or password/],
  ])('%j is rejected', (text, reason) => {
    const result = parseAcmeServer(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  test('a service URL must be a URL', () => expect(parseServiceUrl('not a url').ok).toBe(false));
});

describe('small parsers', () => {
  test.each([
    ['admin@example.org', 'admin@example.org'],
    ['Admin.Name+tag@Example.ORG', 'Admin.Name+tag@example.org'],
  ])('email %j', (text, expected) => expect(checkEmail(text)).toEqual({ ok: true, value: expected }));
  test.each(['admin', 'admin@', '@example.org', 'a@b@example.org', 'admin@localhost', 'ad min@example.org', 'mailto:admin@example.org', 'admin@exa_mple.org', 'ad\u0000min@example.org', 'admin@example.org\u202e', 'ad\u200fmin@example.org', 'ad\ufffdmin@example.org', 'ad\u0007min@example.org', 'admin@exämple.org'])(
    'email %j is rejected',
    (text) => expect(checkEmail(text).ok).toBe(false),
  );

  test.each([
    ['ecdsa-p256', 'ecdsa-p256'],
    ['ECDSA-P384', 'ecdsa-p384'],
    ['rsa-2048', 'rsa-2048'],
    ['rsa-3072', 'rsa-3072'],
    ['rsa-4096', 'rsa-4096'],
  ])('key type %j', (text, expected) => expect(parseKeyType(text)).toBe(expected));
  test.each(['rsa', 'ecdsa', 'rsa-1024', 'ec256'])('key type %j is rejected', (text) => expect(parseKeyType(text)).toBeUndefined());

  test.each([
    ['c2VjcmV0', 'secret'],
    ['c2VjcmV0c2VjcmV0', 'secretsecret'],
    ['c2VjcmV0cw==', 'secrets'],
    ['c2VjcmV0cw', 'secrets'],
    ['c2Vj\ncmV0\n', 'secret'],
  ])('base64 %j', (text, expected) => expect(decodeBase64Secret(text)?.toString('utf8')).toBe(expected));
  test.each(['', '   ', '<SECRET PROVIDED BY INSTRUCTOR>', 'abc!', 'c2VjcmV0c', 'c2VjcmV0cw=', 'c2Vj-cmV0', '===='])('base64 %j is rejected', (text) =>
    expect(decodeBase64Secret(text)).toBeUndefined(),
  );

  test.each([
    ['emial', ['email', 'server', 'dns'], 'email'],
    ['secert', ['secret', 'secret_file', 'server'], 'secret'],
    ['state-dir', ['state_dir', 'server'], 'state_dir'],
    ['propagationTimeout', ['propagation_timeout', 'propagation_interval'], 'propagation_timeout'],
    ['certbot_domain', ['certbot_domains', 'certbot_dir'], 'certbot_domains'],
    ['galaxy_config', ['email', 'server', 'dns'], undefined],
    ['xyz', ['secret', 'server'], undefined],
  ])('closest(%j) -> %s', (word, candidates, expected) => expect(closest(word, candidates)).toBe(expected));
});

describe('showValue', () => {
  test.each([
    ['galaxy.example.org', '"galaxy.example.org"'],
    ['admin', '"admin"'],
    ['x'.repeat(100), `"${'x'.repeat(77)}..."`],
    ['averylonglowercaseword', '"averylonglowercaseword"'],
    ['/etc/gxit-cert/tsig.key', '"/etc/gxit-cert/tsig.key"'],
  ])('%j is shown as %s', (value, shown) => expect(showValue(value)).toBe(shown));

  test.each([
    'c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1uZXZlci1sZWFr',
    'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    'AbCdEfGh12345678',
    'abcdefghijklmnop==',
  ])('%j looks like a secret and is hidden', (value) => {
    expect(showValue(value)).not.toContain(value);
    expect(showValue(value)).toMatch(/not shown/);
  });
});
