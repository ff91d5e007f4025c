/**
 * certbot's key settings and the key types of gxit-cert. certbot 1.x wrote `rsa_key_size` (RSA, 2048 by
 * default); `key_type` (rsa | ecdsa) and `elliptic_curve` (secp256r1 default, secp384r1, secp521r1) came
 * with 1.10, and ecdsa became the default for new lineages in 2.0.
 */
import { createPrivateKey } from 'node:crypto';
import type { KeyType } from '../config/types.js';

export type KeyTypeResult = { ok: true; keyType: KeyType } | { ok: false; reason: string };

/**
 * The key type certbot makes at the next renewal, from [renewalparams] (values already None-filtered);
 * undefined when the file does not say (certbot then keeps the type of the current key).
 */
export function keyTypeFromParams(params: { key_type?: string; rsa_key_size?: string; elliptic_curve?: string }): KeyTypeResult | undefined {
  const type = params.key_type?.toLowerCase() ?? (params.rsa_key_size !== undefined ? 'rsa' : params.elliptic_curve !== undefined ? 'ecdsa' : undefined);
  if (type === undefined) return undefined;
  if (type === 'rsa') {
    const size = params.rsa_key_size ?? '2048';
    if (size === '2048' || size === '3072' || size === '4096') return { ok: true, keyType: `rsa-${size}` };
    return { ok: false, reason: `rsa_key_size = ${size} (gxit-cert makes RSA keys of 2048, 3072 or 4096 bits)` };
  }
  if (type === 'ecdsa') {
    const curve = params.elliptic_curve ?? 'secp256r1';
    if (curve === 'secp256r1') return { ok: true, keyType: 'ecdsa-p256' };
    if (curve === 'secp384r1') return { ok: true, keyType: 'ecdsa-p384' };
    return { ok: false, reason: `elliptic_curve = ${curve} (gxit-cert makes P-256 or P-384 keys)` };
  }
  return { ok: false, reason: `key_type = ${type} (expected rsa or ecdsa)` };
}

/** The key type of a private key PEM, or why it has none of ours. */
export function keyTypeOfPem(pem: string): KeyTypeResult {
  let details;
  try {
    const key = createPrivateKey(pem);
    details = { type: key.asymmetricKeyType, ...key.asymmetricKeyDetails };
  } catch (error) {
    return { ok: false, reason: `not a private key (${error instanceof Error ? error.message : String(error)})` };
  }
  if (details.type === 'rsa') {
    const bits = details.modulusLength;
    if (bits === 2048 || bits === 3072 || bits === 4096) return { ok: true, keyType: `rsa-${bits}` };
    return { ok: false, reason: `an RSA key of ${String(bits)} bits` };
  }
  if (details.type === 'ec') {
    if (details.namedCurve === 'prime256v1') return { ok: true, keyType: 'ecdsa-p256' };
    if (details.namedCurve === 'secp384r1') return { ok: true, keyType: 'ecdsa-p384' };
    return { ok: false, reason: `an EC key on ${String(details.namedCurve)}` };
  }
  return { ok: false, reason: `a ${String(details.type)} key` };
}
