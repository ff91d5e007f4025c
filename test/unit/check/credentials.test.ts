import { Packet } from 'dns2';
import { describe, expect, it } from 'vitest';
import type { Rfc2136Config, ServerAddress, TsigKey } from '../../../src/config/types.js';
import { parseMessage, RCode, RRClass, RRType } from '../../../src/dns/message.js';
import type { DnsProvider, ProbeOptions, ProbeResult, TxtRecord } from '../../../src/dns/providers/types.js';
import type { QueryFn } from '../../../src/dns/resolver.js';
import type { ExchangeFn } from '../../../src/dns/transport.js';
import { signMessage, verifyMessage } from '../../../src/dns/tsig.js';
import { GxitError } from '../../../src/errors.js';
import {
  evaluateProbe,
  evaluateSignedQuery,
  gatherProbe,
  gatherSignedQuery,
  type ProbeDeps,
  type ProbeFacts,
} from '../../../src/check/credentials.js';
import { FakeDns, galaxyZone, message } from './fake-zone.js';
import { emptyMac } from '../dns/wire-helpers.js';

const KEY: TsigKey = { name: 'certbot-training', algorithm: 'hmac-sha512', secret: Buffer.from('server-and-client-share-this-secret') };
const SERVER: ServerAddress = { host: '192.0.2.53', port: 53 };
const NOW = 1_790_000_000_000;

function config(tsig: TsigKey | null = KEY): Rfc2136Config {
  return { server: SERVER, ...(tsig ? { tsig } : {}), tcp: false, ttl: 60, timeoutMs: 500, retries: 1 };
}

/** An authoritative server for example.org that knows `serverKey` and checks signed queries as BIND does. */
function signingServer(serverKey: TsigKey, behaviour: { unsigned?: boolean; rcode?: number } = {}): ExchangeFn {
  return async (_server, request) => {
    const msg = parseMessage(request);
    const q = msg.questions[0]!;
    const verdict = msg.tsig ? verifyMessage(request, serverKey, { now: NOW / 1000 }) : undefined;
    const tsigError = verdict && !verdict.ok ? (verdict.reason === 'badkey' ? RCode.BADKEY : RCode.BADSIG) : 0;
    const p = new Packet();
    const inZone = q.name === 'example.org' || q.name.endsWith('.example.org');
    // `behaviour.rcode` answers signed queries only; the unsigned SOA queries that find the zone get the truth.
    const rcode = tsigError ? RCode.NOTAUTH : ((msg.tsig ? behaviour.rcode : undefined) ?? (inZone ? 0 : RCode.REFUSED));
    p.header = new Packet.Header({ id: msg.id, qr: 1, aa: rcode === 0 ? 1 : 0, rcode });
    p.questions = [new Packet.Question(q.name, q.type, RRClass.IN)];
    if (rcode === 0 && q.name === 'example.org') {
      p.answers = [new Packet.Resource({ name: 'example.org', type: RRType.SOA, class: RRClass.IN, ttl: 60, primary: 'ns1.example.org', admin: 'h.example.org', serial: 1, refresh: 1, retry: 1, expiration: 1, minimum: 1 })];
    }
    const reply = p.toBuffer();
    if (!msg.tsig || behaviour.unsigned) return reply;
    if (tsigError) return emptyMac(signMessage(reply, serverKey, { timeSigned: NOW / 1000, error: tsigError }).signed);
    return signMessage(reply, serverKey, { timeSigned: NOW / 1000, requestMac: verdict?.ok ? verdict.tsig.mac : undefined }).signed;
  };
}

async function signed(serverKey: TsigKey, behaviour: { unsigned?: boolean; rcode?: number } = {}, cfg = config()) {
  const facts = await gatherSignedQuery({ exchange: signingServer(serverKey, behaviour), now: () => NOW }, cfg, ['_acme-challenge.galaxy.example.org']);
  return facts ? evaluateSignedQuery(facts) : undefined;
}

describe('signed query: does the server know the key?', () => {
  it('passes when the reply is signed with the same key', async () => {
    const r = await signed(KEY);
    expect(r).toMatchObject({ check: 'tsig', status: 'ok', subject: 'key certbot-training at 192.0.2.53:53' });
    expect(r?.message).toContain('a signed SOA query for zone example.org with a valid signature');
  });

  it('names a wrong secret (BADSIG) with the secret fix', async () => {
    const r = await signed({ ...KEY, secret: Buffer.from('another-secret') });
    expect(r).toMatchObject({ status: 'fail' });
    expect(r?.message).toBe("server 192.0.2.53:53 rejected a signed SOA query for zone example.org: the TSIG secret does not match the server's key certbot-training (BADSIG)");
    expect(r?.fix).toMatch(/check dns\.rfc2136\.secret/);
  });

  it('names an unknown key (BADKEY)', async () => {
    const r = await signed({ ...KEY, name: 'other-key' });
    expect(r?.message).toMatch(/does not know key certbot-training .*\(BADKEY\)/);
  });

  it('does not trust an unsigned success', async () => {
    const r = await signed(KEY, { unsigned: true });
    expect(r?.status).toBe('fail');
    expect(r?.message).toMatch(/the reply of 192\.0\.2\.53:53 to a signed SOA query for zone example\.org is not signed/);
  });

  it('reports a refusal of the query itself', async () => {
    const r = await signed(KEY, { rcode: RCode.REFUSED });
    expect(r?.status).toBe('fail');
    expect(r?.message).toContain('with REFUSED');
    expect(r?.fix).toContain('dns.rfc2136.server');
  });

  it('reports an unreachable server with the transport\'s fix', async () => {
    const exchange: ExchangeFn = async () => {
      throw new GxitError('DNS_TIMEOUT', 'no reply from DNS server 192.0.2.53:53 over UDP', { fix: 'check that the DNS server is running' });
    };
    const facts = await gatherSignedQuery({ exchange, now: () => NOW }, config(), ['_acme-challenge.galaxy.example.org']);
    expect(evaluateSignedQuery(facts!)).toMatchObject({ status: 'fail', fix: 'check that the DNS server is running' });
  });

  it('sends nothing without a key', async () => {
    expect(await signed(KEY, {}, config(null))).toBeUndefined();
  });
});

/** Two nameservers of example.org; `served` says which server serves which TXT values at which name. */
function nameservers(served: (host: string, name: string) => string[]): QueryFn {
  const dns = new FakeDns([galaxyZone()]);
  return async (server, name, type, opts) => {
    if (type !== RRType.TXT) return dns.query(server, name, type, opts);
    return message(served(server.host, name).map((v) => ({ name, type: RRType.TXT, data: [v] })));
  };
}

/** A provider whose probe behaves as the contract says: add, whilePresent, remove. */
function provider(zone: Map<string, Set<string>>, opts: { fail?: GxitError; keep?: boolean; noCallback?: boolean } = {}): DnsProvider {
  return {
    name: 'fake',
    present: async () => undefined,
    cleanup: async () => undefined,
    async probe(fqdn: string, o?: ProbeOptions): Promise<ProbeResult> {
      if (opts.fail) return { ok: false, detail: opts.fail.message, ...(opts.fail.fix ? { fix: opts.fail.fix } : {}) };
      const record: TxtRecord = { fqdn, value: 'gxit-cert-probe-0123456789abcdef' };
      zone.set(fqdn, new Set([record.value]));
      try {
        if (!opts.noCallback) await o?.whilePresent?.(record);
      } finally {
        if (!opts.keep) zone.delete(fqdn);
      }
      return { ok: true, detail: `added and removed TXT "${record.value}" at ${fqdn}` };
    },
  };
}

function probeDeps(query: QueryFn, extra: Partial<ProbeDeps> = {}): ProbeDeps {
  return { query, resolvers: [SERVER], nameserverPort: 53, verify: true, visibleWithinMs: 150, goneWithinMs: 100, now: Date.now, ...extra };
}

const FQDN = '_acme-challenge.galaxy.example.org';

describe('write probe', () => {
  it('passes when every authoritative nameserver serves the value, and nothing stays', async () => {
    const zone = new Map<string, Set<string>>();
    const q = nameservers((_host, name) => [...(zone.get(name) ?? [])]);
    const facts = await gatherProbe(probeDeps(q), provider(zone), FQDN);
    expect(facts.visible).toMatchObject({ ms: expect.any(Number) });
    expect(facts.leftover).toEqual([]);
    const r = evaluateProbe(facts);
    expect(r).toMatchObject({ check: 'write', status: 'ok', subject: FQDN });
    expect(r.message).toMatch(/every authoritative nameserver served it within \d+ ms/);
  });

  it('warns and names the nameserver that never served it', async () => {
    const zone = new Map<string, Set<string>>();
    const q = nameservers((host, name) => (host === '192.0.2.2' ? [] : [...(zone.get(name) ?? [])]));
    const r = evaluateProbe(await gatherProbe(probeDeps(q), provider(zone), FQDN));
    expect(r.status).toBe('warn');
    expect(r.message).toContain('but ns2.example.org (192.0.2.2:53) did not serve it in time');
  });

  it('fails when a nameserver still serves the value after the removal', async () => {
    const zone = new Map<string, Set<string>>();
    const q = nameservers((_host, name) => [...(zone.get(name) ?? [])]);
    const r = evaluateProbe(await gatherProbe(probeDeps(q), provider(zone, { keep: true }), FQDN));
    expect(r.status).toBe('fail');
    expect(r.message).toContain('ns1.example.org (192.0.2.1:53), ns2.example.org (192.0.2.2:53) still serve the probe value');
  });

  it('reports the provider\'s failure with its fix', async () => {
    const zone = new Map<string, Set<string>>();
    const refused = new GxitError('DNS_RCODE', 'server 192.0.2.53:53 refused the update (REFUSED)', { fix: 'check the update-policy' });
    const r = evaluateProbe(await gatherProbe(probeDeps(nameservers(() => [])), provider(zone, { fail: refused }), FQDN));
    expect(r).toMatchObject({ status: 'fail', message: refused.message, fix: 'check the update-policy' });
  });

  it('stops waiting when interrupted; the provider still removes the value', async () => {
    const zone = new Map<string, Set<string>>();
    const controller = new AbortController();
    const q = nameservers(() => []); // never visible: the wait would last visibleWithinMs
    const started = Date.now();
    const pending = gatherProbe(probeDeps(q, { signal: controller.signal, visibleWithinMs: 60_000, onPresent: () => setTimeout(() => controller.abort(), 20) }), provider(zone), FQDN);
    const facts = await pending;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(facts.interrupted).toBe(true);
    expect(zone.size).toBe(0);
    expect(evaluateProbe(facts)).toMatchObject({ status: 'fail', message: expect.stringMatching(/^interrupted; added and removed/) });
  });

  it('does not ask the nameservers when dns.propagation_check is off', async () => {
    const zone = new Map<string, Set<string>>();
    const asked: string[] = [];
    const q: QueryFn = async (s, n, t) => {
      asked.push(n);
      return message([]);
    };
    const facts = await gatherProbe(probeDeps(q, { verify: false }), provider(zone), FQDN);
    expect(asked).toEqual([]);
    expect(evaluateProbe(facts)).toMatchObject({ status: 'ok' });
  });

  it('warns when the provider has no probe', () => {
    const facts: ProbeFacts = { fqdn: FQDN, provider: 'manual' };
    expect(evaluateProbe(facts)).toMatchObject({ status: 'warn', message: expect.stringContaining('cannot probe') });
  });
});
