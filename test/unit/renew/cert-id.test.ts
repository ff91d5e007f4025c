import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ariCertId, certIdParts, formatCertId } from '../../../src/renew/cert-id.js';
import { makeCertificate } from './certs.js';

const RFC_AKI = '69885b6b87464041e1b37b847ba0ae2cde01c8d4';

describe('ARI certificate identifier (RFC 9773 §4.1)', () => {
  it('formats the example of the RFC', () => {
    const id = formatCertId({ keyIdentifier: Buffer.from(RFC_AKI, 'hex'), serial: Buffer.from('0087654321', 'hex') });
    expect(id).toBe('aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
  });

  it('reads AKI and the serial with its leading 00 from a certificate (node:crypto drops the 00)', () => {
    const { certPem } = makeCertificate({ serialHex: '0087654321', akiHex: RFC_AKI });
    const x509 = new X509Certificate(certPem);
    expect(x509.serialNumber).toBe('87654321');
    expect(ariCertId(x509.raw)).toBe('aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE');
  });

  it.each([
    ['a serial without the high bit', '7f01', 'fwE'],
    ['a one-byte serial', '05', 'BQ'],
    ['a 20-byte serial', '00' + 'ab'.repeat(19), Buffer.from('00' + 'ab'.repeat(19), 'hex').toString('base64url')],
  ])('keeps %s as encoded', (_label, serialHex, encoded) => {
    const { certPem } = makeCertificate({ serialHex, akiHex: RFC_AKI });
    expect(ariCertId(new X509Certificate(certPem).raw)).toBe(`aYhba4dGQEHhs3uEe6CuLN4ByNQ.${encoded}`);
  });

  it('has no identifier without an AKI extension', () => {
    const { certPem } = makeCertificate({ serialHex: '0a' });
    const der = new X509Certificate(certPem).raw;
    expect(certIdParts(der).keyIdentifier).toBeUndefined();
    expect(ariCertId(der)).toBeUndefined();
  });

  it('returns undefined for bytes that are not a certificate', () => {
    expect(ariCertId(Buffer.from('3003020101', 'hex'))).toBeUndefined();
    expect(ariCertId(Buffer.from('30820500', 'hex'))).toBeUndefined();
    expect(ariCertId(Buffer.alloc(0))).toBeUndefined();
  });
});
