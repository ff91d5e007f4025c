import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { certbotServerPath, jwkToPem, parseRegr } from '../../../src/migrate/account.js';

describe('certbotServerPath', () => {
  it.each([
    ['https://acme-v02.api.letsencrypt.org/directory', 'acme-v02.api.letsencrypt.org/directory'],
    ['https://acme-staging-v02.api.letsencrypt.org/directory', 'acme-staging-v02.api.letsencrypt.org/directory'],
    ['https://127.0.0.1:14000/dir', '127.0.0.1:14000/dir'],
    ['https://ca.example.org:443/acme/directory', 'ca.example.org:443/acme/directory'],
    ['not a url', undefined],
  ])('%s -> %s', (url, expected) => {
    expect(certbotServerPath(url)).toBe(expected);
  });
});

describe('jwkToPem', () => {
  it('converts certbot\'s RSA JWK to a PEM of the same key', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = privateKey.export({ format: 'jwk' });
    const result = jwkToPem(JSON.stringify(jwk));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(createPublicKey(result.pem).export({ format: 'jwk' }).n).toBe(jwk.n);
  });

  it.each([
    ['{', 'is not JSON'],
    ['[]', 'is not a JSON object'],
    ['{"n":"x"}', 'has no "kty"'],
    ['{"kty":"RSA","n":"AQAB","e":"AQAB"}', 'holds no private key ("d" is missing)'],
  ])('refuses %s', (text, reason) => {
    expect(jwkToPem(text)).toEqual({ ok: false, reason });
  });

  it('refuses a broken key with the reason', () => {
    const result = jwkToPem('{"kty":"RSA","n":"AQAB","e":"AQAB","d":"AQAB"}');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(/^is not a usable RSA key/);
  });
});

describe('parseRegr', () => {
  it('reads the account URL of certbot 2.x (empty body)', () => {
    expect(parseRegr('{"body": {}, "uri": "https://acme-v02.api.letsencrypt.org/acme/acct/123"}')).toEqual({ ok: true, value: { url: 'https://acme-v02.api.letsencrypt.org/acme/acct/123' } });
  });
  it('reads the contact of older releases', () => {
    const text = JSON.stringify({ body: { contact: ['tel:1', 'mailto:admin@example.org'], key: {} }, uri: 'https://ca/acct/1', new_authzr_uri: 'https://ca/new-authz', terms_of_service: 'https://ca/tos' });
    expect(parseRegr(text)).toEqual({ ok: true, value: { url: 'https://ca/acct/1', email: 'admin@example.org' } });
  });
  it('refuses a file without uri', () => {
    expect(parseRegr('{"body": {}}')).toEqual({ ok: false, reason: 'has no account "uri"' });
  });
});
