/**
 * Whether a lineage's live files are fit to serve (pure, over the PEM texts of store.readLive): a
 * web server needs all four, and a certificate that parses is not enough. A truncated fullchain, a
 * key of another certificate or a garbage chain make nginx refuse to start, so such a lineage is
 * `broken` and the next issue or renew orders a new version instead of calling it current.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { CertificateFiles } from '../store/contract.js';

const BLOCK = /-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END CERTIFICATE-----/g;

/** The DER of each certificate block, or a reason why the text is not a list of certificates. */
function certificateBlocks(text: string): Buffer[] | string {
  const blocks: Buffer[] = [];
  let rest = text;
  for (const match of text.matchAll(BLOCK)) {
    const der = Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64');
    try {
      new X509Certificate(der);
    } catch {
      return `certificate ${blocks.length + 1} does not parse`;
    }
    blocks.push(der);
    rest = rest.replace(match[0], '');
  }
  if (blocks.length === 0) return 'holds no certificate';
  // Anything left over is a cut-off or foreign block: the file is not what a server expects.
  if (rest.trim() !== '') return 'has text that is not a complete certificate (truncated?)';
  return blocks;
}

function parseKey(pem: string): KeyObject | undefined {
  try {
    return createPrivateKey(pem);
  } catch {
    return undefined;
  }
}

function keyMatches(certDer: Buffer, key: KeyObject): boolean {
  try {
    return new X509Certificate(certDer).checkPrivateKey(key);
  } catch {
    // A key of another type (an EC key for an RSA certificate) cannot be compared: it is not this one.
    return false;
  }
}

/**
 * What is wrong with the live files, one phrase per file (empty: healthy). Checks: cert.pem is one
 * certificate, chain.pem one or more, fullchain.pem exactly cert + chain, privkey.pem a private key
 * that belongs to the certificate.
 */
export function liveFileProblems(files: CertificateFiles): string[] {
  const problems: string[] = [];
  const cert = certificateBlocks(files.certPem);
  if (typeof cert === 'string') problems.push(`cert.pem ${cert}`);
  else if (cert.length !== 1) problems.push(`cert.pem holds ${cert.length} certificates, not one`);
  const chain = certificateBlocks(files.chainPem);
  if (typeof chain === 'string') problems.push(`chain.pem ${chain}`);
  const fullchain = certificateBlocks(files.fullchainPem);
  if (typeof fullchain === 'string') problems.push(`fullchain.pem ${fullchain}`);
  else if (typeof cert !== 'string' && typeof chain !== 'string') {
    const expected = [...cert, ...chain];
    const same = expected.length === fullchain.length && expected.every((der, i) => der.equals(fullchain[i]!));
    if (!same) problems.push('fullchain.pem is not cert.pem followed by chain.pem');
  }
  const key = parseKey(files.privkeyPem);
  if (key === undefined) problems.push('privkey.pem is not a private key (truncated?)');
  else if (typeof cert !== 'string' && cert.length >= 1 && !keyMatches(cert[0]!, key)) {
    problems.push('privkey.pem does not belong to the certificate');
  }
  return problems;
}
