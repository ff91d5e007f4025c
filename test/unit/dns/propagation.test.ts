import { describe, expect, it } from 'vitest';
import type { ServerAddress } from '../../../src/config/types.js';
import { RRType } from '../../../src/dns/message.js';
import { groupByName, missingValues, waitForPropagation } from '../../../src/dns/propagation.js';
import type { QueryFn } from '../../../src/dns/resolver.js';
import { findZone, suffixes } from '../../../src/dns/zone.js';
import { query } from '../../../src/dns/query.js';
import { udpServer } from './lab.js';
import { answer, fakeQuery, labZone, reply, type FakeZone } from './fake-dns.js';

const resolvers = [{ host: '127.0.0.2', port: 53 }];

describe('zone finding', () => {
  it('lists every suffix, longest first', () => {
    expect(suffixes('_acme-challenge.Galaxy.example.org.')).toEqual([
      '_acme-challenge.galaxy.example.org', 'galaxy.example.org', 'example.org', 'org',
    ]);
  });

  it('finds the apex even below a wildcard CNAME', async () => {
    const zone = await findZone(fakeQuery([labZone]), resolvers, '_acme-challenge.ep.interactivetool.galaxy.example.org', { recursionDesired: false });
    expect(zone).toBe('example.org');
  });

  it('prefers the longest apex (a delegated sub-zone on the same server)', async () => {
    const sub: FakeZone = { apex: 'galaxy.example.org', records: [{ name: 'galaxy.example.org', type: RRType.SOA, data: {} as never }] };
    const zone = await findZone(fakeQuery([labZone, sub]), resolvers, '_acme-challenge.galaxy.example.org', { recursionDesired: false });
    expect(zone).toBe('galaxy.example.org');
  });

  it('asks a resolver with CD set (a validating one would SERVFAIL a bogus zone), an authoritative server without', async () => {
    const sub: FakeZone = { apex: 'galaxy.example.org', records: [{ name: 'galaxy.example.org', type: RRType.SOA, data: {} as never }] };
    const fake = fakeQuery([labZone, sub]);
    const flags: (boolean | undefined)[] = [];
    // Like a validating resolver for a child whose DS matches no key: SERVFAIL unless CD is set.
    const validating: QueryFn = async (server, name, type, opts) => {
      flags.push(opts?.checkingDisabled);
      if (name === 'galaxy.example.org' && opts?.recursionDesired && !opts.checkingDisabled) return { ...(await fake(server, name, type, opts)), rcode: 2, answers: [] };
      return fake(server, name, type, opts);
    };
    expect(await findZone(validating, resolvers, '_acme-challenge.galaxy.example.org', { recursionDesired: true })).toBe('galaxy.example.org');
    expect(flags.every((f) => f === true)).toBe(true);
    flags.length = 0;
    await findZone(validating, resolvers, '_acme-challenge.galaxy.example.org', { recursionDesired: false });
    expect(flags.every((f) => f !== true)).toBe(true);
  });

  it('names the name and server when no zone is found', async () => {
    await expect(findZone(fakeQuery([]), resolvers, 'x.unknown.test', { recursionDesired: false })).rejects.toMatchObject({
      code: 'DNS_ZONE_NOT_FOUND',
      subject: 'x.unknown.test',
      message: expect.stringContaining('127.0.0.2:53'),
    });
  });
});

describe('missingValues', () => {
  const fqdn = '_acme-challenge.example.org';
  it('ignores TXT records at other names and CNAMEs', () => {
    const r = reply([
      { name: fqdn, type: RRType.TXT, data: ['aaa'] },
      { name: 'other.example.org', type: RRType.TXT, data: ['bbb'] },
      { name: fqdn, type: RRType.CNAME, data: 'x.example.org' },
    ]);
    expect(missingValues(r, fqdn, ['aaa', 'bbb'])).toEqual(['bbb']);
  });
  it('joins character-strings of one value', () => {
    expect(missingValues(reply([{ name: fqdn, type: RRType.TXT, data: ['ab', 'cd'] }]), fqdn, ['abcd'])).toEqual([]);
  });
  it('treats a non-authoritative or failed answer as serving nothing', () => {
    const served = reply([{ name: fqdn, type: RRType.TXT, data: ['aaa'] }]);
    expect(missingValues({ ...served, aa: false }, fqdn, ['aaa'])).toEqual(['aaa']);
    expect(missingValues({ ...served, rcode: 2 }, fqdn, ['aaa'])).toEqual(['aaa']);
    expect(missingValues(undefined, fqdn, ['aaa'])).toEqual(['aaa']);
  });
  it('groups base and wildcard values at one name', () => {
    expect(groupByName([{ fqdn: 'a', value: '1' }, { fqdn: 'a', value: '2' }, { fqdn: 'b', value: '3' }])).toEqual(
      new Map([['a', ['1', '2']], ['b', ['3']]]),
    );
  });
});

/** Two nameservers; the secondary starts serving the record only after some polls. */
function twoServerZone(secondaryLagPolls: number): { query: QueryFn; polls: Map<string, number> } {
  const zone: FakeZone = {
    apex: 'example.org',
    records: [
      ...labZone.records,
      { name: 'example.org', type: RRType.NS, data: 'ns2.example.org' },
      { name: 'ns2.example.org', type: RRType.A, data: '127.0.0.3' },
      { name: '_acme-challenge.galaxy.example.org', type: RRType.TXT, data: ['token-1'] },
    ],
  };
  const polls = new Map<string, number>();
  const query: QueryFn = async (server: ServerAddress, name: string, type: number) => {
    if (type !== RRType.TXT) return answer([zone], name, type);
    const n = (polls.get(server.host) ?? 0) + 1;
    polls.set(server.host, n);
    if (server.host === '127.0.0.3' && n <= secondaryLagPolls) return reply([]);
    return answer([zone], name, type);
  };
  return { query, polls };
}

describe('waitForPropagation', () => {
  const records = [{ fqdn: '_acme-challenge.galaxy.example.org', value: 'token-1' }];
  const fastClock = () => {
    let t = 0;
    return { now: () => t, sleep: async (ms: number) => { t += ms; } };
  };

  it('waits for every authoritative nameserver, not the first that answers', async () => {
    const { query, polls } = twoServerZone(3);
    await waitForPropagation(records, { query, resolvers, nameserverPort: 53, timeoutMs: 10_000, intervalMs: 50, ...fastClock() });
    expect(polls.get('127.0.0.3')).toBe(4);
    // a satisfied server is not asked again
    expect(polls.get('127.0.0.2')).toBe(1);
  });

  it('times out naming the lagging nameserver and the record', async () => {
    const { query } = twoServerZone(Number.POSITIVE_INFINITY);
    await expect(
      waitForPropagation(records, { query, resolvers, nameserverPort: 53, timeoutMs: 2_000, intervalMs: 50, ...fastClock() }),
    ).rejects.toMatchObject({
      code: 'DNS_PROPAGATION_TIMEOUT',
      subject: '_acme-challenge.galaxy.example.org',
      message: expect.stringContaining('ns2.example.org at 127.0.0.3:53'),
    });
  });

  it('requires every address of a nameserver and names the one that lags', async () => {
    // ns2 has two addresses; only its second one lags.
    const zone: FakeZone = {
      apex: 'example.org',
      records: [
        ...labZone.records,
        { name: 'example.org', type: RRType.NS, data: 'ns2.example.org' },
        { name: 'ns2.example.org', type: RRType.A, data: '127.0.0.3' },
        { name: 'ns2.example.org', type: RRType.A, data: '127.0.0.4' },
        { name: '_acme-challenge.galaxy.example.org', type: RRType.TXT, data: ['token-1'] },
      ],
    };
    let lagging = true;
    const asked = new Map<string, number>();
    const query: QueryFn = async (server: ServerAddress, name: string, type: number) => {
      if (type === RRType.TXT) asked.set(server.host, (asked.get(server.host) ?? 0) + 1);
      if (type === RRType.TXT && server.host === '127.0.0.4' && lagging) return reply([]);
      return answer([zone], name, type);
    };
    await expect(
      waitForPropagation(records, { query, resolvers, nameserverPort: 53, timeoutMs: 500, intervalMs: 50, ...fastClock() }),
    ).rejects.toMatchObject({ code: 'DNS_PROPAGATION_TIMEOUT', message: expect.stringContaining('ns2.example.org at 127.0.0.4:53') });
    expect(asked.get('127.0.0.4')).toBeGreaterThan(1);
    lagging = false;
    await waitForPropagation(records, { query, resolvers, nameserverPort: 53, timeoutMs: 500, intervalMs: 50, ...fastClock() });
  });

  it('queries nameservers on the configured port', async () => {
    const log: Array<{ server: string; name: string; type: number }> = [];
    const zone: FakeZone = { ...labZone, records: [...labZone.records, { name: '_acme-challenge.galaxy.example.org', type: RRType.TXT, data: ['token-1'] }] };
    await waitForPropagation(records, { query: fakeQuery([zone], log), resolvers, nameserverPort: 5353, timeoutMs: 1000, intervalMs: 10, ...fastClock() });
    expect(log.filter((l) => l.type === RRType.TXT).map((l) => l.server)).toEqual(['127.0.0.2:5353']);
  });
});

describe('waitForPropagation stops at once when the signal fires', () => {
  const records = [{ fqdn: '_acme-challenge.galaxy.example.org', value: 'token-1' }];

  it('while a nameserver that never answers is asked (a real socket on loopback)', async () => {
    const silent = await udpServer(() => undefined);
    try {
      const controller = new AbortController();
      const servers: ServerAddress[] = [{ host: '127.0.0.1', port: silent.port }];
      // The transport's own limits (3 attempts of 5 s) would keep this waiting for 15 s.
      const pending = waitForPropagation(records, {
        query: (server, name, type, o) => query(server, name, type, { ...o, timeoutMs: 5000, retries: 3 }),
        resolvers: servers,
        nameserverPort: silent.port,
        timeoutMs: 120_000,
        intervalMs: 50,
        signal: controller.signal,
      });
      while (silent.received.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      const started = Date.now();
      controller.abort();
      await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await silent.close();
    }
  });

  it('while a query that ignores the signal hangs, and between polls', async () => {
    const hanging: QueryFn = () => new Promise(() => undefined);
    const first = new AbortController();
    const pending = waitForPropagation(records, { query: hanging, resolvers, nameserverPort: 53, timeoutMs: 120_000, intervalMs: 50, signal: first.signal });
    setTimeout(() => first.abort(new Error('interrupted')), 20);
    await expect(pending).rejects.toThrow('interrupted');

    // The zone serves nothing yet: the wait sleeps between polls until the signal fires.
    const { query: lagging } = twoServerZone(1_000_000);
    const second = new AbortController();
    let sleeps = 0;
    const sleep = (): Promise<void> => {
      sleeps += 1;
      setTimeout(() => second.abort(), 20);
      return new Promise(() => undefined); // a sleep that never ends by itself
    };
    await expect(
      waitForPropagation(records, { query: lagging, resolvers, nameserverPort: 53, timeoutMs: 120_000, intervalMs: 50, sleep, signal: second.signal }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(sleeps).toBe(1);
  });

  it('passes a signal that follows the caller\'s to every query it makes', async () => {
    const seen: Array<AbortSignal | undefined> = [];
    const zone = fakeQuery([labZone]);
    const controller = new AbortController();
    const fired: boolean[] = [];
    const logging: QueryFn = (server, name, type, o) => {
      seen.push(o?.signal);
      // Once the wait polls, abort the caller's signal: the query's own signal must fire with it.
      if (type === RRType.TXT) {
        controller.abort();
        fired.push(o?.signal?.aborted === true);
      }
      return zone(server, name, type, o);
    };
    await waitForPropagation([{ fqdn: '_acme-challenge.galaxy.example.org', value: 'absent' }], {
      query: logging, resolvers, nameserverPort: 53, timeoutMs: 100, intervalMs: 50, now: (() => { let t = 0; return () => (t += 60); })(), sleep: async () => undefined, signal: controller.signal,
    }).catch(() => undefined);
    expect(seen.length).toBeGreaterThan(1);
    // Each query gets a signal that follows the caller's (many queries at once share one of our own).
    expect(seen.every((s) => s instanceof AbortSignal)).toBe(true);
    expect(fired.length).toBeGreaterThan(0);
    expect(fired.every(Boolean)).toBe(true);
  });

  it('does not start when the signal has already fired', async () => {
    const controller = new AbortController();
    controller.abort();
    let asked = 0;
    const counting: QueryFn = async () => {
      asked += 1;
      return reply([]);
    };
    await expect(waitForPropagation(records, { query: counting, resolvers, nameserverPort: 53, timeoutMs: 1000, intervalMs: 50, signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(asked).toBe(0);
  });
});
