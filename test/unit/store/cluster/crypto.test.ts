import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { GxitError } from '../../../../src/errors.js';
import { checkSecretMode } from '../../../../src/store/cluster/connect.js';
import { accountAad, lineageAad, open, parseClusterKey, seal } from '../../../../src/store/cluster/crypto.js';

const KEY = randomBytes(32);
const PEM = '-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n';

describe('private keys at rest (AES-256-GCM, AAD = lineage + version)', () => {
  test('round trip, a fresh nonce each time, no plaintext in the ciphertext', () => {
    const a = seal(KEY, PEM, lineageAad('galaxy.example.org', 3));
    const b = seal(KEY, PEM, lineageAad('galaxy.example.org', 3));
    expect(a.nonce.equals(b.nonce)).toBe(false);
    expect(a.ciphertext.toString('utf8')).not.toContain('PRIVATE KEY');
    expect(open(KEY, a, lineageAad('galaxy.example.org', 3), 'x')).toBe(PEM);
  });

  test.each([
    { name: 'another version', aad: lineageAad('galaxy.example.org', 4) },
    { name: 'another lineage', aad: lineageAad('other.example.org', 3) },
    { name: 'an account', aad: accountAad('galaxy.example.org') },
  ])('a ciphertext moved to $name does not decrypt', ({ aad }) => {
    const sealed = seal(KEY, PEM, lineageAad('galaxy.example.org', 3));
    expect(() => open(KEY, sealed, aad, 'galaxy.example.org version 4')).toThrow(/cannot decrypt the private key of galaxy.example.org version 4/);
  });

  test('a wrong key or a flipped bit fails with CLUSTER_DB', () => {
    const sealed = seal(KEY, PEM, lineageAad('n', 1));
    const wrongKey = (): string => open(randomBytes(32), sealed, lineageAad('n', 1), 'n version 1');
    expect(wrongKey).toThrow(GxitError);
    const flipped = { ...sealed, ciphertext: Buffer.from(sealed.ciphertext) };
    flipped.ciphertext[0] = (flipped.ciphertext[0] ?? 0) ^ 1;
    expect(() => open(KEY, flipped, lineageAad('n', 1), 'n')).toThrow(/wrong cluster key_file/);
  });

  test('key files: base64 or hex of 32 bytes, nothing else', () => {
    expect(parseClusterKey(`${KEY.toString('base64')}\n`, '/k').equals(KEY)).toBe(true);
    expect(parseClusterKey(KEY.toString('hex'), '/k').equals(KEY)).toBe(true);
    expect(() => parseClusterKey(randomBytes(16).toString('base64'), '/k')).toThrow(/does not hold 32 bytes/);
    let error: unknown;
    try {
      parseClusterKey('not a key', '/k');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(GxitError);
    expect((error as GxitError).fix).toMatch(/openssl rand -base64 32 > \/k/);
  });
});

describe('cluster secret files', () => {
  test.each([
    { mode: 0o100600, ok: true },
    { mode: 0o100640, ok: true },
    { mode: 0o100644, ok: false },
    { mode: 0o100604, ok: false },
  ])('mode $mode', ({ mode, ok }) => {
    const check = (): void => checkSecretMode(mode, '/etc/gxit-cert/cluster.key', 'key_file');
    if (ok) expect(check).not.toThrow();
    else expect(check).toThrow(/cluster.key_file: \/etc\/gxit-cert\/cluster.key is readable by every user/);
  });
});
