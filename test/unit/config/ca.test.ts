import { describe, expect, test } from 'vitest';
import { accountKeyOf, caBundlesOf, caOf } from '../../../src/config/ca.js';
import { evaluateConfigText } from '../../../src/config/load.js';
import type { CertificateConfig } from '../../../src/config/types.js';
import { PROVIDERS } from '../../../src/dns/providers/registry.js';

const top = { server: 'https://a.test/dir', email: 'ops@example.org', eab: { kid: 'k1', algorithm: 'HS256' as const, hmacKey: Buffer.from('x') }, caBundle: '/a.pem' };
const cert = (more: Partial<CertificateConfig> = {}): CertificateConfig => ({ name: 'n', domains: ['n.example.org'], keyType: 'ecdsa-p256', ...more });

describe('caOf: the CA settings a certificate is ordered with', () => {
  test('inherits everything when the certificate sets nothing', () => {
    expect(caOf(top, cert())).toEqual(top);
  });
  test("its own server does not inherit the top-level eab (EAB belongs to one CA); email and ca_bundle are inherited", () => {
    expect(caOf(top, cert({ server: 'https://b.test/dir' }))).toEqual({ server: 'https://b.test/dir', email: 'ops@example.org', caBundle: '/a.pem' });
  });
  test('the same server written again keeps the top-level eab', () => {
    expect(caOf(top, cert({ server: top.server })).eab?.kid).toBe('k1');
  });
  test('its own values win', () => {
    const eab = { kid: 'k2', algorithm: 'HS512' as const, hmacKey: Buffer.from('y') };
    expect(caOf(top, cert({ server: 'https://b.test/dir', email: 'pki@example.org', eab, caBundle: '/b.pem' }))).toEqual({ server: 'https://b.test/dir', email: 'pki@example.org', eab, caBundle: '/b.pem' });
  });
  test('accounts are keyed by CA and kid; bundles are collected without duplicates', () => {
    expect(accountKeyOf({ server: 's' })).not.toBe(accountKeyOf({ server: 's', eab: top.eab }));
    expect(caBundlesOf({ caBundle: '/a.pem', certificates: [cert({ caBundle: '/b.pem' }), cert({ caBundle: '/a.pem' }), cert()] })).toEqual(['/a.pem', '/b.pem']);
  });
});

describe('per-certificate keys in the file', () => {
  const text = (...certificate: string[]) =>
    ['server: https://127.0.0.1:14000/dir', 'certificates:', '  - domains: [galaxy.example.org]', ...certificate, 'dns:', '  provider: rfc2136', '  rfc2136:', '    server: 127.0.0.2', ''].join('\n');
  const evaluate = (t: string, env: NodeJS.ProcessEnv = {}) => evaluateConfigText(t, '/etc/gxit-cert/config.yml', { providers: PROVIDERS, env, readSecretFile: () => ({ data: '' }) });
  test('server, email, eab, ca_bundle are read per certificate', () => {
    const result = evaluate(text('    server: letsencrypt-staging', '    email: pki@example.org', '    ca_bundle: ca.pem', '    eab:', '      kid: k', '      hmac_key_env: K'), { K: 'c2VjcmV0LWtleQ' });
    expect(result.problems).toEqual([]);
    expect(result.config?.certificates[0]).toMatchObject({ server: 'https://acme-staging-v02.api.letsencrypt.org/directory', email: 'pki@example.org', caBundle: '/etc/gxit-cert/ca.pem', eab: { kid: 'k', hmacKey: Buffer.from('secret-key') } });
  });
  test('a wrong value names the certificate key', () => {
    const result = evaluate(text('    server: ftp://x', '    email: nope'));
    expect(result.problems.map((p) => p.path)).toEqual(['certificates[0].server', 'certificates[0].email']);
  });
});
