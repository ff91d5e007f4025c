/** check-dns's configuration keys: caa_identities (top level) and dns.expect_target. */
import { describe, expect, it } from 'vitest';
import { evaluateConfigText } from '../../../src/config/load.js';
import { PROVIDERS } from '../../../src/dns/providers/registry.js';

const SOURCE = '/etc/gxit-cert/config.yml';
const lines = (...text: string[]): string => `${text.join('\n')}\n`;
const BASE = ['certificates:', '  - domains: [galaxy.example.org, "*.ep.interactivetool.galaxy.example.org"]', 'dns:', '  provider: rfc2136', '  rfc2136:', '    server: 127.0.0.2'];

function evaluate(text: string) {
  return evaluateConfigText(text, SOURCE, { providers: PROVIDERS, env: {} });
}

describe('check-dns configuration keys', () => {
  it('are optional', () => {
    const { config } = evaluate(lines(...BASE));
    expect(config?.caaIdentities).toBeUndefined();
    expect(config?.dns.expectTarget).toBeUndefined();
  });

  it('reads caa_identities and dns.expect_target, normalized', () => {
    const { config, problems } = evaluate(lines('caa_identities: [LetsEncrypt.org., pki.goog]', ...BASE, '  expect_target: Proxy.Example.org.'));
    expect(problems).toEqual([]);
    expect(config?.caaIdentities).toEqual(['letsencrypt.org', 'pki.goog']);
    expect(config?.dns.expectTarget).toBe('proxy.example.org');
  });

  it.each([
    [lines('caa_identities: letsencrypt.org', ...BASE), 'caa_identities', /must be a list/],
    [lines('caa_identities: []', ...BASE), 'caa_identities', /empty list/],
    [lines('caa_identities: ["lets encrypt"]', ...BASE), 'caa_identities[0]', /invalid label|white space|letters, digits/],
    [lines(...BASE, '  expect_target: "*.example.org"'), 'dns.expect_target', /is a wildcard, not a host name/],
    [lines(...BASE, '  expect_target: 192.0.2.1'), 'dns.expect_target', /IP address/],
    [lines(...BASE, '  expect_targte: galaxy.example.org'), 'dns.expect_targte', /did you mean expect_target/],
  ])('reports %#', (text, path, message) => {
    const { config, problems } = evaluate(text);
    expect(config).toBeUndefined();
    expect(problems[0]).toMatchObject({ path });
    expect(problems[0]?.message).toMatch(message);
  });
});
