import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TsigAlgorithm, TsigKey } from '../../../src/config/types.js';
import { buildQuery, buildUpdate, encodeCanonicalName, parseMessage, RCode, RRType, scanMessage } from '../../../src/dns/message.js';
import { computeMac, parseAlgorithm, signMessage, TSIG_ALGORITHMS, unsignedPart, verifyMessage, verifyResponse } from '../../../src/dns/tsig.js';
import { bindAlgorithm, keyStatement, makeKey, run, udpServer } from './lab.js';

const T = 1_790_000_000;

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** The message with another MAC in its TSIG record (rdata length adjusted). */
function replaceMac(message: Buffer, mac: Buffer): Buffer {
  const span = scanMessage(message).records.at(-1)!;
  const tsig = parseMessage(message).tsig!;
  const macAt = span.rdataStart + encodeCanonicalName(tsig.algorithm).length + 10;
  const rdata = Buffer.concat([message.subarray(span.rdataStart, macAt - 2), u16(mac.length), mac, message.subarray(macAt + tsig.mac.length, span.end)]);
  return Buffer.concat([message.subarray(0, span.rdataStart - 2), u16(rdata.length), rdata]);
}

describe('parseAlgorithm', () => {
  it.each([
    ['hmac-sha256', 'hmac-sha256'],
    ['HMAC-SHA512', 'hmac-sha512'],
    ['hmac-sha512.', 'hmac-sha512'],
    [' hmac-sha1 ', 'hmac-sha1'],
    ['hmac-sha224', 'hmac-sha224'],
    ['Hmac-Sha384.', 'hmac-sha384'],
    ['hmac-md5', 'hmac-md5.sig-alg.reg.int'],
    ['HMAC-MD5.', 'hmac-md5.sig-alg.reg.int'],
    ['HMAC-MD5.SIG-ALG.REG.INT', 'hmac-md5.sig-alg.reg.int'],
    ['hmac-md5.sig-alg.reg.int.', 'hmac-md5.sig-alg.reg.int'],
  ])('%s -> %s', (text, expected) => {
    expect(parseAlgorithm(text)).toBe(expected);
  });

  it.each(['sha256', 'hmac-sha3', 'hmac-sha256..', '', 'gss-tsig'])('rejects %j', (text) => {
    expect(parseAlgorithm(text)).toBeUndefined();
  });
});

describe('signMessage / verifyResponse', () => {
  const key: TsigKey = { name: 'gxit.key.example', algorithm: 'hmac-sha256', secret: Buffer.from('0123456789abcdef0123456789abcdef') };
  const request = buildUpdate('example.org', { add: [{ name: '_acme-challenge.example.org', value: 'v', ttl: 60 }], remove: [] }, { id: 0x1111 });

  /** A server's reply to `signedRequest`: same id and zone, QR set, signed over the request MAC. */
  function reply(requestMac: Buffer, opts: { rcode?: number; time?: number; error?: number; replyKey?: TsigKey; mac?: 'empty' } = {}): Buffer {
    const body = Buffer.from(request.subarray(0, scanMessage(request).records[0]?.start));
    body.writeUInt16BE(0x8000 | (5 << 11) | (opts.rcode ?? 0), 2);
    body.writeUInt16BE(0, 8);
    const { signed } = signMessage(body, opts.replyKey ?? key, { requestMac, timeSigned: opts.time ?? T, error: opts.error });
    // BADSIG/BADKEY replies carry a TSIG record with an empty MAC.
    return opts.mac === 'empty' ? replaceMac(signed, Buffer.alloc(0)) : signed;
  }

  it('appends one TSIG record, ARCOUNT+1, and keeps the original id', () => {
    const { signed, requestMac } = signMessage(request, key, { timeSigned: T, fudge: 300 });
    expect(signed.subarray(0, request.length).subarray(12)).toEqual(request.subarray(12));
    expect(signed.readUInt16BE(10)).toBe(1);
    const tsig = parseMessage(signed).tsig!;
    expect(tsig).toMatchObject({ keyName: key.name, algorithm: 'hmac-sha256', timeSigned: T, fudge: 300, originalId: 0x1111, error: 0, offset: request.length });
    expect(tsig.mac).toEqual(requestMac);
    expect(requestMac.length).toBe(32);
    // the key name follows the message uncompressed, although example.org appeared before
    expect(signed.subarray(request.length, request.length + 18)).toEqual(Buffer.from('\x04gxit\x03key\x07example\x00', 'latin1'));
    expect(verifyMessage(signed, key, { now: T })).toMatchObject({ ok: true });
  });

  it('verifies a reply signed over our request MAC', () => {
    const { requestMac } = signMessage(request, key, { timeSigned: T });
    expect(verifyResponse(reply(requestMac), key, requestMac, { now: T + 10 })).toMatchObject({ ok: true });
  });

  it('rejects a reply whose MAC covers another request MAC', () => {
    const { requestMac } = signMessage(request, key, { timeSigned: T });
    const other = Buffer.alloc(32, 7);
    expect(verifyResponse(reply(other), key, requestMac, { now: T })).toMatchObject({ ok: false, reason: 'badsig' });
  });

  it('rejects a tampered reply and a reply signed with another secret', () => {
    const { requestMac } = signMessage(request, key, { timeSigned: T });
    const tampered = reply(requestMac);
    tampered[3] = (tampered[3] as number) | 0x05; // rcode REFUSED
    expect(verifyResponse(tampered, key, requestMac, { now: T })).toMatchObject({ ok: false, reason: 'badsig' });
    const wrongSecret = { ...key, secret: Buffer.from('another secret') };
    expect(verifyResponse(reply(requestMac, { replyKey: wrongSecret }), key, requestMac, { now: T })).toMatchObject({ ok: false, reason: 'badsig' });
  });

  it('rejects a reply signed with another key name or algorithm', () => {
    const { requestMac } = signMessage(request, key, { timeSigned: T });
    expect(verifyResponse(reply(requestMac, { replyKey: { ...key, name: 'other.key' } }), key, requestMac, { now: T })).toMatchObject({ ok: false, reason: 'badkey' });
    expect(verifyResponse(reply(requestMac, { replyKey: { ...key, algorithm: 'hmac-sha512' } }), key, requestMac, { now: T })).toMatchObject({
      ok: false,
      reason: 'badkey',
    });
  });

  it('checks the time against the fudge', () => {
    const { requestMac } = signMessage(request, key, { timeSigned: T });
    expect(verifyResponse(reply(requestMac, { time: T }), key, requestMac, { now: T + 300 })).toMatchObject({ ok: true });
    expect(verifyResponse(reply(requestMac, { time: T }), key, requestMac, { now: T + 301 })).toMatchObject({ ok: false, reason: 'badtime' });
    expect(verifyResponse(reply(requestMac, { time: T }), key, requestMac, { now: T - 301 })).toMatchObject({ ok: false, reason: 'badtime' });
  });

  it('reports TSIG errors from the server, signed (BADTIME) or with an empty MAC (BADSIG)', () => {
    const { requestMac } = signMessage(request, key, { timeSigned: T });
    expect(verifyResponse(reply(requestMac, { rcode: RCode.NOTAUTH, error: RCode.BADTIME }), key, requestMac, { now: T })).toMatchObject({
      ok: false,
      reason: 'badtime',
      tsigError: RCode.BADTIME,
    });
    const badsig = reply(requestMac, { rcode: RCode.NOTAUTH, error: RCode.BADSIG, mac: 'empty' });
    expect(parseMessage(badsig).tsig?.mac.length).toBe(0);
    expect(verifyResponse(badsig, key, requestMac, { now: T })).toMatchObject({ ok: false, reason: 'badsig', tsigError: RCode.BADSIG });
  });

  it('says unsigned for a reply without TSIG', () => {
    const { requestMac } = signMessage(request, key, { timeSigned: T });
    expect(verifyResponse(buildQuery('example.org', RRType.SOA), key, requestMac)).toMatchObject({ ok: false, reason: 'unsigned' });
  });

  it('accepts a MAC truncated to the RFC minimum, no shorter', () => {
    const { requestMac } = signMessage(request, key, { timeSigned: T });
    const full = reply(requestMac);
    const mac = parseMessage(full).tsig!.mac;
    const truncate = (size: number): Buffer => replaceMac(full, mac.subarray(0, size));
    expect(verifyResponse(truncate(16), key, requestMac, { now: T })).toMatchObject({ ok: true });
    expect(verifyResponse(truncate(15), key, requestMac, { now: T })).toMatchObject({ ok: false, reason: 'badtrunc' });
  });
});

/**
 * Known answers from BIND: nsupdate signs an UPDATE and sends it to a UDP server of ours. We
 * recompute its signature byte for byte, and answer with a reply signed by our code, which
 * nsupdate must accept (it exits non-zero on "tsig verify failure").
 */
describe('TSIG against nsupdate', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gxit-tsig-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const script = (port: number): string =>
    [
      `server 127.0.0.1 ${port}`,
      'zone example.org',
      'update delete _acme-challenge.example.org TXT "old-value"',
      'update add _acme-challenge.example.org 60 TXT "base-value"',
      'update add _acme-challenge.sub.example.org 60 TXT "other-value"',
      'send',
      '',
    ].join('\n');

  async function exchangeWithNsupdate(key: TsigKey, keyArgs: string[], answer = true) {
    const verdicts: ReturnType<typeof verifyMessage>[] = [];
    const server = await udpServer((request) => {
      const verdict = verifyMessage(request, key);
      verdicts.push(verdict);
      if (!answer || !verdict.ok) return undefined;
      const unsigned = unsignedPart(request, verdict.tsig);
      const body = Buffer.from(unsigned.subarray(0, scanMessage(unsigned).records[0]?.start));
      body.writeUInt16BE(0x8000 | (5 << 11), 2);
      body.writeUInt16BE(0, 8);
      return signMessage(body, key, { requestMac: verdict.tsig.mac }).signed;
    });
    try {
      const result = await run('nsupdate', ['-t', '3', '-u', '1', '-r', '0', ...keyArgs], script(server.port));
      return { result, request: server.received[0], verdicts };
    } finally {
      await server.close();
    }
  }

  const cases = TSIG_ALGORITHMS.flatMap((algorithm): [TsigAlgorithm, 'y' | 'k'][] =>
    algorithm === 'hmac-sha512' || algorithm === 'hmac-md5.sig-alg.reg.int' ? [[algorithm, 'y'], [algorithm, 'k']] : [[algorithm, 'y']],
  );

  it.each(cases)('%s (nsupdate -%s)', async (algorithm, mode) => {
    const key = makeKey(`gxit-${mode}.${bindAlgorithm(algorithm)}.key.example`, algorithm, 48);
    let keyArgs: string[];
    if (mode === 'y') {
      keyArgs = ['-y', `${bindAlgorithm(algorithm)}:${key.name}:${key.secret.toString('base64')}`];
    } else {
      const file = join(dir, `${algorithm}.key`);
      await writeFile(file, keyStatement(key), { mode: 0o600 });
      keyArgs = ['-k', file];
    }
    const { result, request, verdicts } = await exchangeWithNsupdate(key, keyArgs);
    expect(request, result.stderr).toBeDefined();
    const sent = request as Buffer;
    const tsig = parseMessage(sent).tsig!;
    expect(tsig.keyName).toBe(key.name);
    expect(parseAlgorithm(tsig.algorithm)).toBe(algorithm);

    // 1. Our signature over nsupdate's unsigned message, at its time and fudge, is its message.
    const unsigned = unsignedPart(sent, tsig);
    expect(signMessage(unsigned, key, { timeSigned: tsig.timeSigned, fudge: tsig.fudge }).signed.toString('hex')).toBe(sent.toString('hex'));
    expect(computeMac(unsigned, key, { timeSigned: tsig.timeSigned, fudge: tsig.fudge, error: 0, otherData: Buffer.alloc(0) })).toEqual(tsig.mac);
    expect(verdicts[0]).toMatchObject({ ok: true });
    // ... and a different secret gives a different MAC (the comparison above can fail).
    expect(verifyMessage(sent, { ...key, secret: Buffer.from('not the secret') })).toMatchObject({ ok: false, reason: 'badsig' });

    // 2. nsupdate accepted the reply we signed over its request MAC.
    expect(result.stderr).not.toMatch(/tsig|error|failed/i);
    expect(result.code).toBe(0);

    // 3. Our UPDATE says what nsupdate's says: same header and zone section bytes, same records
    //    with the same rdata bytes. (Name compression differs: BIND leaves
    //    _acme-challenge.sub.example.org uncompressed where dns2 points at example.org.)
    const ours = buildUpdate(
      'example.org',
      {
        remove: [{ name: '_acme-challenge.example.org', value: 'old-value' }],
        add: [
          { name: '_acme-challenge.example.org', value: 'base-value', ttl: 60 },
          { name: '_acme-challenge.sub.example.org', value: 'other-value', ttl: 60 },
        ],
      },
      { id: tsig.originalId },
    );
    const layout = (buf: Buffer) => {
      const scanned = scanMessage(buf);
      return {
        head: buf.subarray(0, scanned.records[0]?.start).toString('hex'),
        records: scanned.records.map((r) => [r.section, r.name, r.type, r.class, r.ttl, buf.subarray(r.rdataStart, r.end).toString('hex')]),
      };
    };
    expect(layout(ours)).toEqual(layout(unsigned));
    expect(layout(ours).records).toHaveLength(3);
  });

  it('nsupdate rejects a reply signed with a wrong MAC (the acceptance above means something)', async () => {
    const key = makeKey('gxit-neg.key.example', 'hmac-sha256');
    const server = await udpServer((request) => {
      const verdict = verifyMessage(request, key);
      if (!verdict.ok) return undefined;
      const unsigned = unsignedPart(request, verdict.tsig);
      const body = Buffer.from(unsigned.subarray(0, scanMessage(unsigned).records[0]?.start));
      body.writeUInt16BE(0x8000 | (5 << 11), 2);
      body.writeUInt16BE(0, 8);
      // signed without the request MAC: a plausible bug, which nsupdate must catch
      return signMessage(body, key).signed;
    });
    try {
      const result = await run('nsupdate', ['-t', '3', '-u', '1', '-r', '0', '-y', `hmac-sha256:${key.name}:${key.secret.toString('base64')}`], script(server.port));
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/tsig/i);
    } finally {
      await server.close();
    }
  });
});
