import { describe, expect, it } from 'vitest';
import { evaluateConfigText, parseConfigText } from '../../../src/config/load.js';
import { parseTrustAnchor } from '../../../src/config/trust-anchors.js';
import { PROVIDERS } from '../../../src/dns/providers/registry.js';

const SOURCE = '/etc/gxit-cert/config.yml';
const DS = 'example. IN DS 60060 13 2 0C0A6E9F4EDD6B9E3B7C63D4DCB1E8A1DD2F0AB41E0D6A3A58B59EC3C4E28E71';
const KEY = 'example. 3600 IN DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==';
const file = (anchors: string): string =>
  ['certificates:', '  - domains: [galaxy.example.org]', 'dns:', '  provider: rfc2136', '  rfc2136:', '    server: 127.0.0.2', `  trust_anchors: ${anchors}`, ''].join('\n');

describe('dns.trust_anchors', () => {
  it('reads DS and DNSKEY records as dnssec-dsfromkey and dig print them', () => {
    const ds = parseTrustAnchor(DS);
    expect(ds).toMatchObject({ ok: true, value: { owner: 'example', type: 'DS' } });
    if (ds.ok) expect(ds.value.rdata.toString('hex')).toBe(`ea9c0d02${'0C0A6E9F4EDD6B9E3B7C63D4DCB1E8A1DD2F0AB41E0D6A3A58B59EC3C4E28E71'.toLowerCase()}`);
    const key = parseTrustAnchor(KEY);
    expect(key).toMatchObject({ ok: true, value: { owner: 'example', type: 'DNSKEY' } });
    // Flags 257 (ZONE + SEP), protocol 3, algorithm 13, then the key.
    if (key.ok) expect(key.value.rdata).toEqual(Buffer.concat([Buffer.from([1, 1, 3, 13]), Buffer.from(KEY.split(' ').at(-1) as string, 'base64')]));
    expect(parseTrustAnchor('. DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D')).toMatchObject({ ok: true, value: { owner: '' } });
    // A digest split into groups, as some tools print it.
    expect(parseTrustAnchor('example. DS 1 13 2 0C0A6E9F 4EDD6B9E')).toMatchObject({ ok: true });
  });

  it('refuses what is not a DS or DNSKEY record, naming the expected form', () => {
    expect(parseTrustAnchor('example. IN A 192.0.2.1')).toEqual({ ok: false, reason: 'has type "A"; a trust anchor is a DS or a DNSKEY record' });
    expect(parseTrustAnchor('example. DS 99999 13 2 ab')).toMatchObject({ ok: false, reason: expect.stringContaining('expected "<owner> DS <key tag> <algorithm> <digest type> <hex digest>"') });
    expect(parseTrustAnchor('example. DS 1 13 2 xyz')).toMatchObject({ ok: false });
    expect(parseTrustAnchor('exa mple')).toMatchObject({ ok: false });
  });

  it('is part of the configuration, and a bad entry is a problem at its line', () => {
    const config = parseConfigText(file(`["${DS}", "${KEY}"]`), SOURCE, { providers: PROVIDERS, env: {} });
    expect(config.dns.trustAnchors?.map((a) => `${a.owner} ${a.type}`)).toEqual(['example DS', 'example DNSKEY']);
    expect(parseConfigText(file('[]').replace('  trust_anchors: []\n', ''), SOURCE, { providers: PROVIDERS, env: {} }).dns.trustAnchors).toBeUndefined();
    const bad = evaluateConfigText(file('["example. A 192.0.2.1"]'), SOURCE, { providers: PROVIDERS, env: {} });
    expect(bad.config).toBeUndefined();
    expect(bad.problems).toMatchObject([{ line: 7, path: 'dns.trust_anchors[0]', message: expect.stringContaining('a trust anchor is a DS or a DNSKEY record') }]);
    expect(evaluateConfigText(file('[]'), SOURCE, { providers: PROVIDERS, env: {} }).problems).toMatchObject([{ path: 'dns.trust_anchors', message: expect.stringContaining('empty list') }]);
  });
});
