import { createHmac } from 'node:crypto';
import * as acme from 'acme-client';
import { describe, expect, test } from 'vitest';
import { bindAlgorithm, eabClientOptions, eabSignature } from '../../../src/acme/eab.js';
import type { EabAlgorithm } from '../../../src/config/types.js';

const hmacKey = Buffer.from('0123456789abcdef0123456789abcdef');

/** The binding a client sends, verified the way a CA does (RFC 8555 §7.3.4). */
async function binding(algorithm: EabAlgorithm): Promise<{ header: Record<string, unknown>; payload: Record<string, unknown>; valid: boolean }> {
  const accountKey = await acme.crypto.createPrivateEcdsaKey('P-256');
  const eab = { kid: 'kid-1', algorithm, hmacKey };
  const client = new acme.Client({ directoryUrl: 'https://ca.test/dir', accountKey, ...eabClientOptions(eab) });
  bindAlgorithm(client, eab);
  const http: unknown = Reflect.get(client, 'http');
  const sign: unknown = typeof http === 'object' && http !== null ? Reflect.get(http, 'createSignedHmacBody') : undefined;
  if (typeof sign !== 'function') throw new Error('no signer');
  const body: { protected: string; payload: string; signature: string } = sign.call(http, eabClientOptions(eab).externalAccountBinding.hmacKey, 'https://ca.test/new-acct', acme.crypto.getJwk(accountKey), { kid: 'kid-1' });
  const hash = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[algorithm];
  const expected = createHmac(hash, hmacKey).update(`${body.protected}.${body.payload}`).digest('base64url');
  return {
    header: JSON.parse(Buffer.from(body.protected, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(body.payload, 'base64url').toString()),
    valid: body.signature === expected,
  };
}

describe('External Account Binding JWS', () => {
  test.each(['HS256', 'HS384', 'HS512'] as const)('%s: header {alg, kid, url}, payload the account JWK, a valid MAC', async (algorithm) => {
    const { header, payload, valid } = await binding(algorithm);
    expect(header).toEqual({ alg: algorithm, kid: 'kid-1', url: 'https://ca.test/new-acct' });
    expect(payload).toMatchObject({ kty: 'EC', crv: 'P-256' });
    expect(valid).toBe(true);
  });

  test('eabSignature differs per algorithm and key', () => {
    const a = eabSignature('HS256', hmacKey, 'p', 'q');
    expect(eabSignature('HS512', hmacKey, 'p', 'q')).not.toBe(a);
    expect(eabSignature('HS256', Buffer.from('other'), 'p', 'q')).not.toBe(a);
  });
});
