import { describe, expect, it } from 'vitest';
import { RCode, RRType } from '../../../src/dns/message.js';
import {
  describeAddressResolution,
  followInReply,
  memoize,
  resolve,
  resolveAddresses,
} from '../../../src/check/lookup.js';
import { FakeDns, galaxyZone, message, soa } from './fake-zone.js';

const resolvers = [{ host: '192.0.2.53', port: 53 }];

describe('followInReply', () => {
  it.each([
    ['records at the name', [{ name: 'a.test', type: RRType.A, data: '192.0.2.1' }], 'a.test', [], ['192.0.2.1']],
    [
      'a chain inside one reply',
      [
        { name: 'a.test', type: RRType.CNAME, data: 'b.test' },
        { name: 'b.test', type: RRType.CNAME, data: 'c.test' },
        { name: 'c.test', type: RRType.A, data: '192.0.2.3' },
      ],
      'c.test',
      ['a.test>b.test', 'b.test>c.test'],
      ['192.0.2.3'],
    ],
    ['a chain leaving the reply', [{ name: 'a.test', type: RRType.CNAME, data: 'elsewhere.example' }], 'elsewhere.example', ['a.test>elsewhere.example'], []],
    ['a loop stops', [{ name: 'a.test', type: RRType.CNAME, data: 'b.test' }, { name: 'b.test', type: RRType.CNAME, data: 'a.test' }], 'b.test', ['a.test>b.test'], []],
  ])('%s', (_, answers, final, chain, data) => {
    const r = followInReply(message(answers), 'a.test', RRType.A);
    expect(r.final).toBe(final);
    expect(r.chain.map((h) => `${h.from}>${h.to}`)).toEqual(chain);
    expect(r.records.map((x) => x.data)).toEqual(data);
  });

  it('returns the CNAME itself when the CNAME is asked for', () => {
    const r = followInReply(message([{ name: 'a.test', type: RRType.CNAME, data: 'b.test' }]), 'a.test', RRType.CNAME);
    expect(r.chain).toEqual([]);
    expect(r.records.map((x) => x.data)).toEqual(['b.test']);
  });
});

describe('resolve', () => {
  it('follows a CNAME into another zone with a second question', async () => {
    const dns = new FakeDns([
      galaxyZone([{ name: 'tools.example.org', type: RRType.CNAME, data: 'lb.hosting.test' }]),
      { apex: 'hosting.test', records: [soa('hosting.test'), { name: 'lb.hosting.test', type: RRType.A, data: '198.51.100.7' }] },
    ]);
    const r = await resolveAddresses(dns.query, resolvers, 'tools.example.org');
    expect(r.addresses).toEqual(['198.51.100.7']);
    expect(describeAddressResolution(r)).toBe('tools.example.org → CNAME lb.hosting.test → A 198.51.100.7');
  });

  it('reports NXDOMAIN and NODATA as outcomes, not errors', async () => {
    const dns = new FakeDns([galaxyZone()]);
    const missing = await resolveAddresses(dns.query, resolvers, 'nope.example.org');
    expect(missing).toMatchObject({ addresses: [], rcode: RCode.NXDOMAIN });
    expect(missing.error).toBeUndefined();
    expect(describeAddressResolution(missing)).toBe('nope.example.org: the name does not exist (NXDOMAIN)');
    const empty = await resolveAddresses(dns.query, resolvers, 'interactivetool.galaxy.example.org');
    expect(describeAddressResolution(empty)).toBe('interactivetool.galaxy.example.org: no such record (NODATA)');
  });

  it('stops a loop across replies with an error naming the start', async () => {
    const dns = new FakeDns([
      { apex: 'a.test', records: [{ name: 'x.a.test', type: RRType.CNAME, data: 'y.b.test' }] },
      { apex: 'b.test', records: [{ name: 'y.b.test', type: RRType.CNAME, data: 'x.a.test' }] },
    ]);
    const r = await resolve(dns.query, resolvers, 'x.a.test', RRType.A);
    expect(r.error).toMatchObject({ code: 'DNS_CNAME_LOOP', subject: 'x.a.test' });
  });

  it('keeps a lookup failure as the error of the resolution', async () => {
    const failing = async (): Promise<never> => {
      throw new Error('no reply');
    };
    const r = await resolveAddresses(failing, resolvers, 'galaxy.example.org');
    expect(r.addresses).toEqual([]);
    expect(String(r.error)).toContain('no reply');
    expect(describeAddressResolution(r)).toBe('galaxy.example.org: lookup failed (no reply)');
  });
});

describe('memoize', () => {
  it('asks each question once per run', async () => {
    const dns = new FakeDns([galaxyZone()]);
    const q = memoize(dns.query);
    await Promise.all([q(resolvers[0]!, 'galaxy.example.org', RRType.A), q(resolvers[0]!, 'Galaxy.example.org.', RRType.A)]);
    await q(resolvers[0]!, 'galaxy.example.org', RRType.AAAA);
    expect(dns.log.map((l) => `${l.name} ${l.type}`)).toEqual(['galaxy.example.org 1', 'galaxy.example.org 28']);
  });
});
