/**
 * Against a real BIND: our signed UPDATEs are accepted, our TSIG check accepts BIND's signed
 * replies for all six algorithms, values are added and removed exactly, and BIND's refusals
 * come back as clear errors. named runs on a random loopback address and port, from a temp dir.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TsigKey } from '../../../src/config/types.js';
import type { Rfc2136Config } from '../../../src/dns/providers/rfc2136/settings.js';
import { buildUpdate, Opcode, parseMessage, RCode, RRType, txtValues } from '../../../src/dns/message.js';
import { createRfc2136Provider } from '../../../src/dns/providers/rfc2136/provider.js';
import { query } from '../../../src/dns/query.js';
import { exchange, type ExchangeFn } from '../../../src/dns/transport.js';
import { signMessage, TSIG_ALGORITHMS, verifyResponse } from '../../../src/dns/tsig.js';
import { bindAlgorithm, makeKey, startNamed, type NamedLab } from './lab.js';
import { rejection } from './wire-helpers.js';

/** A signal that never fires: the run is not interrupted. */
const NEVER = new AbortController().signal;

const keys = TSIG_ALGORITHMS.map((algorithm) => makeKey(`gxit-${bindAlgorithm(algorithm)}.key.test`, algorithm, 32));
const key = keys.find((k) => k.algorithm === 'hmac-sha256') as TsigKey;
const BASE = '_acme-challenge.example.test';
const SUB = '_acme-challenge.www.sub.example.test';

let lab: NamedLab;

beforeAll(async () => {
  lab = await startNamed(keys, [
    {
      name: 'example.test',
      records: '_acme-challenge IN TXT "foreign-value"',
      policy: `update-policy { ${keys.map((k) => `grant ${k.name} subdomain example.test. TXT;`).join(' ')} };`,
    },
    { name: 'sub.example.test', policy: `allow-update { key ${key.name}; };` },
    { name: 'locked.test', policy: `update-policy { grant ${key.name} name allowed.locked.test. TXT; };` },
  ]);
});

afterAll(async () => {
  await lab?.stop();
});

function config(overrides: Partial<Rfc2136Config> = {}): Rfc2136Config {
  return { servers: [{ host: lab.host, port: lab.port }], tsig: key, tcp: false, ttl: 60, timeoutMs: 2000, retries: 2, ...overrides };
}

async function served(name: string): Promise<string[]> {
  const reply = await query({ host: lab.host, port: lab.port }, name, RRType.TXT);
  return txtValues(reply.answers, name).sort();
}

/** The real transport, recording the zone of every UPDATE sent. */
function recording(): { exchange: ExchangeFn; updates: string[] } {
  const updates: string[] = [];
  return {
    updates,
    exchange: (server, request, opts) => {
      const msg = parseMessage(request);
      if (msg.opcode === Opcode.UPDATE) updates.push(msg.questions[0]?.name ?? '');
      return exchange(server, request, opts);
    },
  };
}

describe('rfc2136 provider against named', () => {
  it('the lab answers: named serves the zones authoritatively', async () => {
    const reply = await query({ host: lab.host, port: lab.port }, 'example.test', RRType.SOA);
    expect(reply.aa).toBe(true);
    expect(reply.answers[0]?.name).toBe('example.test');
    expect(await served(BASE)).toEqual(['foreign-value']);
  });

  it('adds base and wildcard values with one UPDATE per zone, removes exactly them', async () => {
    const rec = recording();
    const provider = createRfc2136Provider(config(), { exchange: rec.exchange });
    const records = [
      { fqdn: BASE, value: 'base-value' },
      { fqdn: BASE, value: 'wildcard-value' },
      { fqdn: SUB, value: 'sub-value' },
    ];
    await provider.present(records, NEVER);
    expect(rec.updates.sort()).toEqual(['example.test', 'sub.example.test']);
    expect(await served(BASE)).toEqual(['base-value', 'foreign-value', 'wildcard-value']);
    expect(await served(SUB)).toEqual(['sub-value']);

    // the base challenge validated first: removing it keeps its wildcard sibling
    await provider.cleanup([{ fqdn: BASE, value: 'base-value' }], NEVER);
    expect(await served(BASE)).toEqual(['foreign-value', 'wildcard-value']);

    await provider.cleanup(records, NEVER);
    expect(await served(BASE)).toEqual(['foreign-value']);
    expect(await served(SUB)).toEqual([]);
    expect(rec.updates).toHaveLength(5);
  });

  it.each(keys.map((k) => [k.algorithm, k] as const))('signs and verifies with %s', async (_algorithm, k) => {
    const provider = createRfc2136Provider(config({ tsig: k, zone: 'example.test' }));
    const record = { fqdn: `_acme-challenge.alg.example.test`, value: `value-${k.algorithm}` };
    await provider.present([record], NEVER);
    expect(await served(record.fqdn)).toEqual([record.value]);
    await provider.cleanup([record], NEVER);
    expect(await served(record.fqdn)).toEqual([]);
  });

  it('works over TCP', async () => {
    const provider = createRfc2136Provider(config({ tcp: true }));
    await provider.present([{ fqdn: SUB, value: 'tcp-value' }], NEVER);
    expect(await served(SUB)).toEqual(['tcp-value']);
    await provider.cleanup([{ fqdn: SUB, value: 'tcp-value' }], NEVER);
    expect(await served(SUB)).toEqual([]);
  });

  it('probes: adds and removes a unique value', async () => {
    const result = await createRfc2136Provider(config()).probe!(BASE, { signal: NEVER });
    expect(result.ok, result.detail).toBe(true);
    expect(result.detail).toContain('zone example.test');
    expect(await served(BASE)).toEqual(['foreign-value']);
  });

  it('a wrong secret gives BADSIG naming the key, never the secret', async () => {
    const wrong = { ...key, secret: Buffer.from('definitely-not-the-secret-0123456789') };
    const error = await rejection(createRfc2136Provider(config({ tsig: wrong })).present([{ fqdn: BASE, value: 'bad' }], NEVER));
    expect(error.code).toBe('DNS_TSIG');
    expect(error.message).toContain('BADSIG');
    expect(error.message).toContain(key.name);
    expect(error.fix).toContain(key.name);
    const text = [error.message, error.fix, error.subject].join(' ');
    for (const secret of [wrong.secret, key.secret]) {
      for (const encoding of ['base64', 'hex', 'utf8'] as const) expect(text).not.toContain(secret.toString(encoding));
    }
    expect(await served(BASE)).toEqual(['foreign-value']);
  });

  it('an unknown key gives BADKEY', async () => {
    const stranger = makeKey('stranger.key.test', 'hmac-sha256');
    const error = await rejection(createRfc2136Provider(config({ tsig: stranger })).present([{ fqdn: BASE, value: 'bad' }], NEVER));
    expect(error.code).toBe('DNS_TSIG');
    expect(error.message).toMatch(/does not know key stranger\.key\.test with algorithm hmac-sha256 \(BADKEY\)/);
  });

  it('a clock off by an hour gives BADTIME (named signs that reply; we verify it)', async () => {
    const provider = createRfc2136Provider(config({ zone: 'example.test' }), { now: () => Date.now() + 3_600_000 });
    const error = await rejection(provider.present([{ fqdn: BASE, value: 'late' }], NEVER));
    expect(error.code).toBe('DNS_TSIG');
    expect(error.message).toContain('BADTIME');
    expect(error.fix).toContain('NTP');
  });

  it("verifies named's signed BADTIME reply, whose MAC covers our request MAC and named's clock", async () => {
    const request = buildUpdate('example.test', { add: [{ name: BASE, value: 'late', ttl: 60 }], remove: [] });
    const { signed, requestMac } = signMessage(request, key, { timeSigned: Math.floor(Date.now() / 1000) + 3600 });
    const reply = await exchange({ host: lab.host, port: lab.port }, signed);
    const tsig = parseMessage(reply).tsig;
    expect(tsig?.error).toBe(RCode.BADTIME);
    expect(tsig?.mac.length).toBe(32);
    expect(tsig?.otherData.length).toBe(6);
    // 'badtime' (not 'badsig') means the MAC verified before the reported error was looked at
    expect(verifyResponse(reply, key, requestMac)).toMatchObject({ ok: false, reason: 'badtime', tsigError: RCode.BADTIME });
    expect(verifyResponse(reply, key, Buffer.alloc(32))).toMatchObject({ ok: false, reason: 'badsig' });
  });

  it('an update the policy does not grant gives REFUSED with the key and names', async () => {
    const error = await rejection(createRfc2136Provider(config()).present([{ fqdn: '_acme-challenge.locked.test', value: 'nope' }], NEVER));
    expect(error.code).toBe('DNS_RCODE');
    expect(error.message).toContain('REFUSED');
    expect(error.message).toContain('locked.test');
    expect(error.fix).toContain(`key ${key.name}`);
    expect(error.fix).toContain('_acme-challenge.locked.test');
  });

  it('a name in no zone of the server gives DNS_ZONE_NOT_FOUND', async () => {
    const error = await rejection(createRfc2136Provider(config()).present([{ fqdn: '_acme-challenge.elsewhere.example', value: 'v' }], NEVER));
    expect(error.code).toBe('DNS_ZONE_NOT_FOUND');
  });
});
