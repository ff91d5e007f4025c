import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { liveFileProblems } from '../../../src/renew/health.js';
import type { CertificateFiles } from '../../../src/store/contract.js';
import { makeCertificate } from './certs.js';

const leaf = makeCertificate({ commonName: 'leaf.example.org', serialHex: '02' });
const issuer = makeCertificate({ commonName: 'issuer', serialHex: '03' });
const good: CertificateFiles = { certPem: leaf.certPem, chainPem: issuer.certPem, fullchainPem: leaf.certPem + issuer.certPem, privkeyPem: leaf.keyPem };
const otherKey = execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']).toString();

describe('liveFileProblems', () => {
  it('finds nothing wrong with a consistent set', () => {
    expect(liveFileProblems(good)).toEqual([]);
  });

  it.each<[string, Partial<CertificateFiles>, string[]]>([
    ['privkey.pem truncated', { privkeyPem: leaf.keyPem.slice(0, 40) }, ['privkey.pem is not a private key (truncated?)']],
    ['privkey.pem empty', { privkeyPem: '' }, ['privkey.pem is not a private key (truncated?)']],
    ['privkey.pem of another (EC) key', { privkeyPem: otherKey }, ['privkey.pem does not belong to the certificate']],
    ['fullchain.pem truncated', { fullchainPem: good.fullchainPem.slice(0, Math.floor(good.fullchainPem.length * 0.75)) }, ['fullchain.pem has text that is not a complete certificate (truncated?)']],
    ['fullchain.pem only the certificate', { fullchainPem: leaf.certPem }, ['fullchain.pem is not cert.pem followed by chain.pem']],
    ['fullchain.pem in the wrong order', { fullchainPem: issuer.certPem + leaf.certPem }, ['fullchain.pem is not cert.pem followed by chain.pem']],
    ['chain.pem garbage', { chainPem: 'garbage\n' }, ['chain.pem holds no certificate']],
    ['cert.pem garbage', { certPem: 'garbage\n' }, ['cert.pem holds no certificate']],
    ['cert.pem two certificates', { certPem: leaf.certPem + issuer.certPem }, ['cert.pem holds 2 certificates, not one', 'fullchain.pem is not cert.pem followed by chain.pem']],
    ['a block whose base64 is not a certificate', { chainPem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }, ['chain.pem certificate 1 does not parse']],
  ])('%s', (_what, change, problems) => {
    expect(liveFileProblems({ ...good, ...change })).toEqual(problems);
  });
});
