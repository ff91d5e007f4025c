import { describe, expect, it } from 'vitest';
import { evaluateDenial, evaluateDnssecZone, evaluateProbeSignature, type DnssecZoneFacts, type NameDnssecFacts } from '../../../src/check/dnssec.js';
import type { Dnskey, Rrsig } from '../../../src/dns/dnssec/records.js';

const NOW = Date.UTC(2026, 11, 3, 12, 0);
const DAY = 86_400;
const ns = { nameserver: 'ns1.example.org', address: { host: '192.0.2.1', port: 53 } };
const key: Dnskey = { flags: 257, protocol: 3, algorithm: 13, publicKey: Buffer.alloc(64), keyTag: 4711, rdata: Buffer.alloc(68) };
const sig = (expiresInDays: number): Rrsig => ({
  typeCovered: 6, algorithm: 13, labels: 2, originalTtl: 60, expiration: NOW / 1000 + expiresInDays * DAY, inception: NOW / 1000 - DAY, keyTag: 4711, signer: 'example.org', signature: Buffer.alloc(64), signedPart: Buffer.alloc(0),
});

function secure(expiresInDays: number[]): DnssecZoneFacts {
  const records = ['DNSKEY', 'SOA', 'NS'].map((t, i) => ({ record: `${t} example.org`, verdict: { ok: true as const, rrset: [], rrsig: sig(expiresInDays[i] ?? 14), key } }));
  return {
    zone: 'example.org',
    chain: { status: 'secure', zone: 'example.org', anchor: '.', trust: { ds: [] }, keys: [key], path: ['.', 'org', 'example.org'] },
    servers: [{ ...ns, keys: { ok: true, keys: [key], by: key, expiration: 0 }, records }],
  };
}

describe('evaluateDnssecZone', () => {
  it('passes a zone whose signatures last longer than 7 days, with the chain and key', () => {
    expect(evaluateDnssecZone(secure([14, 10, 8]), NOW)).toMatchObject([
      { status: 'ok', subject: 'zone example.org', message: 'signed: the chain . → org → example.org validates (ECDSAP256SHA256, key tag 4711) on ns1.example.org; signatures valid until 2026-12-11 12:00 UTC or later' },
    ]);
  });

  it('warns when a signature expires within 7 days, naming the record, key tag and nameserver', () => {
    const [line] = evaluateDnssecZone(secure([14, 6.5, 10]), NOW);
    expect(line).toMatchObject({ status: 'warn', message: 'signed and valid, but the RRSIG over SOA example.org by key tag 4711 on ns1.example.org (192.0.2.1:53) expires at 2026-12-10 00:00 UTC, within 7 days' });
  });

  it('gives ✓ "not signed" for an unsigned zone, also one with keys but no DS', () => {
    const insecure = (hasDnskey: boolean): DnssecZoneFacts => ({ zone: 'example.org', chain: { status: 'insecure', zone: 'example.org', reason: 'no DNSKEY at the zone, no DS for it', hasDnskey }, servers: [] });
    expect(evaluateDnssecZone(insecure(false), NOW)).toEqual([{ check: 'dnssec', status: 'ok', subject: 'zone example.org', message: 'not signed (no DNSKEY at the zone, no DS for it)' }]);
    expect(evaluateDnssecZone(insecure(true), NOW)[0]?.message).toMatch(/^not signed for validators: the zone has DNSKEY records, but /);
  });

  it('fails a bogus chain with the record, key tag and server, and warns when DNSSEC could not be asked', () => {
    const bogus: DnssecZoneFacts = { zone: 'example.org', chain: { status: 'bogus', zone: 'example.org', bogus: { record: 'DS example.org', keyTag: 1, server: '192.0.2.53:53', message: 'DS example.org names key tag 1, but no DNSKEY of example.org matches it (the zone serves key tag 4711)' } }, servers: [] };
    expect(evaluateDnssecZone(bogus, NOW)).toMatchObject([{ status: 'fail', message: 'DS example.org names key tag 1, but no DNSKEY of example.org matches it (the zone serves key tag 4711) on 192.0.2.53:53', fix: expect.stringContaining('dnssec-dsfromkey') }]);
    const error: DnssecZoneFacts = { zone: 'example.org', chain: { status: 'error', zone: 'example.org', message: 'no reply', error: new Error('x') }, servers: [] };
    expect(evaluateDnssecZone(error, NOW)).toMatchObject([{ status: 'warn', message: 'DNSSEC could not be checked: no reply' }]);
  });

  it('fails each nameserver whose record does not verify', () => {
    const facts = secure([14, 14, 14]);
    const server = facts.servers[0];
    if (server) server.records[1] = { record: 'SOA example.org', verdict: { ok: false, rrset: [], problem: { kind: 'expired', keyTag: 4711, expiration: NOW / 1000 - DAY } } };
    expect(evaluateDnssecZone(facts, NOW)).toMatchObject([
      { status: 'fail', message: 'SOA example.org: the RRSIG by key tag 4711 expired at 2026-12-02 12:00 UTC on ns1.example.org (192.0.2.1:53)', fix: expect.stringMatching(/^re-sign example\.org/) },
    ]);
  });
});

describe('the challenge names', () => {
  const facts = (verdict: NonNullable<NameDnssecFacts['checks'][number]['verdict']>): NameDnssecFacts => ({ fqdn: '_acme-challenge.example.org', zone: 'example.org', checks: [{ server: ns, verdict }] });

  it('passes a validated denial and names a broken one', () => {
    expect(evaluateDenial(facts({ ok: true, how: 'does not exist, proven with NSEC3' }))).toMatchObject([{ status: 'ok', message: 'does not exist, proven with NSEC3 on ns1.example.org' }]);
    expect(evaluateDenial(facts({ ok: false, record: 'NSEC3 abc.example.org', keyTag: 4711, message: 'NSEC3 abc.example.org: the RRSIG by key tag 4711 does not verify' }))).toMatchObject([
      { status: 'fail', message: "NSEC3 abc.example.org: the RRSIG by key tag 4711 does not verify on ns1.example.org (192.0.2.1:53): the CA's validating resolver will answer SERVFAIL" },
    ]);
  });

  it('fails a probe record without RRSIG: the server does not sign dynamic updates', () => {
    expect(evaluateProbeSignature(facts({ ok: false, record: 'TXT _acme-challenge.example.org', message: 'TXT _acme-challenge.example.org: it has no RRSIG' }), 'v')).toMatchObject([
      { status: 'fail', message: "the server does not sign dynamic updates: the CA will see a bogus answer (the probe's TXT _acme-challenge.example.org has no RRSIG on ns1.example.org (192.0.2.1:53))" },
    ]);
    expect(evaluateProbeSignature(facts({ ok: true, how: 'signed' }), 'v')).toMatchObject([{ status: 'ok', message: 'the probe\'s TXT "v" carried a valid RRSIG on ns1.example.org: updates are signed' }]);
  });
});
