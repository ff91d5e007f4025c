import { describe, expect, it } from 'vitest';
import type { ServerAddress } from '../../../src/config/types.js';
import { RCode, RRType } from '../../../src/dns/message.js';
import { GxitError } from '../../../src/errors.js';
import {
  evaluateNameserver,
  evaluateZone,
  gatherZone,
  laggingServers,
  serialBefore,
  type AskFn,
  type ServerFacts,
} from '../../../src/check/nameservers.js';
import { FakeDns, galaxyZone, message, soa } from './fake-zone.js';

const resolvers = [{ host: '192.0.2.53', port: 53 }];

describe('serial arithmetic (RFC 1982)', () => {
  it.each([
    [1, 2, true],
    [2, 1, false],
    [5, 5, false],
    [4294967295, 0, true],
    [0, 4294967295, false],
    [2024010101, 2024010102, true],
  ])('%d before %d: %s', (a, b, before) => {
    expect(serialBefore(a, b)).toBe(before);
  });

  it('names the servers behind the newest serial, across a wrap', () => {
    const servers = [{ n: 'a', serial: 4294967295 }, { n: 'b', serial: 3 }, { n: 'c' }];
    expect(laggingServers(servers)).toEqual({ newest: 3, lagging: [{ n: 'a', serial: 4294967295 }] });
    expect(laggingServers([{ serial: 7 }, { serial: 7 }]).lagging).toEqual([]);
  });
});

const ns1: ServerAddress = { host: '192.0.2.1', port: 53 };
const ns2: ServerAddress = { host: '192.0.2.2', port: 53 };
const good = (serial: number) => ({ reply: message([soa('example.org', serial)]) });

describe('evaluateNameserver', () => {
  const base: ServerFacts = { nameserver: 'ns1.example.org', address: ns1, udp: good(5), tcp: good(5), serial: 5 };
  const down = (code: 'DNS_TIMEOUT' | 'DNS_UNREACHABLE', text: string) => ({ error: new GxitError(code, text) });

  it.each<[string, Partial<ServerFacts>, 'ok' | 'fail', RegExp, RegExp?]>([
    ['authoritative over both', {}, 'ok', /authoritative for example\.org over UDP and TCP, serial 5/],
    ['no address', { address: undefined, udp: undefined, tcp: undefined }, 'fail', /has no address/, /remove it from the NS records of example\.org/],
    ['no answer at all', { udp: down('DNS_TIMEOUT', 'no reply over UDP'), tcp: down('DNS_UNREACHABLE', 'refused') }, 'fail', /does not answer for zone example\.org \(UDP: no reply over UDP; TCP: refused\)/, /start the nameserver at 192\.0\.2\.1:53/],
    ['UDP only', { tcp: down('DNS_UNREACHABLE', 'refused the TCP connection') }, 'fail', /answers over UDP but not over TCP/, /allow TCP port 53/],
    ['TCP only', { udp: down('DNS_TIMEOUT', 'no reply') }, 'fail', /answers over TCP but not over UDP/, /allow UDP port 53/],
    ['REFUSED (lame)', { udp: { reply: message([], { rcode: RCode.REFUSED, aa: false }) }, tcp: { reply: message([], { rcode: RCode.REFUSED, aa: false }) } }, 'fail', /is not authoritative for zone example\.org: it answered the SOA query REFUSED/, /lame delegation/],
    ['no AA flag', { udp: { reply: message([soa('example.org')], { aa: false }) } }, 'fail', /without the authoritative \(AA\) flag/],
  ])('%s', (_, change, status, msg, fix) => {
    const r = evaluateNameserver('example.org', { ...base, ...change });
    expect(r).toMatchObject({ check: 'nameserver', status });
    expect(r.message).toMatch(msg);
    if (fix) expect(r.fix).toMatch(fix);
  });

  it('names the server by NS name and address', () => {
    expect(evaluateNameserver('example.org', base).subject).toBe('ns1.example.org (192.0.2.1:53)');
  });
});

describe('evaluateZone', () => {
  it('names the lagging nameserver', () => {
    const results = evaluateZone({
      zone: 'example.org',
      names: ['_acme-challenge.galaxy.example.org'],
      nameservers: [{ name: 'ns1.example.org', addresses: [ns1] }, { name: 'ns2.example.org', addresses: [ns2] }],
      servers: [
        { nameserver: 'ns1.example.org', address: ns1, udp: good(7), tcp: good(7), serial: 7 },
        { nameserver: 'ns2.example.org', address: ns2, udp: good(5), tcp: good(5), serial: 5 },
      ],
    });
    expect(results[0]).toMatchObject({ check: 'zone', status: 'fail', subject: 'zone example.org' });
    expect(results[0]?.message).toBe('ns2.example.org (192.0.2.2:53) serves serial 5, but ns1.example.org serves 7: a CA that asks a lagging nameserver sees no TXT record');
    expect(results[0]?.fix).toMatch(/^make sure ns2\.example\.org receives NOTIFY and zone transfers/);
    expect(results.slice(1).map((r) => r.status)).toEqual(['ok', 'ok']);
  });

  it('reports a zone whose NS records cannot be found', () => {
    const [r] = evaluateZone({ zone: 'example.org', names: [], error: new GxitError('DNS_NO_NAMESERVERS', 'zone example.org has no NS records', { fix: 'check the zone' }), servers: [] });
    expect(r).toMatchObject({ status: 'fail', fix: 'check the zone' });
  });
});

describe('gatherZone', () => {
  function setup(serials: Record<string, number[]>, tcpDown: string[] = []) {
    const dns = new FakeDns([galaxyZone()]);
    const asked: string[] = [];
    const ask: AskFn = async (server, name, type, opts) => {
      asked.push(`${server.host}${opts.tcp ? '/tcp' : ''}`);
      if (opts.tcp && tcpDown.includes(server.host)) throw new GxitError('DNS_UNREACHABLE', 'refused');
      const list = serials[server.host] ?? [1];
      const serial = list.length > 1 ? (list.shift() as number) : (list[0] as number);
      return message(type === RRType.SOA ? [soa(name, serial)] : []);
    };
    let clock = 0;
    const deps = {
      query: dns.query,
      resolvers,
      random: () => 'x',
      ask,
      nameserverPort: 53,
      serialGraceMs: 1000,
      now: () => clock,
      sleep: async (ms: number) => {
        clock += ms;
      },
    };
    return { deps, asked, time: () => clock };
  }

  it('asks every nameserver over UDP and TCP', async () => {
    const { deps, asked } = setup({});
    const facts = await gatherZone(deps, 'example.org', ['_acme-challenge.galaxy.example.org']);
    expect(asked.sort()).toEqual(['192.0.2.1', '192.0.2.1/tcp', '192.0.2.2', '192.0.2.2/tcp']);
    expect(evaluateZone(facts).map((r) => r.status)).toEqual(['ok', 'ok', 'ok']);
  });

  it('gives a lagging secondary a grace to catch up', async () => {
    const { deps, time } = setup({ '192.0.2.1': [8], '192.0.2.2': [7, 7, 7, 8] });
    const facts = await gatherZone(deps, 'example.org', []);
    expect(facts.servers.map((s) => s.serial)).toEqual([8, 8]);
    expect(time()).toBe(200); // UDP and TCP saw 7, the first re-ask 7, the second 8
    expect(evaluateZone(facts)[0]?.status).toBe('ok');
  });

  it('reports a secondary still behind after the grace', async () => {
    const { deps, time } = setup({ '192.0.2.1': [8], '192.0.2.2': [7] });
    const facts = await gatherZone(deps, 'example.org', []);
    expect(time()).toBe(1000);
    expect(evaluateZone(facts)[0]).toMatchObject({ status: 'fail', message: expect.stringContaining('ns2.example.org (192.0.2.2:53) serves serial 7') });
  });

  it('reports a nameserver without TCP', async () => {
    const { deps } = setup({}, ['192.0.2.2']);
    const results = evaluateZone(await gatherZone(deps, 'example.org', []));
    expect(results.find((r) => r.subject.startsWith('ns2'))).toMatchObject({ status: 'fail', message: expect.stringContaining('not over TCP') });
  });
});
