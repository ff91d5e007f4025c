/** The smaller checks: plan, host and challenge name. */
import { describe, expect, it } from 'vitest';
import { evaluateChallenge, gatherChallenge } from '../../../src/check/challenge.js';
import { evaluateHost, gatherHost } from '../../../src/check/host.js';
import { planChecks } from '../../../src/check/plan.js';
import { RRType } from '../../../src/dns/message.js';
import { GxitError } from '../../../src/errors.js';
import { FakeDns, galaxyZone, soa } from './fake-zone.js';

const resolvers = [{ host: '192.0.2.53', port: 53 }];
const deps = (dns: FakeDns) => ({ query: dns.query, resolvers, random: () => 'r' });
const cert = (name: string, domains: string[]) => ({ name, domains, keyType: 'ecdsa-p256' as const });

describe('planChecks', () => {
  it('plans the Galaxy certificate', () => {
    const plan = planChecks([cert('galaxy.example.org', ['galaxy.example.org', '*.ep.interactivetool.galaxy.example.org'])]);
    expect(plan).toEqual({
      wildcards: [{ wildcard: '*.ep.interactivetool.galaxy.example.org', target: 'galaxy.example.org', targetFrom: 'certificate' }],
      hosts: ['galaxy.example.org'],
      challengeDomains: ['galaxy.example.org', '*.ep.interactivetool.galaxy.example.org'],
      caaNames: ['galaxy.example.org', '*.ep.interactivetool.galaxy.example.org'],
    });
  });

  it('shares one challenge name between a name and its wildcard, and dedupes across certificates', () => {
    const plan = planChecks([
      cert('a', ['example.org', '*.example.org']),
      cert('b', ['www.example.org', 'example.org']),
    ]);
    expect(plan.challengeDomains).toEqual(['example.org', 'www.example.org']);
    expect(plan.hosts).toEqual(['example.org', 'www.example.org']);
    expect(plan.wildcards).toEqual([{ wildcard: '*.example.org', target: 'example.org', targetFrom: 'certificate' }]);
  });

  it('uses dns.expect_target for every wildcard and checks it as a host', () => {
    const plan = planChecks([cert('g', ['galaxy.example.org', '*.gx.example.org'])], 'proxy.example.org');
    expect(plan.wildcards).toEqual([{ wildcard: '*.gx.example.org', target: 'proxy.example.org', targetFrom: 'dns.expect_target' }]);
    expect(plan.hosts).toEqual(['galaxy.example.org', 'proxy.example.org']);
  });

  it('has no target for a certificate of wildcards only', () => {
    expect(planChecks([cert('w', ['*.example.org'])]).wildcards).toEqual([{ wildcard: '*.example.org' }]);
  });
});

describe('host', () => {
  it('passes an address, also through a CNAME', async () => {
    const dns = new FakeDns([galaxyZone([{ name: 'usegalaxy.example.org', type: RRType.CNAME, data: 'galaxy.example.org' }])]);
    expect(evaluateHost(await gatherHost(deps(dns), 'galaxy.example.org'))).toMatchObject({ status: 'ok', message: 'galaxy.example.org → A 192.0.2.10' });
    expect(evaluateHost(await gatherHost(deps(dns), 'usegalaxy.example.org')).message).toBe('usegalaxy.example.org → CNAME galaxy.example.org → A 192.0.2.10');
  });

  it('fails a host without an address and says what to add', async () => {
    const zone = galaxyZone();
    zone.records = zone.records.filter((r) => r.name !== 'galaxy.example.org');
    const r = evaluateHost(await gatherHost(deps(new FakeDns([zone])), 'galaxy.example.org'));
    expect(r).toMatchObject({ check: 'host', status: 'fail', subject: 'galaxy.example.org' });
    expect(r.message).toBe('has no address (A or AAAA): galaxy.example.org: no such record (NODATA)');
    expect(r.fix).toBe('add an address record for the Galaxy server, e.g. "galaxy.example.org. A <its IPv4 address>"');
  });

  it('fails a name that does not exist', async () => {
    const r = evaluateHost(await gatherHost(deps(new FakeDns([galaxyZone()])), 'gallaxy.example.org'));
    expect(r.message).toContain('NXDOMAIN');
  });
});

describe('challenge name', () => {
  it('is plain for the base name', async () => {
    const r = evaluateChallenge(await gatherChallenge(deps(new FakeDns([galaxyZone()])), 'galaxy.example.org'));
    expect(r).toMatchObject({ check: 'challenge', status: 'ok', subject: '_acme-challenge.galaxy.example.org' });
  });

  it('passes the GxIT wildcard-covered challenge name with a note: gxit-cert writes at the literal name', async () => {
    const r = evaluateChallenge(await gatherChallenge(deps(new FakeDns([galaxyZone()])), '*.ep.interactivetool.galaxy.example.org'));
    expect(r).toMatchObject({ status: 'ok', subject: '_acme-challenge.ep.interactivetool.galaxy.example.org' });
    expect(r.fix).toBeUndefined();
    expect(r.message).toContain('a CNAME to galaxy.example.org');
    expect(r.message).toContain('gxit-cert writes the TXT records at this literal name');
    expect(r.note).toContain('(lego, cert-manager) would write at galaxy.example.org');
  });

  it('passes a plain challenge name without a note', async () => {
    const r = evaluateChallenge(await gatherChallenge(deps(new FakeDns([galaxyZone()])), 'galaxy.example.org'));
    expect(r.note).toBeUndefined();
  });

  it('follows an explicit CNAME (delegation) and says where the TXT goes', async () => {
    const dns = new FakeDns([
      galaxyZone([{ name: '_acme-challenge.galaxy.example.org', type: RRType.CNAME, data: 'galaxy.acme.example.net' }]),
      { apex: 'acme.example.net', records: [soa('acme.example.net')] },
    ]);
    const facts = await gatherChallenge(deps(dns), 'galaxy.example.org');
    expect(facts.target?.fqdn).toBe('galaxy.acme.example.net');
    expect(evaluateChallenge(facts)).toMatchObject({
      status: 'ok',
      message: 'delegated: _acme-challenge.galaxy.example.org → CNAME galaxy.acme.example.net; TXT records are written at galaxy.acme.example.net',
    });
  });

  it('fails when the lookups fail', async () => {
    const failing = async (): Promise<never> => {
      throw new GxitError('DNS_TIMEOUT', 'no reply from DNS server 192.0.2.53:53', { fix: 'check the resolver' });
    };
    const r = evaluateChallenge(await gatherChallenge({ query: failing, resolvers, random: () => 'r' }, 'galaxy.example.org'));
    expect(r).toMatchObject({ status: 'fail', fix: 'check the resolver' });
  });
});
