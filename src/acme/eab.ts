/**
 * External Account Binding (RFC 8555 §7.3.4) with HS256, HS384 or HS512. acme-client 5.4 binds the
 * account only with HS256 (its HttpClient.createSignedHmacBody); for the other two the client's
 * signer is replaced on that one instance with the same JWS built with the wanted hash. The inner JWS
 * is the one acme-client builds (protected header {alg, kid, url}, payload the account's JWK).
 */
import { createHmac } from 'node:crypto';
import type * as Acme from 'acme-client';
import type { EabAlgorithm, EabConfig } from '../config/types.js';

const HASH: Record<EabAlgorithm, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };

interface SignedBody {
  protected: string;
  payload: string;
  signature?: string;
}

/** The part of acme-client's HttpClient the binding uses. */
interface HmacHttp {
  prepareSignedBody(alg: string, url: string, payload: unknown, opts: { nonce?: string | null; kid?: string | null }): SignedBody;
}

function isHmacHttp(value: unknown): value is HmacHttp {
  return typeof value === 'object' && value !== null && typeof Reflect.get(value, 'prepareSignedBody') === 'function' && typeof Reflect.get(value, 'createSignedHmacBody') === 'function';
}

/** The signature over `protected.payload` (base64url). */
export function eabSignature(algorithm: EabAlgorithm, key: Buffer, protectedB64: string, payloadB64: string): string {
  return createHmac(HASH[algorithm], key).update(`${protectedB64}.${payloadB64}`, 'utf8').digest('base64url');
}

/** Client options that make acme-client send the binding with newAccount. */
export function eabClientOptions(eab: EabConfig): { externalAccountBinding: { kid: string; hmacKey: string } } {
  return { externalAccountBinding: { kid: eab.kid, hmacKey: eab.hmacKey.toString('base64') } };
}

/**
 * Make the client sign the binding with `eab.algorithm`. HS256 needs nothing; for HS384/HS512 an
 * acme-client whose internals changed is an error here rather than a binding the CA rejects later.
 */
export function bindAlgorithm(client: Acme.Client, eab: EabConfig): void {
  if (eab.algorithm === 'HS256') return;
  const http: unknown = Reflect.get(client, 'http');
  if (!isHmacHttp(http)) throw new Error(`this acme-client cannot sign external account bindings with ${eab.algorithm}`);
  const sign = (_hmacKey: string, url: string, payload: unknown = null, opts: { nonce?: string | null; kid?: string | null } = {}): SignedBody => {
    const body = http.prepareSignedBody(eab.algorithm, url, payload, { nonce: opts.nonce ?? null, kid: opts.kid ?? null });
    return { ...body, signature: eabSignature(eab.algorithm, eab.hmacKey, body.protected, body.payload) };
  };
  Reflect.set(http, 'createSignedHmacBody', sign);
}
