/**
 * An authoritative server for a few zones, true to RFC 1034/4592 where check-dns depends on it:
 * empty non-terminals exist (NODATA), a wildcard answers only below the closest encloser, a CNAME
 * chain inside the zone is followed in one reply, names outside every zone are REFUSED.
 */
import type { ServerAddress } from '../../../src/config/types.js';
import { RCode, RRType, type DnsMessage, type DnsRecord } from '../../../src/dns/message.js';
import type { QueryFn } from '../../../src/dns/resolver.js';

export type Rec = Pick<DnsRecord, 'name' | 'type' | 'data'>;

export interface Zone {
  apex: string;
  records: Rec[];
}

export function message(answers: Rec[], extra: Partial<DnsMessage> = {}): DnsMessage {
  return {
    id: 1, qr: true, opcode: 0, rcode: RCode.NOERROR, aa: true, tc: false, rd: false, ra: false,
    questions: [], answers: answers.map((a) => ({ class: 1, ttl: 60, ...a })), authorities: [], additionals: [],
    ...extra,
  };
}

export const soa = (apex: string, serial = 1): Rec => ({
  name: apex,
  type: RRType.SOA,
  data: { mname: `ns1.${apex}`, rname: `hostmaster.${apex}`, serial, refresh: 1, retry: 1, expire: 1, minimum: 1 },
});

const inside = (name: string, apex: string): boolean => name === apex || name.endsWith(`.${apex}`);
const parent = (name: string): string => name.slice(name.indexOf('.') + 1);

export class FakeDns {
  readonly log: Array<{ server: string; name: string; type: number }> = [];

  constructor(readonly zones: Zone[]) {}

  zoneOf(name: string): Zone | undefined {
    return this.zones.filter((z) => inside(name, z.apex)).sort((a, b) => b.apex.length - a.apex.length)[0];
  }

  add(...records: Rec[]): void {
    for (const r of records) this.zoneOf(r.name)?.records.push(r);
  }

  remove(match: (r: Rec) => boolean): void {
    for (const z of this.zones) z.records = z.records.filter((r) => !match(r));
  }

  private exists(zone: Zone, name: string): boolean {
    return name === zone.apex || zone.records.some((r) => r.name === name || r.name.endsWith(`.${name}`));
  }

  /** Records owned by `name`, or synthesized from the wildcard at its closest encloser; undefined: NXDOMAIN. */
  private owned(zone: Zone, name: string): Rec[] | undefined {
    if (this.exists(zone, name)) return zone.records.filter((r) => r.name === name);
    let encloser = parent(name);
    while (!this.exists(zone, encloser)) encloser = parent(encloser);
    const wildcard = zone.records.filter((r) => r.name === `*.${encloser}`);
    return wildcard.length > 0 ? wildcard.map((r) => ({ ...r, name })) : undefined;
  }

  answer(name: string, type: number): DnsMessage {
    const zone = this.zoneOf(name);
    if (!zone) return message([], { rcode: RCode.REFUSED, aa: false });
    const answers: Rec[] = [];
    let current = name;
    for (let hop = 0; hop < 8; hop++) {
      const here = this.zoneOf(current) === zone ? this.owned(zone, current) : [];
      if (here === undefined) return message(answers, { rcode: RCode.NXDOMAIN });
      const wanted = here.filter((r) => r.type === type);
      const cname = here.find((r) => r.type === RRType.CNAME);
      if (wanted.length > 0 || !cname || type === RRType.CNAME) return message([...answers, ...wanted]);
      answers.push(cname);
      current = String(cname.data);
      if (this.zoneOf(current) !== zone) break;
    }
    return message(answers);
  }

  /** A QueryFn answering from these zones, whatever server is asked. */
  query: QueryFn = async (server: ServerAddress, name: string, type: number) => {
    this.log.push({ server: `${server.host}:${server.port}`, name, type });
    return this.answer(name, type);
  };
}

/** The lab zone of the README: Galaxy host, GxIT wildcard CNAME, two nameservers. */
export function galaxyZone(extra: Rec[] = []): Zone {
  return {
    apex: 'example.org',
    records: [
      soa('example.org'),
      { name: 'example.org', type: RRType.NS, data: 'ns1.example.org' },
      { name: 'example.org', type: RRType.NS, data: 'ns2.example.org' },
      { name: 'ns1.example.org', type: RRType.A, data: '192.0.2.1' },
      { name: 'ns2.example.org', type: RRType.A, data: '192.0.2.2' },
      { name: 'galaxy.example.org', type: RRType.A, data: '192.0.2.10' },
      { name: '*.ep.interactivetool.galaxy.example.org', type: RRType.CNAME, data: 'galaxy.example.org' },
      ...extra,
    ],
  };
}
