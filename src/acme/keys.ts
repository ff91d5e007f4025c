import { createPrivateKey } from 'node:crypto';
import type * as Acme from 'acme-client';
import type { KeyType } from '../config/types.js';

/** The key type of a private key PEM; undefined when it is none gxit-cert makes (or not a key). */
export function keyTypeOfPem(pem: string): KeyType | undefined {
  let key;
  try {
    key = createPrivateKey(pem);
  } catch {
    return undefined;
  }
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec') {
    if (details?.namedCurve === 'prime256v1') return 'ecdsa-p256';
    if (details?.namedCurve === 'secp384r1') return 'ecdsa-p384';
    return undefined;
  }
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details?.modulusLength;
    return bits === 2048 ? 'rsa-2048' : bits === 3072 ? 'rsa-3072' : bits === 4096 ? 'rsa-4096' : undefined;
  }
  return undefined;
}

/** A new private key of the configured type (PEM), one per certificate unless reuse_key keeps it. */
export async function createCertificateKey(acme: typeof Acme, keyType: KeyType): Promise<Buffer> {
  switch (keyType) {
    case 'ecdsa-p256':
      return acme.crypto.createPrivateEcdsaKey('P-256');
    case 'ecdsa-p384':
      return acme.crypto.createPrivateEcdsaKey('P-384');
    case 'rsa-2048':
      return acme.crypto.createPrivateRsaKey(2048);
    case 'rsa-3072':
      return acme.crypto.createPrivateRsaKey(3072);
    case 'rsa-4096':
      return acme.crypto.createPrivateRsaKey(4096);
  }
}

/** CSR for the domains; the first non-wildcard name (or the first) becomes the common name. */
export async function createCsr(acme: typeof Acme, domains: string[], keyPem: Buffer): Promise<Buffer> {
  const commonName = domains.find((d) => !d.startsWith('*.')) ?? domains[0];
  const [, csr] = await acme.crypto.createCsr({ commonName, altNames: domains }, keyPem);
  return csr;
}

/** Splits a full chain into the leaf and the rest (certbot's cert.pem and chain.pem). */
export function splitChain(fullchainPem: string): { certPem: string; chainPem: string } {
  const blocks = fullchainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\s*/g) ?? [];
  const [leaf = '', ...rest] = blocks.map((b) => `${b.trim()}\n`);
  return { certPem: leaf, chainPem: rest.join('') };
}
