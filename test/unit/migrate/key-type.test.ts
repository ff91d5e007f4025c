import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyTypeFromParams, keyTypeOfPem } from '../../../src/migrate/key-type.js';

describe('keyTypeFromParams', () => {
  it.each([
    [{ key_type: 'ecdsa' }, 'ecdsa-p256'],
    [{ key_type: 'ecdsa', elliptic_curve: 'secp384r1' }, 'ecdsa-p384'],
    [{ key_type: 'rsa' }, 'rsa-2048'],
    [{ key_type: 'RSA', rsa_key_size: '4096' }, 'rsa-4096'],
    [{ rsa_key_size: '3072' }, 'rsa-3072'],
    [{ elliptic_curve: 'secp256r1' }, 'ecdsa-p256'],
  ])('%j -> %s', (params, keyType) => {
    expect(keyTypeFromParams(params)).toEqual({ ok: true, keyType });
  });

  it('is undefined when the file does not say', () => {
    expect(keyTypeFromParams({})).toBeUndefined();
  });

  it.each([
    [{ key_type: 'ecdsa', elliptic_curve: 'secp521r1' }, 'elliptic_curve = secp521r1 (gxit-cert makes P-256 or P-384 keys)'],
    [{ rsa_key_size: '1024' }, 'rsa_key_size = 1024 (gxit-cert makes RSA keys of 2048, 3072 or 4096 bits)'],
    [{ key_type: 'ed25519' }, 'key_type = ed25519 (expected rsa or ecdsa)'],
  ])('refuses %j', (params, reason) => {
    expect(keyTypeFromParams(params)).toEqual({ ok: false, reason });
  });
});

describe('keyTypeOfPem', () => {
  const pem = (type: 'rsa' | 'ec', opts: { modulusLength?: number; namedCurve?: string }): string =>
    (type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: opts.modulusLength ?? 2048 })
      : generateKeyPairSync('ec', { namedCurve: opts.namedCurve ?? 'prime256v1' })
    ).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

  it('knows our types', () => {
    expect(keyTypeOfPem(pem('ec', {}))).toEqual({ ok: true, keyType: 'ecdsa-p256' });
    expect(keyTypeOfPem(pem('ec', { namedCurve: 'secp384r1' }))).toEqual({ ok: true, keyType: 'ecdsa-p384' });
    expect(keyTypeOfPem(pem('rsa', { modulusLength: 2048 }))).toEqual({ ok: true, keyType: 'rsa-2048' });
  });

  it('says what another key is', () => {
    expect(keyTypeOfPem(pem('ec', { namedCurve: 'secp521r1' }))).toEqual({ ok: false, reason: 'an EC key on secp521r1' });
    expect(keyTypeOfPem('junk').ok).toBe(false);
  });
});
