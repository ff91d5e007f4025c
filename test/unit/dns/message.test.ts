import { Packet } from 'dns2';
import { describe, expect, it } from 'vitest';
import { GxitError } from '../../../src/errors.js';
import {
  buildQuery,
  buildUpdate,
  encodeCanonicalName,
  parseMessage,
  rcodeName,
  readName,
  RRClass,
  RRType,
  scanMessage,
  txtValues,
} from '../../../src/dns/message.js';

/** A response built with dns2 directly, as a server would send it. */
function response(): Buffer {
  const p = new Packet();
  p.header = new Packet.Header({ id: 0x1234, qr: 1, opcode: 0, aa: 1, rcode: 0 });
  p.questions = [new Packet.Question('Example.ORG', RRType.SOA, RRClass.IN)];
  const rr = (fields: Record<string, unknown>) => new Packet.Resource({ class: RRClass.IN, ttl: 60, ...fields });
  p.answers = [
    rr({ name: 'Example.ORG', type: RRType.SOA, primary: 'NS1.example.org', admin: 'hostmaster.example.org', serial: 2026110101, refresh: 3600, retry: 600, expiration: 86400, minimum: 300 }),
    rr({ name: '_acme-challenge.example.org', type: RRType.TXT, data: ['part one', 'part two'] }),
    rr({ name: 'www.example.org', type: RRType.CNAME, domain: 'Galaxy.example.org' }),
    rr({ name: 'example.org', type: RRType.CAA, flags: 128, tag: 'issue', value: 'letsencrypt.org' }),
  ];
  p.authorities = [rr({ name: 'example.org', type: RRType.NS, ns: 'ns1.example.org' })];
  p.additionals = [
    rr({ name: 'ns1.example.org', type: RRType.A, address: '192.0.2.53' }),
    rr({ name: 'ns1.example.org', type: RRType.AAAA, address: '2001:db8::53' }),
  ];
  return p.toBuffer();
}

describe('buildQuery', () => {
  it('encodes one question, no recursion by default, and a given id', () => {
    const buf = buildQuery('_Acme-Challenge.Example.org.', RRType.TXT, { id: 0xbeef });
    const msg = parseMessage(buf);
    expect(msg).toMatchObject({ id: 0xbeef, qr: false, opcode: 0, rd: false, answers: [], authorities: [], additionals: [] });
    expect(msg.questions).toEqual([{ name: '_acme-challenge.example.org', type: RRType.TXT, class: RRClass.IN }]);
    expect(parseMessage(buildQuery('example.org', RRType.NS, { recursionDesired: true })).rd).toBe(true);
  });

  it('sets the CD bit only when asked (flags word 0x0010)', () => {
    expect(buildQuery('example.org', RRType.SOA, { recursionDesired: true, checkingDisabled: true }).readUInt16BE(2) & 0x0010).toBe(0x0010);
    expect(buildQuery('example.org', RRType.SOA, { recursionDesired: true }).readUInt16BE(2) & 0x0010).toBe(0);
  });

  it('draws ids at random', () => {
    const ids = new Set(Array.from({ length: 64 }, () => buildQuery('example.org', RRType.A).readUInt16BE(0)));
    expect(ids.size).toBeGreaterThan(50);
  });

  it('rejects names it cannot encode', () => {
    expect(() => buildQuery('bücher.example', RRType.A)).toThrow(GxitError);
    expect(() => buildQuery(`${'a'.repeat(64)}.example`, RRType.A)).toThrow(/not a valid domain name/);
    expect(() => buildQuery('a..example', RRType.A)).toThrow(/not a valid domain name/);
  });
});

describe('parseMessage', () => {
  it('decodes every record type into plain data', () => {
    const msg = parseMessage(response());
    expect(msg).toMatchObject({ id: 0x1234, qr: true, aa: true, tc: false, rcode: 0 });
    expect(msg.questions).toEqual([{ name: 'example.org', type: RRType.SOA, class: RRClass.IN }]);
    expect(msg.answers).toEqual([
      {
        name: 'example.org',
        type: RRType.SOA,
        class: RRClass.IN,
        ttl: 60,
        data: { mname: 'ns1.example.org', rname: 'hostmaster.example.org', serial: 2026110101, refresh: 3600, retry: 600, expire: 86400, minimum: 300 },
      },
      { name: '_acme-challenge.example.org', type: RRType.TXT, class: RRClass.IN, ttl: 60, data: ['part one', 'part two'] },
      { name: 'www.example.org', type: RRType.CNAME, class: RRClass.IN, ttl: 60, data: 'galaxy.example.org' },
      { name: 'example.org', type: RRType.CAA, class: RRClass.IN, ttl: 60, data: { flags: 128, tag: 'issue', value: 'letsencrypt.org' } },
    ]);
    expect(msg.authorities).toEqual([{ name: 'example.org', type: RRType.NS, class: RRClass.IN, ttl: 60, data: 'ns1.example.org' }]);
    expect(msg.additionals.map((r) => r.data)).toEqual(['192.0.2.53', '2001:db8::53']);
    expect(txtValues(msg.answers, '_acme-challenge.example.org')).toEqual(['part onepart two']);
  });

  it('keeps unknown types as raw rdata and reads the extended rcode from OPT', () => {
    const p = new Packet();
    p.header = new Packet.Header({ id: 7, qr: 1, rcode: 0x7 });
    p.questions = [new Packet.Question('example.org', 65, RRClass.IN)];
    p.answers = [new Packet.Resource({ name: 'example.org', type: 65, class: RRClass.IN, ttl: 5, data: Buffer.from([1, 2, 3]) as unknown as string })];
    const opt = Packet.Resource.EDNS([]);
    // extended rcode 1 -> rcode (1 << 4) | 7 = 23 (BADCOOKIE)
    p.additionals = [{ ...opt, name: '', ttl: 1 << 24 } as unknown as typeof opt];
    const msg = parseMessage(p.toBuffer());
    expect(msg.answers[0]?.data).toEqual(Buffer.from([1, 2, 3]));
    expect(msg.rcode).toBe(23);
    expect(rcodeName(msg.rcode)).toBe('BADCOOKIE');
  });

  it('rejects a truncated message instead of dropping records', () => {
    const buf = response();
    for (const cut of [5, 20, buf.length - 1, buf.length - 20]) {
      expect(() => parseMessage(buf.subarray(0, cut)), `cut at ${cut}`).toThrow(GxitError);
    }
    try {
      parseMessage(buf.subarray(0, buf.length - 3));
      expect.unreachable();
    } catch (error) {
      expect((error as GxitError).code).toBe('DNS_BAD_RESPONSE');
    }
  });

  it('rejects compression pointer loops and forward pointers', () => {
    const header = Buffer.alloc(12);
    header.writeUInt16BE(1, 4); // one question
    const loop = Buffer.concat([header, Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
    expect(() => readName(loop, 12)).toThrow(/compression pointer/);
    expect(() => parseMessage(loop)).toThrow(GxitError);
    const forward = Buffer.concat([header, Buffer.from([0xc0, 14, 0, 0, 1, 0, 1])]);
    expect(() => readName(forward, 12)).toThrow(/compression pointer/);
    const backward = Buffer.concat([header, Buffer.from([3, 0x6f, 0x72, 0x67, 0, 0, 1, 0, 1]), Buffer.from([0xc0, 12])]);
    expect(readName(backward, 21)).toEqual({ name: 'org', end: 23 });
  });
});

describe('buildUpdate', () => {
  const zone = 'example.org';
  const buf = buildUpdate(
    'Example.org.',
    {
      add: [
        { name: '_acme-challenge.example.org', value: 'base-value', ttl: 60 },
        { name: '_acme-challenge.example.org', value: 'wildcard-value', ttl: 60 },
      ],
      remove: [{ name: '_acme-challenge.sub.example.org', value: 'old-value' }],
    },
    { id: 0x4242 },
  );

  it('has the RFC 2136 header: opcode UPDATE, one zone, no prerequisites, three updates', () => {
    expect(buf.readUInt16BE(0)).toBe(0x4242);
    expect(buf.readUInt16BE(2)).toBe(5 << 11); // QR 0, opcode 5, all flags 0
    expect([buf.readUInt16BE(4), buf.readUInt16BE(6), buf.readUInt16BE(8), buf.readUInt16BE(10)]).toEqual([1, 0, 3, 0]);
  });

  it('has zone SOA IN, deletes as class NONE TTL 0 with the exact value, adds as class IN', () => {
    const scanned = scanMessage(buf);
    expect(scanned.questions).toEqual([{ name: zone, type: RRType.SOA, class: RRClass.IN }]);
    const updates = scanned.records.map((r) => ({ section: r.section, name: r.name, type: r.type, class: r.class, ttl: r.ttl }));
    expect(updates).toEqual([
      { section: 'authority', name: '_acme-challenge.sub.example.org', type: RRType.TXT, class: RRClass.NONE, ttl: 0 },
      { section: 'authority', name: '_acme-challenge.example.org', type: RRType.TXT, class: RRClass.IN, ttl: 60 },
      { section: 'authority', name: '_acme-challenge.example.org', type: RRType.TXT, class: RRClass.IN, ttl: 60 },
    ]);
    expect(scanned.records.every((r) => r.class !== RRClass.ANY)).toBe(true);
    const rdata = scanned.records.map((r) => buf.subarray(r.rdataStart, r.end).toString('latin1'));
    expect(rdata).toEqual(['\x09old-value', '\x0abase-value', '\x0ewildcard-value']);
    expect(parseMessage(buf).authorities.map((r) => r.data)).toEqual([['old-value'], ['base-value'], ['wildcard-value']]);
  });

  it('splits values longer than 255 octets into character-strings', () => {
    const long = 'x'.repeat(300);
    const msg = parseMessage(buildUpdate(zone, { add: [{ name: zone, value: long, ttl: 1 }], remove: [] }));
    expect(msg.authorities[0]?.data).toEqual(['x'.repeat(255), 'x'.repeat(45)]);
  });

  it('refuses names outside the zone', () => {
    expect(() => buildUpdate(zone, { add: [{ name: 'example.com', value: 'v', ttl: 1 }], remove: [] })).toThrow(/not inside zone example.org/);
    expect(() => buildUpdate(zone, { add: [{ name: 'badexample.org', value: 'v', ttl: 1 }], remove: [] })).toThrow(GxitError);
  });
});

describe('names', () => {
  it('encodes canonical names uncompressed and lower case', () => {
    expect(encodeCanonicalName('Key.Example.')).toEqual(Buffer.from('\x03key\x07example\x00', 'latin1'));
    expect(encodeCanonicalName('')).toEqual(Buffer.from([0]));
  });
});
