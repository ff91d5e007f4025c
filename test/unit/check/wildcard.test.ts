import { describe, expect, it } from 'vitest';
import { RCode, RRType } from '../../../src/dns/message.js';
import { evaluateWildcard, gatherWildcard, type WildcardFacts } from '../../../src/check/wildcard.js';
import { FakeDns, galaxyZone, type Rec } from './fake-zone.js';

const resolvers = [{ host: '192.0.2.53', port: 53 }];
const WILDCARD = '*.ep.interactivetool.galaxy.example.org';
const HOST = 'galaxy.example.org';

function counter(): () => string {
  let n = 0;
  return () => `r${++n}`;
}

async function check(records: Rec[], opts: { base?: Rec[]; target?: string; from?: 'dns.expect_target' | 'certificate' } = {}) {
  const zone = galaxyZone(records);
  if (opts.base) zone.records = [...zone.records.filter((r) => r.name !== WILDCARD), ...opts.base];
  const dns = new FakeDns([zone]);
  const target = 'target' in opts ? opts.target : HOST;
  const facts = await gatherWildcard(
    { query: dns.query, resolvers, random: counter() },
    { wildcard: WILDCARD, ...(target === undefined ? {} : { target, targetFrom: opts.from ?? 'certificate' }) },
  );
  return { facts, result: evaluateWildcard(facts) };
}

describe('wildcard routing against zone variants', () => {
  it('passes the GxIT wildcard CNAME and shows the chain', async () => {
    const { result } = await check([]);
    expect(result).toMatchObject({ check: 'wildcard', status: 'ok', subject: WILDCARD });
    expect(result.message).toBe(`gxit-check-r1.ep.interactivetool.${HOST} → CNAME ${HOST} → A 192.0.2.10`);
  });

  it('passes a wildcard A record with the host\'s address', async () => {
    const { result } = await check([], { base: [{ name: WILDCARD, type: RRType.A, data: '192.0.2.10' }] });
    expect(result.status).toBe('ok');
    expect(result.message).toContain(`(the address of ${HOST})`);
  });

  it('fails a missing wildcard and gives the record to add', async () => {
    const { result } = await check([], { base: [] });
    expect(result).toMatchObject({ status: 'fail', subject: WILDCARD });
    expect(result.message).toMatch(/no DNS wildcard.*NXDOMAIN/);
    expect(result.fix).toBe(`add the record "${WILDCARD}. CNAME ${HOST}."`);
  });

  it('fails a wildcard that leads to another host', async () => {
    const { result } = await check([{ name: 'www.example.org', type: RRType.A, data: '192.0.2.99' }], {
      base: [{ name: WILDCARD, type: RRType.CNAME, data: 'www.example.org' }],
    });
    expect(result.status).toBe('fail');
    expect(result.message).toBe(`gxit-check-r1.ep.interactivetool.${HOST} → CNAME www.example.org → A 192.0.2.99: this does not lead to ${HOST} (A 192.0.2.10)`);
    expect(result.fix).toContain(`"${WILDCARD}. CNAME ${HOST}."`);
    expect(result.fix).toContain('or set dns.expect_target');
  });

  it('fails a wildcard A record with another address', async () => {
    const { result } = await check([], { base: [{ name: WILDCARD, type: RRType.A, data: '192.0.2.77' }] });
    expect(result.status).toBe('fail');
    expect(result.message).toContain('→ A 192.0.2.77: this does not lead to galaxy.example.org');
  });

  it('fails a wildcard only at *.interactivetool.<host> and explains why', async () => {
    const { facts, result } = await check([], {
      base: [{ name: '*.interactivetool.galaxy.example.org', type: RRType.CNAME, data: HOST }],
    });
    expect(facts.higher).toEqual({ owner: '*.interactivetool.galaxy.example.org' });
    expect(result.status).toBe('fail');
    expect(result.message).toContain('resolves only through *.interactivetool.galaxy.example.org');
    expect(result.message).toContain('_acme-challenge.ep.interactivetool.galaxy.example.org');
    expect(result.message).toContain('creates ep.interactivetool.galaxy.example.org');
    expect(result.fix).toBe(`add the record "${WILDCARD}. CNAME ${HOST}." (*.interactivetool.galaxy.example.org may stay)`);
  });

  it('finds a wildcard two levels higher too', async () => {
    const { facts } = await check([], { base: [{ name: '*.galaxy.example.org', type: RRType.CNAME, data: HOST }] });
    expect(facts.higher).toEqual({ owner: '*.galaxy.example.org' });
  });

  it('passes when both the right wildcard and a higher one exist', async () => {
    const { facts, result } = await check([{ name: '*.interactivetool.galaxy.example.org', type: RRType.CNAME, data: HOST }]);
    expect(facts.higher).toBeUndefined();
    expect(result.status).toBe('ok');
  });

  it('compares with dns.expect_target and names it in the fix', async () => {
    const proxy: Rec[] = [{ name: 'proxy.example.org', type: RRType.A, data: '192.0.2.20' }];
    const good = await check([...proxy], { base: [{ name: WILDCARD, type: RRType.CNAME, data: 'proxy.example.org' }], target: 'proxy.example.org', from: 'dns.expect_target' });
    expect(good.result.status).toBe('ok');
    const bad = await check([...proxy], { target: 'proxy.example.org', from: 'dns.expect_target' });
    expect(bad.result.status).toBe('fail');
    expect(bad.result.fix).toBe(`point the wildcard at proxy.example.org with "${WILDCARD}. CNAME proxy.example.org.", or correct dns.expect_target`);
  });

  it('warns when there is no host to compare with', async () => {
    const { result } = await check([], { target: undefined });
    expect(result.status).toBe('warn');
    expect(result.fix).toContain('dns.expect_target');
  });
});

describe('evaluateWildcard edge cases', () => {
  const base: WildcardFacts = {
    wildcard: WILDCARD,
    base: 'ep.interactivetool.galaxy.example.org',
    target: HOST,
    probe: { name: 'x.ep.interactivetool.galaxy.example.org', chain: [], final: 'x.ep.interactivetool.galaxy.example.org', addresses: [], rcode: RCode.NOERROR },
  };

  it('reports a failed lookup with the lookup\'s own fix', async () => {
    const { GxitError } = await import('../../../src/errors.js');
    const error = new GxitError('DNS_TIMEOUT', 'no reply from DNS server 192.0.2.53:53', { fix: 'check the resolver' });
    const r = evaluateWildcard({ ...base, probe: { ...base.probe, rcode: -1, error } });
    expect(r).toMatchObject({ status: 'fail', fix: 'check the resolver' });
    expect(r.message).toContain('no reply from DNS server');
  });

  it('blames the lookup servers for a refusal', () => {
    const r = evaluateWildcard({ ...base, probe: { ...base.probe, rcode: RCode.REFUSED } });
    expect(r.status).toBe('fail');
    expect(r.fix).toContain('dns.resolvers');
  });
});
