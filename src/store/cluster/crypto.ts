/**
 * Private keys at rest in the database: AES-256-GCM with a fresh 96-bit nonce per key, and the
 * lineage and version as associated data, so a ciphertext copied to another row (another lineage or
 * version) fails to decrypt instead of handing out the wrong key.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { GxitError } from '../../errors.js';

export interface SealedKey {
  nonce: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

const NONCE_BYTES = 12;
export const CLUSTER_KEY_BYTES = 32;

/** What the ciphertext is bound to: `lineage:<name>:<version>` or `account:<directory URL>`. */
export function lineageAad(name: string, version: number): Buffer {
  return Buffer.from(`gxit-cert lineage ${name} version ${version}`, 'utf8');
}

/** The plain account of a directory keeps the AAD of schema 1; an EAB-bound one adds its key identifier. */
export function accountAad(directoryUrl: string, eabKid = ''): Buffer {
  return Buffer.from(eabKid === '' ? `gxit-cert account ${directoryUrl}` : `gxit-cert account ${directoryUrl} eab ${eabKid}`, 'utf8');
}

export function seal(key: Buffer, plaintext: string, aad: Buffer): SealedKey {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { nonce, ciphertext, tag: cipher.getAuthTag() };
}

/** The plaintext; CLUSTER_DB naming `what` when the key file is wrong or the row was tampered with. */
export function open(key: Buffer, sealed: SealedKey, aad: Buffer, what: string): string {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.nonce);
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.tag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
  } catch (error) {
    throw new GxitError('CLUSTER_DB', `cannot decrypt the private key of ${what}: wrong cluster key_file, or the stored row was altered`, {
      subject: what,
      fix: 'use the same key_file on every node (copy it from the node that issued), and do not edit the key columns',
      cause: error,
    });
  }
}

/** The key file's content: 32 bytes written as base64 or hex (whitespace ignored). */
export function parseClusterKey(text: string, path: string): Buffer {
  const compact = text.replace(/\s+/g, '');
  const key = /^[0-9a-fA-F]{64}$/.test(compact)
    ? Buffer.from(compact, 'hex')
    : /^[A-Za-z0-9+/]{43}=?$/.test(compact)
      ? Buffer.from(compact, 'base64')
      : undefined;
  if (key === undefined || key.length !== CLUSTER_KEY_BYTES) {
    throw new GxitError('SECRET_UNAVAILABLE', `cluster.key_file ${path} does not hold 32 bytes in base64 or hex`, {
      subject: 'cluster.key_file',
      fix: `create it with: openssl rand -base64 32 > ${path}; chmod 600 ${path} (and copy the same file to every node)`,
    });
  }
  return key;
}
