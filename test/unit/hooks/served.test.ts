import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { describeServedFailure, sniFor, verifyServed } from '../../../src/hooks/served.js';
import { makeCertificate } from '../renew/certs.js';

const oldCert = makeCertificate({ serialHex: '0a01', sans: ['sv.example.org'] });
const newCert = makeCertificate({ serialHex: '0b02', sans: ['sv.example.org'] });
const expected = (pem: string) => {
  const x = new X509Certificate(pem);
  return { fingerprint256: x.fingerprint256, serial: x.serialNumber };
};

let server: Server | undefined;
const seenSni: string[] = [];

async function serve(pair: { certPem: string; keyPem: string }): Promise<{ host: string; port: number }> {
  seenSni.length = 0;
  server = createServer({ cert: pair.certPem, key: pair.keyPem, SNICallback: (name, cb) => { seenSni.push(name); cb(null); } }, (socket) => socket.end());
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return { host: '127.0.0.1', port: (server.address() as AddressInfo).port };
}

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

describe('sniFor', () => {
  it('keeps a name and puts a label in place of a wildcard', () => {
    expect(sniFor('galaxy.example.org', () => 'x')).toBe('galaxy.example.org');
    expect(sniFor('*.ep.interactivetool.galaxy.example.org', () => 'gxit-1a2b')).toBe('gxit-1a2b.ep.interactivetool.galaxy.example.org');
  });
});

describe('verifyServed against a TLS server', () => {
  it('confirms the certificate served for every name, with SNI and a random label for the wildcard', async () => {
    const address = await serve(newCert);
    const checks = await verifyServed([address], ['sv.example.org', '*.ep.sv.example.org'], expected(newCert.certPem), { deadlineMs: 2000, randomLabel: () => 'gxit-r4nd' });
    expect(checks.map((c) => [c.sni, c.ok, c.servedSerial])).toEqual([
      ['sv.example.org', true, '0B02'],
      ['gxit-r4nd.ep.sv.example.org', true, '0B02'],
    ]);
    expect(seenSni.sort()).toEqual(['gxit-r4nd.ep.sv.example.org', 'sv.example.org']);
  });

  it('waits for a server that switches to the new certificate (a reload)', async () => {
    const address = await serve(oldCert);
    setTimeout(() => server?.setSecureContext({ cert: newCert.certPem, key: newCert.keyPem }), 300);
    const started = Date.now();
    const checks = await verifyServed([address], ['sv.example.org'], expected(newCert.certPem), { deadlineMs: 5000, pollMs: 50 });
    expect(checks[0]?.ok).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('reports a server that still serves the old certificate after the deadline', async () => {
    const address = await serve(oldCert);
    const checks = await verifyServed([address], ['sv.example.org'], expected(newCert.certPem), { deadlineMs: 300, pollMs: 50 });
    expect(checks[0]).toMatchObject({ ok: false, servedSerial: '0A01' });
    const line = describeServedFailure(checks[0]!, expected(newCert.certPem));
    expect(line).toMatch(new RegExp(`^127\\.0\\.0\\.1:${address.port} \\(SNI sv\\.example\\.org\\) serves serial 0A01 .*not the new certificate \\(serial 0B02\\)$`));
  });

  it('reports a server that does not answer', async () => {
    const address = await serve(newCert);
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    server = undefined;
    const checks = await verifyServed([address], ['sv.example.org'], expected(newCert.certPem), { deadlineMs: 200, pollMs: 50 });
    expect(checks[0]?.ok).toBe(false);
    expect(describeServedFailure(checks[0]!, expected(newCert.certPem))).toMatch(/could not fetch the served certificate: .*ECONNREFUSED/);
  });
});
