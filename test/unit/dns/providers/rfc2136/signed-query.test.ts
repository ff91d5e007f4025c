// check-dns for rfc2136: the signed SOA query that proves the server knows the key.
import { Packet } from 'dns2';
import { describe, expect, it } from 'vitest';
import type { ServerAddress, TsigKey } from '../../../../../src/config/types.js';
import { parseMessage, RCode, RRClass, RRType } from '../../../../../src/dns/message.js';
import type { Rfc2136Config } from '../../../../../src/dns/providers/rfc2136/settings.js';
import { evaluateSignedQuery, gatherSignedQuery, signedQueryChecks } from '../../../../../src/dns/providers/rfc2136/signed-query.js';
import type { ExchangeFn } from '../../../../../src/dns/transport.js';
import { signMessage, verifyMessage } from '../../../../../src/dns/tsig.js';
import { GxitError } from '../../../../../src/errors.js';
import { emptyMac } from '../../wire-helpers.js';

const KEY: TsigKey = { name: 'certbot-training', algorithm: 'hmac-sha512', secret: Buffer.from('server-and-client-share-this-secret') };
const SERVER: ServerAddress = { host: '192.0.2.53', port: 53 };
const NOW = 1_790_000_000_000;

function config(tsig: TsigKey | null = KEY): Rfc2136Config {
  return { servers: [SERVER], ...(tsig ? { tsig } : {}), tcp: false, ttl: 60, timeoutMs: 500, retries: 1 };
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

describe('signed query to every update server address', () => {
  const SECOND: ServerAddress = { host: '192.0.2.54', port: 53 };
  const input = (exchange: ExchangeFn) => ({ targets: ['_acme-challenge.galaxy.example.org'], exchange, now: () => NOW, signal: new AbortController().signal });
  /** Each address is its own server, knowing the key given for it. */
  const servers = (keys: Record<string, TsigKey>): ExchangeFn => async (server, request, options) => {
    const known = keys[server.host];
    if (known === undefined) throw new Error(`no server at ${server.host}`);
    return signingServer(known)(server, request, options);
  };
  const twoServers = (servers: ServerAddress[]): Rfc2136Config => ({ ...config(), servers });

  it('asks each server of the list; all verified: one ok line each', async () => {
    const results = await signedQueryChecks(twoServers([SERVER, SECOND]), input(servers({ [SERVER.host]: KEY, [SECOND.host]: KEY })));
    expect(results.map((r) => [r.subject, r.status])).toEqual([
      ['key certbot-training at 192.0.2.53:53', 'ok'],
      ['key certbot-training at 192.0.2.54:53', 'ok'],
    ]);
  });

  it('a backup server that does not know the key is a warning while another one verifies', async () => {
    const wrong = { ...KEY, secret: Buffer.from('another-secret') };
    const results = await signedQueryChecks(twoServers([SERVER, SECOND]), input(servers({ [SERVER.host]: KEY, [SECOND.host]: wrong })));
    expect(results.map((r) => r.status)).toEqual(['ok', 'warn']);
    expect(results[1]?.message).toMatch(/^server 192\.0\.2\.54:53 rejected a signed SOA query .*\(BADSIG\) \(updates still go through 192\.0\.2\.53:53\)$/);
    expect(results[1]?.fix).toMatch(/check dns\.rfc2136\.secret/);
  });

  it('fails on every address when none verifies', async () => {
    const wrong = { ...KEY, secret: Buffer.from('another-secret') };
    const results = await signedQueryChecks(twoServers([SERVER, SECOND]), input(servers({ [SERVER.host]: wrong, [SECOND.host]: wrong })));
    expect(results.map((r) => r.status)).toEqual(['fail', 'fail']);
  });

  it('asks every address of a host name, named as the configuration names it', async () => {
    const byName: ServerAddress = { host: 'ns1.example.org', port: 53 };
    const resolve = async (host: string) => (host === 'ns1.example.org' ? [SERVER.host, SECOND.host] : []);
    const results = await signedQueryChecks(twoServers([byName]), input(servers({ [SERVER.host]: KEY, [SECOND.host]: KEY })), resolve);
    expect(results.map((r) => r.subject)).toEqual(['key certbot-training at ns1.example.org (192.0.2.53:53)', 'key certbot-training at ns1.example.org (192.0.2.54:53)']);
    expect(results.every((r) => r.status === 'ok')).toBe(true);
  });

  it('a host name without an address is a failure of that server, not of the check', async () => {
    const byName: ServerAddress = { host: 'gone.example.org', port: 53 };
    const resolve = async () => [];
    const results = await signedQueryChecks(twoServers([SERVER, byName]), input(servers({ [SERVER.host]: KEY })), resolve);
    expect(results.map((r) => [r.subject, r.status])).toEqual([
      ['key certbot-training at 192.0.2.53:53', 'ok'],
      ['key certbot-training at gone.example.org:53', 'warn'],
    ]);
    expect(results[1]?.message).toContain('has no A or AAAA record');
  });
});
