import type { ServerAddress } from '../../../src/config/types.js';
import { RRType, type DnsMessage, type DnsRecord } from '../../../src/dns/message.js';
import type { QueryFn } from '../../../src/dns/resolver.js';

/** A protocol-true enough authoritative server for one zone: exact records, wildcard CNAME synthesis. */
export interface FakeZone {
  apex: string;
  records: Array<Pick<DnsRecord, 'name' | 'type' | 'data'>>;
}

export function reply(answers: Array<Pick<DnsRecord, 'name' | 'type' | 'data'>>, extra: Partial<DnsMessage> = {}): DnsMessage {
  return {
    id: 1, qr: true, opcode: 0, rcode: 0, aa: true, tc: false, rd: false, ra: false,
    questions: [], answers: answers.map((a) => ({ class: 1, ttl: 60, ...a })), authorities: [], additionals: [],
    ...extra,
  } as DnsMessage;
}

export function answer(zones: FakeZone[], name: string, type: number): DnsMessage {
  const zone = zones
    .filter((z) => name === z.apex || name.endsWith(`.${z.apex}`))
    .sort((a, b) => b.apex.length - a.apex.length)[0];
  if (!zone) return reply([], { rcode: 5, aa: false });
  const exact = zone.records.filter((r) => r.name === name);
  const nodeExists = zone.records.some((r) => r.name === name || r.name.endsWith(`.${name}`));
  if (exact.length > 0) {
    const cname = exact.find((r) => r.type === RRType.CNAME);
    if (cname && type !== RRType.CNAME) return reply([cname]);
    return reply(exact.filter((r) => r.type === type));
  }
  if (!nodeExists) {
    // closest encloser wildcard (RFC 4592), one level is enough for these tests
    const wildcard = `*.${name.slice(name.indexOf('.') + 1)}`;
    const synthesized = zone.records.filter((r) => r.name === wildcard && (r.type === type || r.type === RRType.CNAME));
    if (synthesized.length > 0) return reply(synthesized.map((r) => ({ ...r, name })));
    return reply([], { rcode: 3 });
  }
  return reply([]);
}

export function fakeQuery(zones: FakeZone[], log: Array<{ server: string; name: string; type: number }> = []): QueryFn {
  return async (server: ServerAddress, name: string, type: number) => {
    log.push({ server: `${server.host}:${server.port}`, name, type });
    return answer(zones, name, type);
  };
}

export const labZone: FakeZone = {
  apex: 'example.org',
  records: [
    { name: 'example.org', type: RRType.SOA, data: { mname: 'ns1.example.org', rname: 'h.example.org', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 1 } },
    { name: 'example.org', type: RRType.NS, data: 'ns1.example.org' },
    { name: 'ns1.example.org', type: RRType.A, data: '127.0.0.2' },
    { name: 'galaxy.example.org', type: RRType.A, data: '127.0.0.1' },
    { name: '*.ep.interactivetool.galaxy.example.org', type: RRType.CNAME, data: 'galaxy.example.org' },
    { name: '_acme-challenge.delegated.example.org', type: RRType.CNAME, data: 'delegated.acme.example.net' },
  ],
};
