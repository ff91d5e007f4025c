import { Packet } from 'dns2';
import { describe, expect, it } from 'vitest';
import type { ServerAddress, TsigKey } from '../../../../../src/config/types.js';
import type { Rfc2136Config } from '../../../../../src/dns/providers/rfc2136/settings.js';
import { GxitError } from '../../../../../src/errors.js';
import { isInZone, Opcode, parseMessage, RCode, RRClass, RRType } from '../../../../../src/dns/message.js';
import { createRfc2136Provider } from '../../../../../src/dns/providers/rfc2136/provider.js';
import type { ExchangeFn } from '../../../../../src/dns/transport.js';
import { signMessage, verifyMessage } from '../../../../../src/dns/tsig.js';
import { emptyMac, rejection } from '../../wire-helpers.js';
import { udpServer } from '../../lab.js';

/** A signal that never fires: the run is not interrupted. */
const NEVER = new AbortController().signal;

const KEY: TsigKey = { name: 'acme.key.example', algorithm: 'hmac-sha256', secret: Buffer.from('c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0', 'base64') };
const SERVER: ServerAddress = { host: '192.0.2.53', port: 53 };
const NOW = 1_790_000_000_000;

/**
 * A protocol-true fake of an authoritative primary: answers SOA queries for its zones, verifies
 * TSIG on UPDATEs (BADKEY/BADSIG like BIND), applies class IN adds and class NONE deletes, and
 * signs its replies over the request MAC. Misbehaviours are switched on per test.
 */
class FakePrimary {
  readonly records = new Map<string, Set<string>>();
  readonly updates: ReturnType<typeof parseMessage>[] = [];
  readonly queries: string[] = [];
  misbehave: {
    unsigned?: boolean;
    signWith?: TsigKey;
    rcode?: number;
    /** Only this zone fails with `rcode`. */
    rcodeZone?: string;
    /** Milliseconds before an update to this zone is applied and answered. */
    slowZone?: [string, number];
    loseReplyOnce?: boolean;
  } = {};

  constructor(
    readonly zones: string[],
    readonly key: TsigKey | null = KEY,
  ) {}

  values(name: string): string[] {
    return [...(this.records.get(name) ?? [])].sort();
  }

  readonly exchange: ExchangeFn = async (server, request) => {
    expect(server).toEqual(SERVER);
    const msg = parseMessage(request);
    const q = msg.questions[0]!;
    if (msg.opcode === Opcode.QUERY) {
      this.queries.push(q.name);
      return this.soaReply(request, q.name);
    }
    this.updates.push(msg);
    let rcode = 0;
    let tsigError = 0;
    let requestMac: Buffer | undefined;
    if (this.key) {
      const verdict = verifyMessage(request, this.key, { now: NOW / 1000 });
      if (!verdict.ok) {
        // As BIND: NOTAUTH with the TSIG error in the reply's TSIG record.
        rcode = RCode.NOTAUTH;
        tsigError = verdict.reason === 'badkey' ? RCode.BADKEY : verdict.reason === 'badtime' ? RCode.BADTIME : RCode.BADSIG;
      } else {
        requestMac = verdict.tsig.mac;
      }
    }
    if (rcode === 0 && !this.zones.includes(q.name)) rcode = RCode.NOTAUTH;
    if (rcode === 0 && this.misbehave.rcode && (this.misbehave.rcodeZone ?? q.name) === q.name) rcode = this.misbehave.rcode;
    if (this.misbehave.slowZone?.[0] === q.name) await new Promise((resolve) => setTimeout(resolve, this.misbehave.slowZone?.[1]));
    if (rcode === 0) {
      for (const rr of msg.authorities) {
        if (!isInZone(rr.name, q.name)) throw new Error(`update outside zone: ${rr.name}`);
        const value = (rr.data as string[]).join('');
        const set = this.records.get(rr.name) ?? new Set<string>();
        if (rr.class === RRClass.IN) set.add(value);
        else if (rr.class === RRClass.NONE) set.delete(value);
        else throw new Error(`unexpected class ${rr.class}`);
        this.records.set(rr.name, set);
      }
    }
    const head = Buffer.from(request.subarray(0, 12));
    head.writeUInt16BE(0x8000 | (Opcode.UPDATE << 11) | (rcode & 0xf), 2);
    head.writeUInt16BE(1, 4);
    head.writeUInt16BE(0, 6);
    head.writeUInt16BE(0, 8);
    head.writeUInt16BE(0, 10);
    const zoneSection = encodeQuestion(q.name);
    const reply = Buffer.concat([head, zoneSection]);
    if (this.misbehave.loseReplyOnce) {
      this.misbehave.loseReplyOnce = false;
      throw new GxitError('DNS_TIMEOUT', 'no reply (lost)');
    }
    if (!this.key || this.misbehave.unsigned) return reply;
    if (tsigError === RCode.BADTIME) {
      // Signed over the request MAC, with the server's clock in other data (RFC 8945 §5.2.3).
      const clock = Buffer.alloc(6);
      clock.writeUIntBE(NOW / 1000, 0, 6);
      const mac = parseMessage(request).tsig!.mac;
      return signMessage(reply, this.key, { timeSigned: NOW / 1000, error: tsigError, otherData: clock, requestMac: mac }).signed;
    }
    if (tsigError) return emptyMac(signMessage(reply, this.key, { timeSigned: NOW / 1000, error: tsigError }).signed);
    return signMessage(reply, this.misbehave.signWith ?? this.key, { requestMac, timeSigned: NOW / 1000 }).signed;
  };

  private soaReply(request: Buffer, name: string): Buffer {
    const p = new Packet();
    const inZone = this.zones.filter((z) => isInZone(name, z)).sort((a, b) => b.length - a.length)[0];
    p.header = new Packet.Header({ id: request.readUInt16BE(0), qr: 1, aa: inZone ? 1 : 0, rcode: inZone ? 0 : RCode.REFUSED });
    p.questions = [new Packet.Question(name, RRType.SOA, RRClass.IN)];
    const soa = new Packet.Resource({
      name: inZone,
      type: RRType.SOA,
      class: RRClass.IN,
      ttl: 60,
      primary: `ns1.${inZone}`,
      admin: `hostmaster.${inZone}`,
      serial: 1,
      refresh: 1,
      retry: 1,
      expiration: 1,
      minimum: 1,
    });
    if (inZone === name) p.answers = [soa];
    else if (inZone) p.authorities = [soa];
    return p.toBuffer();
  }
}

function encodeQuestion(name: string): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  return Buffer.concat([...labels, Buffer.from([0, 0, RRType.SOA, 0, RRClass.IN])]);
}

function config(overrides: Partial<Rfc2136Config> = {}): Rfc2136Config {
  return { servers: [SERVER], tsig: KEY, tcp: false, ttl: 60, timeoutMs: 1000, retries: 1, ...overrides };
}

const BASE = '_acme-challenge.example.org';
const SUB = '_acme-challenge.www.sub.example.org';

describe('rfc2136 provider', () => {
  it('sends one signed UPDATE per zone, found by SOA queries, and keeps foreign values', async () => {
    const fake = new FakePrimary(['example.org', 'sub.example.org']);
    fake.records.set(BASE, new Set(['foreign']));
    const provider = createRfc2136Provider(config(), { exchange: fake.exchange, now: () => NOW });
    expect(provider.name).toBe('rfc2136');
    await provider.present([
      { fqdn: BASE, value: 'base' },
      { fqdn: `${BASE}.`, value: 'wildcard' },
      { fqdn: SUB.toUpperCase(), value: 'sub' },
      { fqdn: BASE, value: 'base' }, // duplicate: sent once
    ], NEVER);
    expect(fake.updates.map((u) => u.questions[0]?.name).sort()).toEqual(['example.org', 'sub.example.org']);
    for (const u of fake.updates) expect(u.tsig?.timeSigned).toBe(NOW / 1000);
    const main = fake.updates.find((u) => u.questions[0]?.name === 'example.org')!;
    expect(main.authorities.map((r) => [r.name, r.class, r.ttl, r.data])).toEqual([
      [BASE, RRClass.IN, 60, ['base']],
      [BASE, RRClass.IN, 60, ['wildcard']],
    ]);
    expect(fake.values(BASE)).toEqual(['base', 'foreign', 'wildcard']);
    expect(fake.values(SUB)).toEqual(['sub']);

    await provider.cleanup([
      { fqdn: BASE, value: 'base' },
      { fqdn: BASE, value: 'wildcard' },
      { fqdn: SUB, value: 'sub' },
      { fqdn: SUB, value: 'never-added' },
    ], NEVER);
    expect(fake.values(BASE)).toEqual(['foreign']);
    expect(fake.values(SUB)).toEqual([]);
    const deletes = fake.updates.slice(2).flatMap((u) => u.authorities);
    expect(deletes.every((r) => r.class === RRClass.NONE && r.ttl === 0)).toBe(true);
    expect(fake.updates).toHaveLength(4);
  });

  it('queries every suffix once per name and caches the zone for the run', async () => {
    const fake = new FakePrimary(['example.org', 'sub.example.org']);
    const provider = createRfc2136Provider(config(), { exchange: fake.exchange, now: () => NOW });
    await provider.present([{ fqdn: SUB, value: 'v' }], NEVER);
    expect(fake.queries.sort()).toEqual(['_acme-challenge.www.sub.example.org', 'example.org', 'org', 'sub.example.org', 'www.sub.example.org']);
    await provider.cleanup([{ fqdn: SUB, value: 'v' }], NEVER);
    expect(fake.queries).toHaveLength(5);
    expect(fake.updates.map((u) => u.questions[0]?.name)).toEqual(['sub.example.org', 'sub.example.org']);
  });

  it('uses the configured zone without queries, and refuses names outside it', async () => {
    const fake = new FakePrimary(['example.org', 'sub.example.org']);
    const provider = createRfc2136Provider(config({ zone: 'Example.org.' }), { exchange: fake.exchange, now: () => NOW });
    await provider.present([{ fqdn: BASE, value: 'v' }], NEVER);
    expect(fake.queries).toEqual([]);
    const error = await rejection(provider.present([{ fqdn: '_acme-challenge.example.com', value: 'v' }], NEVER));
    expect(error.code).toBe('DNS_ZONE_NOT_FOUND');
    expect(error.message).toContain('example.com');
    expect(error.fix).toContain('dns.rfc2136.zone');
  });

  it('says DNS_ZONE_NOT_FOUND when the server holds no zone above the name', async () => {
    const fake = new FakePrimary(['example.net']);
    const provider = createRfc2136Provider(config(), { exchange: fake.exchange, now: () => NOW });
    const error = await rejection(provider.present([{ fqdn: BASE, value: 'v' }], NEVER));
    expect(error.code).toBe('DNS_ZONE_NOT_FOUND');
    expect(fake.updates).toHaveLength(0);
  });

  it('rejects an unsigned NOERROR reply to a signed update', async () => {
    const fake = new FakePrimary(['example.org']);
    fake.misbehave.unsigned = true;
    const provider = createRfc2136Provider(config({ zone: 'example.org' }), { exchange: fake.exchange, now: () => NOW });
    const error = await rejection(provider.present([{ fqdn: BASE, value: 'v' }], NEVER));
    expect(error.code).toBe('DNS_TSIG');
    expect(error.message).toMatch(/is not signed/);
  });

  it('rejects a reply signed with another secret', async () => {
    const fake = new FakePrimary(['example.org']);
    fake.misbehave.signWith = { ...KEY, secret: Buffer.from('forger') };
    const provider = createRfc2136Provider(config({ zone: 'example.org' }), { exchange: fake.exchange, now: () => NOW });
    const error = await rejection(provider.present([{ fqdn: BASE, value: 'v' }], NEVER));
    expect(error.code).toBe('DNS_TSIG');
    expect(error.message).toMatch(/does not verify/);
  });

  it('maps rcodes through the catalogue', async () => {
    const fake = new FakePrimary(['example.org']);
    fake.misbehave.rcode = RCode.REFUSED;
    const provider = createRfc2136Provider(config({ zone: 'example.org' }), { exchange: fake.exchange, now: () => NOW });
    const error = await rejection(provider.present([{ fqdn: BASE, value: 'v' }], NEVER));
    expect(error.code).toBe('DNS_RCODE');
    expect(error.message).toContain('REFUSED');
    expect(error.fix).toContain(`key ${KEY.name}`);
    expect(error.fix).toContain(BASE);
  });

  it('reports BADSIG with the key name and without the secret', async () => {
    const fake = new FakePrimary(['example.org']);
    const wrong = { ...KEY, secret: Buffer.from('the-wrong-secret-value') };
    const provider = createRfc2136Provider(config({ zone: 'example.org', tsig: wrong }), { exchange: fake.exchange, now: () => NOW });
    const error = await rejection(provider.present([{ fqdn: BASE, value: 'v' }], NEVER));
    expect(error.code).toBe('DNS_TSIG');
    expect(error.message).toContain('BADSIG');
    expect(error.message).toContain(KEY.name);
    const text = `${error.message} ${error.fix} ${error.subject}`;
    for (const secret of [wrong.secret, KEY.secret]) {
      expect(text).not.toContain(secret.toString('base64'));
      expect(text).not.toContain(secret.toString('utf8'));
      expect(text).not.toContain(secret.toString('hex'));
    }
  });

  it('reports BADKEY and BADTIME from the server', async () => {
    const fake = new FakePrimary(['example.org']);
    const unknown = createRfc2136Provider(config({ zone: 'example.org', tsig: { ...KEY, name: 'other.key' } }), { exchange: fake.exchange, now: () => NOW });
    expect((await rejection(unknown.present([{ fqdn: BASE, value: 'v' }], NEVER))).message).toContain('BADKEY');
    const skewed = createRfc2136Provider(config({ zone: 'example.org' }), { exchange: fake.exchange, now: () => NOW + 3_600_000 });
    const error = await rejection(skewed.present([{ fqdn: BASE, value: 'v' }], NEVER));
    expect(error.message).toContain('BADTIME');
    expect(error.fix).toContain('NTP');
  });

  it('works without a key (address-based authorization)', async () => {
    const fake = new FakePrimary(['example.org'], null);
    const provider = createRfc2136Provider(config({ tsig: undefined }), { exchange: fake.exchange, now: () => NOW });
    await provider.present([{ fqdn: BASE, value: 'v' }], NEVER);
    expect(fake.updates[0]?.tsig).toBeUndefined();
    expect(fake.values(BASE)).toEqual(['v']);
  });

  it('finishes every zone before reporting a failure in one', async () => {
    const fake = new FakePrimary(['example.org', 'sub.example.org']);
    fake.misbehave = { rcode: RCode.NOTAUTH, rcodeZone: 'sub.example.org', slowZone: ['example.org', 50] };
    const provider = createRfc2136Provider(config(), { exchange: fake.exchange, now: () => NOW });
    const error = await rejection(
      provider.present([
        { fqdn: BASE, value: 'v' },
        { fqdn: SUB, value: 'w' },
      ], NEVER),
    );
    expect(error.code).toBe('DNS_RCODE');
    expect(fake.values(BASE)).toEqual(['v']);
    await provider.cleanup([
      { fqdn: BASE, value: 'v' },
    ], NEVER);
    expect(fake.values(BASE)).toEqual([]);
  });

  it('does nothing for an empty batch', async () => {
    const fake = new FakePrimary(['example.org']);
    const provider = createRfc2136Provider(config(), { exchange: fake.exchange, now: () => NOW });
    await provider.present([], NEVER);
    await provider.cleanup([], NEVER);
    expect(fake.queries).toEqual([]);
    expect(fake.updates).toEqual([]);
  });

  describe('probe', () => {
    it('adds a unique value and removes it again', async () => {
      const fake = new FakePrimary(['example.org']);
      fake.records.set(BASE, new Set(['foreign']));
      const provider = createRfc2136Provider(config(), { exchange: fake.exchange, now: () => NOW });
      const result = await provider.probe!(BASE, { signal: NEVER });
      expect(result.ok).toBe(true);
      expect(result.detail).toMatch(/added and removed TXT "gxit-cert-probe-[0-9a-f]{16}" at _acme-challenge\.example\.org in zone example\.org via 192\.0\.2\.53:53 with key acme\.key\.example/);
      expect(fake.updates).toHaveLength(2);
      expect(fake.updates[0]?.authorities[0]?.class).toBe(RRClass.IN);
      expect(fake.updates[1]?.authorities[0]?.class).toBe(RRClass.NONE);
      expect(fake.values(BASE)).toEqual(['foreign']);
    });

    it('does not wait a second time for a server that never answered; the journal\'s removal takes the value away later', async () => {
      const fake = new FakePrimary(['example.org']);
      fake.misbehave.loseReplyOnce = true;
      const provider = createRfc2136Provider(config({ zone: 'example.org' }), { exchange: fake.exchange, now: () => NOW });
      const result = await provider.probe!(BASE, { signal: NEVER });
      expect(result.ok).toBe(false);
      expect(result.detail).toContain('never answered');
      // The add was applied (only its reply was lost), but no delete was sent into the silence.
      expect(fake.updates).toHaveLength(1);
      expect(fake.values(BASE)).toHaveLength(1);
      // What the next run does with the journaled value: a fresh provider removes it.
      const next = createRfc2136Provider(config({ zone: 'example.org' }), { exchange: fake.exchange, now: () => NOW });
      await next.removeLeftovers!([{ fqdn: BASE, value: fake.values(BASE)[0] as string }], NEVER);
      expect(fake.values(BASE)).toEqual([]);
    });

    it('runs whilePresent while the value is there, and removes it even when that throws', async () => {
      const fake = new FakePrimary(['example.org']);
      const provider = createRfc2136Provider(config({ zone: 'example.org' }), { exchange: fake.exchange, now: () => NOW });
      const seen: string[][] = [];
      const result = await provider.probe!(BASE, {
        signal: NEVER,
        whilePresent: async (record) => {
          seen.push(fake.values(record.fqdn));
          throw new Error('lookups failed');
        },
      });
      expect(seen).toEqual([[expect.stringMatching(/^gxit-cert-probe-[0-9a-f]{16}$/)]]);
      expect(fake.values(BASE)).toEqual([]);
      expect(result).toMatchObject({ ok: false, detail: expect.stringMatching(/^added and removed TXT .* but lookups failed$/) });
    });

    it('reports a refusal with its fix', async () => {
      const fake = new FakePrimary(['example.org']);
      fake.misbehave.rcode = RCode.REFUSED;
      const provider = createRfc2136Provider(config({ zone: 'example.org' }), { exchange: fake.exchange, now: () => NOW });
      const result = await provider.probe!(BASE, { signal: NEVER });
      expect(result).toMatchObject({ ok: false });
      expect(result.detail).toMatch(/REFUSED/);
      expect(result.fix).toMatch(/update-policy/);
    });
  });
});

describe('rfc2136 provider: cancellation', () => {
  /** The request with QR set: a NOERROR reply to an UPDATE. */
  const accepted = (request: Buffer): Buffer => {
    const reply = Buffer.from(request);
    reply.writeUInt16BE(request.readUInt16BE(2) | 0x8000, 2);
    return reply;
  };

  it('stops an UPDATE that gets no reply when the signal fires, and cleanup still removes its values', async () => {
    // A primary that reads the first UPDATE (the add) and never answers it, then answers the rest.
    const server = await udpServer((request, index) => (index === 0 ? undefined : accepted(request)));
    try {
      const cfg: Rfc2136Config = { servers: [{ host: "127.0.0.1", port: server.port }], zone: 'example.org', tcp: false, ttl: 60, timeoutMs: 5000, retries: 3 };
      const provider = createRfc2136Provider(cfg);
      const controller = new AbortController();
      const records = [{ fqdn: '_acme-challenge.galaxy.example.org', value: 'token-1' }];
      const pending = provider.present(records, controller.signal);
      while (server.received.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      const started = Date.now();
      controller.abort();
      await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
      // The attempts would take 15 s; the abort a few milliseconds (bound generous for a loaded machine).
      expect(Date.now() - started).toBeLessThan(3000);

      // The add may have reached the server: cleanup (with a signal of its own) deletes the value.
      await provider.cleanup(records, new AbortController().signal);
      expect(server.received).toHaveLength(2);
      const deletion = parseMessage(server.received[1]!);
      expect(deletion.opcode).toBe(Opcode.UPDATE);
      expect(deletion.authorities.map((rr) => [rr.name, rr.class])).toEqual([['_acme-challenge.galaxy.example.org', RRClass.NONE]]);
    } finally {
      await server.close();
    }
  });

  it('sends nothing once the signal has fired', async () => {
    const primary = new FakePrimary(['example.org'], null);
    const provider = createRfc2136Provider({ servers: [SERVER], tcp: false, ttl: 60, timeoutMs: 500, retries: 1 }, { exchange: primary.exchange });
    const controller = new AbortController();
    controller.abort();
    await expect(provider.present([{ fqdn: BASE, value: 'v' }], controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
    expect(primary.updates).toHaveLength(0);
    expect(primary.queries).toHaveLength(0);
  });

  it('passes a signal that follows the caller\'s to every exchange: zone lookups and updates', async () => {
    const primary = new FakePrimary(['example.org'], null);
    const signals: Array<AbortSignal | undefined> = [];
    const exchange: ExchangeFn = (server, request, opts) => {
      signals.push(opts?.signal);
      return primary.exchange(server, request, opts);
    };
    const provider = createRfc2136Provider({ servers: [SERVER], tcp: false, ttl: 60, timeoutMs: 500, retries: 1 }, { exchange });
    await provider.present([{ fqdn: BASE, value: 'v' }], NEVER);
    expect(primary.updates).toHaveLength(1);
    expect(signals.length).toBeGreaterThan(1); // SOA queries and the UPDATE
    expect(signals.every((s) => s instanceof AbortSignal)).toBe(true);

    // Aborting the caller's signal fires the one every exchange in flight got.
    const controller = new AbortController();
    const fired: boolean[] = [];
    const aborting: ExchangeFn = (server, request, opts) => {
      controller.abort();
      fired.push(opts?.signal?.aborted === true);
      return primary.exchange(server, request, opts);
    };
    const other = createRfc2136Provider({ servers: [SERVER], tcp: false, ttl: 60, timeoutMs: 500, retries: 1 }, { exchange: aborting });
    // (This fake exchange ignores signals; a real one rejects, see the loopback test above.)
    await other.present([{ fqdn: BASE, value: 'w' }], controller.signal).catch(() => undefined);
    expect(fired.length).toBeGreaterThan(0);
    expect(fired.every(Boolean)).toBe(true);
  });
});

describe('rfc2136 provider with several update servers', () => {
  const BASE = '_acme-challenge.galaxy.example.org';
  const SILENT: ServerAddress = { host: '192.0.2.1', port: 53 };
  const CLOSED: ServerAddress = { host: '192.0.2.2', port: 53 };

  /** Routes by address: a server that never answers, one that refuses connections, and the fake primary. */
  function network(fake: FakePrimary, log: string[]): ExchangeFn {
    return async (server, request, opts) => {
      log.push(`${server.host} ${parseMessage(request).opcode === Opcode.UPDATE ? 'update' : 'query'}`);
      if (server.host === SILENT.host) throw new GxitError('DNS_TIMEOUT', `no reply from DNS server ${server.host}:53`);
      if (server.host === CLOSED.host) throw new GxitError('DNS_UNREACHABLE', `DNS server ${server.host}:53 refused the UDP connection`);
      return fake.exchange(SERVER, request, opts);
    };
  }

  it('a host name gives every address; the first that accepts wins and cleanup goes only there', async () => {
    const fake = new FakePrimary(['example.org']);
    const log: string[] = [];
    const resolveHost = async (host: string): Promise<string[]> => (host === 'ns1.example.org' ? [SILENT.host, SERVER.host] : []);
    const provider = createRfc2136Provider(config({ servers: [{ host: 'ns1.example.org', port: 53 }], zone: 'example.org' }), {
      exchange: network(fake, log),
      now: () => NOW,
      resolveHost,
    });
    await provider.present([{ fqdn: BASE, value: 'v1' }], NEVER);
    expect(fake.values(BASE)).toEqual(['v1']);
    expect(log).toEqual(['192.0.2.1 update', '192.0.2.53 update']);
    log.length = 0;
    await provider.cleanup([{ fqdn: BASE, value: 'v1' }], NEVER);
    expect(fake.values(BASE)).toEqual([]);
    // The silent address is not asked again.
    expect(log).toEqual(['192.0.2.53 update']);
  });

  it('finds the zone at the server it writes to, trying the next when one does not answer', async () => {
    const fake = new FakePrimary(['example.org']);
    const log: string[] = [];
    const provider = createRfc2136Provider(config({ servers: [SILENT, CLOSED, SERVER] }), { exchange: network(fake, log), now: () => NOW });
    await provider.present([{ fqdn: BASE, value: 'v1' }], NEVER);
    expect(fake.values(BASE)).toEqual(['v1']);
    expect(log.filter((l) => l.endsWith('update'))).toEqual(['192.0.2.53 update']);
  });

  it('cleanup sends nothing for records never written (no zone, refused connection, silent server)', async () => {
    for (const servers of [[CLOSED], [SILENT]]) {
      const fake = new FakePrimary(['example.org']);
      const log: string[] = [];
      const provider = createRfc2136Provider(config({ servers }), { exchange: network(fake, log), now: () => NOW });
      await expect(provider.present([{ fqdn: BASE, value: 'v1' }], NEVER)).rejects.toBeInstanceOf(GxitError);
      log.length = 0;
      await provider.cleanup([{ fqdn: BASE, value: 'v1' }], NEVER);
      expect(log).toEqual([]);
    }
    const fake = new FakePrimary(['other.org']);
    const log: string[] = [];
    const provider = createRfc2136Provider(config(), { exchange: network(fake, log), now: () => NOW });
    await expect(provider.present([{ fqdn: BASE, value: 'v1' }], NEVER)).rejects.toMatchObject({ code: 'DNS_ZONE_NOT_FOUND' });
    await provider.cleanup([{ fqdn: BASE, value: 'v1' }], NEVER);
    expect(fake.updates).toHaveLength(0);
  });

  it('an update rejected by the server is not deleted afterwards', async () => {
    const fake = new FakePrimary(['example.org']);
    fake.misbehave.rcode = RCode.REFUSED;
    const provider = createRfc2136Provider(config({ zone: 'example.org' }), { exchange: fake.exchange, now: () => NOW });
    await expect(provider.present([{ fqdn: BASE, value: 'v1' }], NEVER)).rejects.toMatchObject({ code: 'DNS_RCODE' });
    await provider.cleanup([{ fqdn: BASE, value: 'v1' }], NEVER);
    expect(fake.updates).toHaveLength(1);
  });

  it('names every server when none accepts', async () => {
    const fake = new FakePrimary(['example.org']);
    const provider = createRfc2136Provider(config({ servers: [SILENT, CLOSED], zone: 'example.org' }), { exchange: network(fake, []), now: () => NOW });
    await expect(provider.present([{ fqdn: BASE, value: 'v1' }], NEVER)).rejects.toMatchObject({
      message: expect.stringContaining('1 more update server address(es) of 192.0.2.1:53, 192.0.2.2:53 failed too'),
    });
  });

  it('describes where it writes without the secret', () => {
    const provider = createRfc2136Provider(config({ servers: [SERVER, { host: 'ns2.example.org', port: 53 }] }));
    expect(provider.identity).toBe('servers 192.0.2.53:53, ns2.example.org:53, key acme.key.example');
  });
});
