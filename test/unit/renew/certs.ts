/** Test certificates with chosen serial, AKI and dates (node-forge signs, node:crypto makes the key). */
import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';

export interface TestCertOptions {
  /** Hex, written as the INTEGER's content octets exactly (e.g. "0087654321"). */
  serialHex?: string;
  /** Hex of the AKI keyIdentifier; undefined: no AKI extension. */
  akiHex?: string;
  notBefore?: Date;
  notAfter?: Date;
  commonName?: string;
  sans?: string[];
}

let keys: forge.pki.rsa.KeyPair | undefined;
function keyPair(): forge.pki.rsa.KeyPair {
  if (keys === undefined) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forgeKey = forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()) as forge.pki.rsa.PrivateKey;
    keys = { privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e) };
  }
  return keys;
}

/** PEM of a certificate signed by its own key, with the fields asked for; and its key (PEM). */
export function makeCertificate(opts: TestCertOptions = {}): { certPem: string; keyPem: string } {
  const { privateKey, publicKey } = keyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = opts.serialHex ?? '01';
  cert.validity.notBefore = opts.notBefore ?? new Date(Date.now() - 3_600_000);
  cert.validity.notAfter = opts.notAfter ?? new Date(Date.now() + 90 * 86_400_000);
  const attrs = [{ name: 'commonName', value: opts.commonName ?? 'test.example.org' }];
  cert.setSubject(attrs);
  cert.setIssuer([{ name: 'commonName', value: 'gxit-cert test CA' }]);
  const extensions: Record<string, unknown>[] = [];
  if (opts.akiHex !== undefined) extensions.push({ name: 'authorityKeyIdentifier', keyIdentifier: forge.util.hexToBytes(opts.akiHex) });
  if (opts.sans !== undefined) extensions.push({ name: 'subjectAltName', altNames: opts.sans.map((value) => ({ type: 2, value })) });
  cert.setExtensions(extensions);
  cert.sign(privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(privateKey) };
}
