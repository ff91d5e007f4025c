import type * as Acme from 'acme-client';
import type { KeyType } from '../config/types.js';

/** A new private key of the configured type (PEM), one per certificate, never reused. */
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
