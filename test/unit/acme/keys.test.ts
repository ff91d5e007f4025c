import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { keyTypeOfPem } from '../../../src/acme/keys.js';

const pem = (key: ReturnType<typeof generateKeyPairSync>['privateKey']) => key.export({ type: 'pkcs8', format: 'pem' }).toString();

describe('keyTypeOfPem', () => {
  test.each([
    ['ecdsa-p256', pem(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey)],
    ['ecdsa-p384', pem(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey)],
    ['rsa-2048', pem(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey)],
    [undefined, pem(generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey)],
    [undefined, pem(generateKeyPairSync('ed25519').privateKey)],
    [undefined, 'not a key'],
  ])('%s', (expected, text) => {
    expect(keyTypeOfPem(text)).toBe(expected);
  });
});
