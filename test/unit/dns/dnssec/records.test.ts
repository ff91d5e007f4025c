import { describe, expect, it } from 'vitest';
import { nsec3Hash, nsecProof, nsec3Proof } from '../../../../src/dns/dnssec/denial.js';
import { base32hex, compareNames, covers, keyTag, labelCount, parseDnskey, parseNsec3, parseTypeBitmap } from '../../../../src/dns/dnssec/records.js';
import { serialTime, signatureTime } from '../../../../src/dns/dnssec/verify.js';
import { parseRrsig } from '../../../../src/dns/dnssec/records.js';

describe('records', () => {
  it('spells base32hex as NSEC3 owners do (RFC 4648 §10 vectors, lower case, no padding)', () => {
    expect(['', 'f', 'fo', 'foo', 'foob', 'fooba', 'foobar'].map((s) => base32hex(Buffer.from(s)))).toEqual(['', 'co', 'cpng', 'cpnmu', 'cpnmuog', 'cpnmuoj1', 'cpnmuoj1e8']);
  });

  it('hashes names as RFC 5155 Appendix A does (salt aabbccdd, 12 iterations)', () => {
    const salt = Buffer.from('aabbccdd', 'hex');
    expect(nsec3Hash('example', salt, 12)).toBe('0p9mhaveqvm6t7vbl5lop2u3t2rp3tom');
    expect(nsec3Hash('a.example', salt, 12)).toBe('35mthgpgcu1qg68fab165klnsnk3dpvl');
    expect(nsec3Hash('*.w.example', salt, 12)).toBe('r53bq7cc2uvmubfu5ocmm6pers9tk9en');
  });

  it('orders names canonically (RFC 4034 §6.1 example)', () => {
    const ordered = ['example', 'a.example', 'yljkjljk.a.example', 'Z.a.example', 'zABC.a.EXAMPLE', 'z.example', '\u0001.z.example', '*.z.example', '\u00c8.z.example'];
    const shuffled = [...ordered].reverse();
    expect(shuffled.sort(compareNames)).toEqual(ordered);
  });

  it('covers names between owner and next, the last NSEC wrapping around to the apex', () => {
    expect(covers('a.example', 'c.example', 'b.example')).toBe(true);
    expect(covers('a.example', 'c.example', 'a.example')).toBe(false);
    expect(covers('a.example', 'c.example', 'd.example')).toBe(false);
    expect(covers('z.example', 'example', 'zz.example')).toBe(true);
    expect(covers('z.example', 'example', 'b.example')).toBe(false);
  });

  it('counts RRSIG labels without a leading wildcard', () => {
    expect([labelCount(''), labelCount('example'), labelCount('a.b.example'), labelCount('*.b.example')]).toEqual([0, 1, 3, 2]);
  });

  it('reads type bitmaps across windows (RFC 4034 §4.3 example: A MX RRSIG NSEC TYPE1234)', () => {
    const bitmap = Buffer.from('0006400100000003041b000000000000000000000000000000000000000000000000000020', 'hex');
    expect([...parseTypeBitmap(bitmap, 0)].sort((a, b) => a - b)).toEqual([1, 15, 46, 47, 1234]);
  });

  it('computes the key tag of the RFC 4034 §5.4 example key (60485)', () => {
    const key = Buffer.from(
      'AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/rljwvFw==',
      'base64',
    );
    const rdata = Buffer.concat([Buffer.from([0x01, 0x00, 3, 5]), key]);
    expect(keyTag(rdata)).toBe(60485);
    expect(parseDnskey(rdata)).toMatchObject({ flags: 256, protocol: 3, algorithm: 5, keyTag: 60485 });
  });

  it('compares signature times with serial arithmetic around now', () => {
    const now = 2 ** 32 + 100; // after the 2106 wrap
    expect(serialTime(50, now)).toBe(2 ** 32 + 50);
    expect(serialTime(2 ** 32 - 10, now)).toBe(2 ** 32 - 10);
    const sig = (inception: number, expiration: number) => parseRrsig(rrsigRdata(inception, expiration));
    const t = 1_800_000_000;
    expect(signatureTime(sig(t - 10, t + 10), t)).toBe('valid');
    expect(signatureTime(sig(t - 20, t - 10), t)).toBe('expired');
    expect(signatureTime(sig(t + 10, t + 20), t)).toBe('not-yet-valid');
  });
});

function rrsigRdata(inception: number, expiration: number): Buffer {
  const head = Buffer.alloc(18);
  head.writeUInt16BE(1, 0);
  head[2] = 13;
  head[3] = 2;
  head.writeUInt32BE(60, 4);
  head.writeUInt32BE(expiration >>> 0, 8);
  head.writeUInt32BE(inception >>> 0, 12);
  head.writeUInt16BE(1234, 16);
  return Buffer.concat([head, Buffer.from([7, ...Buffer.from('example'), 0]), Buffer.alloc(64)]);
}

describe('denial proofs (pure, RFC 5155 Appendix B)', () => {
  // The zone of RFC 5155 Appendix A: salt aabbccdd, 12 iterations.
  const nsec3 = (owner: string, next: string, types: number[]) => ({
    owner: `${owner}.example`,
    data: { ...parseNsec3(Buffer.from(`0100000c04aabbccdd14${'00'.repeat(20)}`, 'hex')), next, types: new Set(types) },
  });

  it('proves NXDOMAIN with the closest encloser, next closer and wildcard (B.1: a.c.x.w.example)', () => {
    const records = [
      nsec3('0p9mhaveqvm6t7vbl5lop2u3t2rp3tom', '2t7b4g4vsa5smi47k61mv5bv1a22bojr', [15, 1, 2, 6, 46, 48, 51]),
      nsec3('b4um86eghhds6nea196smvmlo4ors995', 'gjeqe526plbf1g8mklp59enfd789njgi', [15, 46]),
      nsec3('35mthgpgcu1qg68fab165klnsnk3dpvl', 'b4um86eghhds6nea196smvmlo4ors995', [15, 46]),
    ];
    expect(nsec3Proof('a.c.x.w.example', 1, records, 'example')).toEqual({ ok: true, proof: 'NSEC3', what: 'nxdomain' });
    // Without the record covering the wildcard *.x.w.example the proof is incomplete.
    expect(nsec3Proof('a.c.x.w.example', 1, records.slice(0, 2), 'example')).toMatchObject({ ok: false, message: 'no NSEC3 record proves that the wildcard *.x.w.example does not exist' });
  });

  it('proves NODATA with a matching NSEC3 without the type (B.2: ns1.example MX)', () => {
    const records = [nsec3('2t7b4g4vsa5smi47k61mv5bv1a22bojr', '2vptu5timamqttgl4luu9kg21e0aor3s', [1, 46])];
    expect(nsec3Proof('ns1.example', 15, records, 'example')).toEqual({ ok: true, proof: 'NSEC3', what: 'nodata' });
    expect(nsec3Proof('ns1.example', 1, records, 'example')).toMatchObject({ ok: false });
  });

  it('proves NXDOMAIN and NODATA with NSEC', () => {
    const nsec = (owner: string, next: string, types: number[]) => ({ owner, data: { next, types: new Set(types) } });
    const apex = nsec('example', 'b.example', [2, 6, 46, 47, 48]);
    const b = nsec('b.example', 'example', [1, 46, 47]);
    expect(nsecProof('a.example', 16, [apex])).toEqual({ ok: true, proof: 'NSEC', what: 'nxdomain' });
    expect(nsecProof('b.example', 16, [b])).toEqual({ ok: true, proof: 'NSEC', what: 'nodata' });
    expect(nsecProof('b.example', 1, [b])).toMatchObject({ ok: false });
    expect(nsecProof('c.b.example', 16, [apex])).toMatchObject({ ok: false, message: 'no NSEC record covers c.b.example' });
  });
});
