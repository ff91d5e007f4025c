// The Cloudflare provider against the Cloudflare API v4 fixture (HTTP on loopback, no DNS backing).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startCloudflareFixture, type CloudflareFixture } from '../../../../../fixtures/cloudflare/server.mjs';
import { createCloudflareProvider, zoneCandidates } from '../../../../../src/dns/providers/cloudflare/provider.js';
import type { CloudflareSettings } from '../../../../../src/dns/providers/cloudflare/settings.js';
import { GxitError } from '../../../../../src/errors.js';

const TOKEN = 'cf-test-token-0123456789abcdefABCDEF';
let fx: CloudflareFixture;
let zoneId: string;
const signal = new AbortController().signal;
const settings = (over: Partial<CloudflareSettings> = {}): CloudflareSettings => ({
  apiToken: TOKEN,
  tokenSource: 'dns.cloudflare.api_token_file',
  endpoint: fx.apiUrl,
  ttl: 60,
  timeoutMs: 5000,
  ...over,
});
const noSleep = async (): Promise<void> => {};
const BASE = '_acme-challenge.galaxy.example.org';
const GXIT = '_acme-challenge.ep.interactivetool.galaxy.example.org';
const txt = (name?: string) => fx.records('example.org').filter((r) => r.type === 'TXT' && (name === undefined || r.name === name)).map((r) => r.content).sort();

beforeAll(async () => {
  fx = await startCloudflareFixture({
    tokens: [TOKEN, { token: 'read-only-token', readOnly: true }, { token: 'other-zone-token', zones: ['example.net'] }],
    zones: [{ name: 'example.org' }, { name: 'example.net' }, { name: 'twin.example.org', id: 'a'.repeat(32) }, { name: 'twin.example.org', id: 'b'.repeat(32) }],
  });
  zoneId = fx.zones().find((z) => z.name === 'example.org')?.id as string;
});
afterAll(() => fx.stop());
beforeEach(() => {
  fx.reset();
  fx.clearTxt('example.org');
});

const errorOf = async (p: Promise<unknown>): Promise<GxitError> => {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(GxitError);
  return e as GxitError;
};

describe('cloudflare provider', () => {
  it('lists zone candidates longest first', () => {
    expect(zoneCandidates('_acme-challenge.a.example.org.')).toEqual(['_acme-challenge.a.example.org', 'a.example.org', 'example.org']);
  });

  it('adds every record of a zone in one batch, keeps foreign values, removes exactly its own', async () => {
    fx.addRecord('example.org', { name: BASE, content: 'foreign' });
    const p = createCloudflareProvider(settings());
    const records = [{ fqdn: BASE, value: 'base-v' }, { fqdn: BASE, value: 'wild-v' }, { fqdn: GXIT, value: 'gxit-v' }];
    await p.present(records, signal);
    expect(txt()).toEqual(['base-v', 'foreign', 'gxit-v', 'wild-v']);
    const writes = () => fx.requests().filter((r) => r.method !== 'GET');
    expect(writes().map((r) => `${r.method} ${r.path}`)).toEqual([`POST /client/v4/zones/${zoneId}/dns_records/batch`]);
    fx.clearLogs();
    await p.cleanup(records, signal);
    expect(txt()).toEqual(['foreign']);
    // The ids were remembered: no listing needed, one batch of deletes.
    expect(fx.requests().map((r) => `${r.method} ${r.path}`)).toEqual([`POST /client/v4/zones/${zoneId}/dns_records/batch`]);
    await p.cleanup(records, signal); // safe to repeat
  });

  it('finds records another process created by name and content, across pages', async () => {
    fx.setMaxPerPage(5);
    for (let i = 0; i < 12; i++) fx.addRecord('example.org', { name: BASE, content: `foreign-${i}` });
    await createCloudflareProvider(settings()).present([{ fqdn: BASE, value: 'ours' }], signal);
    fx.clearLogs();
    await createCloudflareProvider(settings()).cleanup([{ fqdn: BASE, value: 'ours' }, { fqdn: BASE, value: 'never-added' }], signal);
    expect(txt()).toHaveLength(12);
    expect(txt()).not.toContain('ours');
    const pages = fx.requests().filter((r) => r.path.endsWith('/dns_records')).map((r) => r.query.page);
    expect(pages).toEqual(['1', '2', '3']);
  });

  it('uses zone_id when given and refuses a name outside that zone', async () => {
    const p = createCloudflareProvider(settings({ zoneId }));
    await p.present([{ fqdn: BASE, value: 'z' }], signal);
    expect(fx.requests().some((r) => r.path === '/client/v4/zones' )).toBe(false);
    await p.cleanup([{ fqdn: BASE, value: 'z' }], signal);
    const e = await errorOf(createCloudflareProvider(settings({ zoneId })).present([{ fqdn: '_acme-challenge.example.net', value: 'z' }], signal));
    expect(e.message).toBe(`_acme-challenge.example.net is not inside the Cloudflare zone example.org (dns.cloudflare.zone_id ${zoneId})`);
  });

  it('refuses to guess between two zones of one name', async () => {
    const e = await errorOf(createCloudflareProvider(settings()).present([{ fqdn: '_acme-challenge.twin.example.org', value: 'x' }], signal));
    expect(e.message).toBe(`2 Cloudflare zones are named twin.example.org (${'a'.repeat(32)}, ${'b'.repeat(32)}); gxit-cert does not guess which one holds _acme-challenge.twin.example.org`);
  });

  it('reports an unknown token, a read-only token and a token for another zone in one line, never the token', async () => {
    const bad = await errorOf(createCloudflareProvider(settings({ apiToken: 'wrong-token' })).present([{ fqdn: BASE, value: 'x' }], signal));
    expect(bad.code).toBe('DNS_ACCESS_DENIED');
    expect(bad.message).toBe('Cloudflare refused the zone lookup for _acme-challenge.galaxy.example.org: 9109 Invalid access token (token from dns.cloudflare.api_token_file)');
    const ro = await errorOf(createCloudflareProvider(settings({ apiToken: 'read-only-token' })).present([{ fqdn: BASE, value: 'x' }], signal));
    expect(ro.message).toBe('Cloudflare refused adding 1 TXT record(s) in zone example.org: 10000 Authentication error (token from dns.cloudflare.api_token_file)');
    expect(ro.fix).toContain('DNS:Edit');
    const other = await errorOf(createCloudflareProvider(settings({ apiToken: 'other-zone-token' })).present([{ fqdn: BASE, value: 'x' }], signal));
    expect(other.message).toContain('no Cloudflare zone this token can see holds _acme-challenge.galaxy.example.org');
    for (const e of [bad, ro, other]) expect(`${e.message} ${e.fix}`).not.toMatch(/token-0123|read-only-token|other-zone-token|wrong-token/);
  });

  it('retries rate limits and server errors, then gives up with the error envelope', async () => {
    fx.failNext({ count: 2, status: 429, code: 10429, message: 'Rate limited' });
    const p = createCloudflareProvider(settings(), { sleep: noSleep });
    await p.present([{ fqdn: BASE, value: 'r' }], signal);
    expect(txt()).toEqual(['r']);
    fx.failNext({ count: 10, status: 500, code: 10001, message: 'service unavailable' });
    const e = await errorOf(p.cleanup([{ fqdn: BASE, value: 'r' }], signal));
    expect(e.message).toBe('Cloudflare refused removing 1 TXT record(s) in zone example.org: POST /zones/' + zoneId + '/dns_records/batch: HTTP 500 10001 service unavailable');
  });

  it('probes: adds a unique value, lets the caller look, removes it', async () => {
    const p = createCloudflareProvider(settings());
    let during: string[] = [];
    const r = await p.probe?.(BASE, { signal, whilePresent: async () => { during = txt(BASE); } });
    expect(r?.ok).toBe(true);
    expect(during).toHaveLength(1);
    expect(during[0]).toMatch(/^gxit-cert-probe-/);
    expect(txt(BASE)).toEqual([]);
    expect(r?.detail).toContain(`in Cloudflare zone example.org (${zoneId}) with the token from dns.cloudflare.api_token_file`);
  });
});

describe('cancellation', () => {
  it('stops waiting between retries as soon as the run is interrupted', async () => {
    fx.failNext({ count: 5, status: 429, code: 10429, message: 'Rate limited' });
    const abort = new AbortController();
    const p = createCloudflareProvider(settings());
    setTimeout(() => abort.abort(new Error('interrupted')), 50);
    // Without the interrupt the third 429 would end it with Cloudflare's error after 1.5 s of backoff.
    await expect(p.present([{ fqdn: BASE, value: 'never' }], abort.signal)).rejects.toThrow('interrupted');
    expect(txt()).toEqual([]);
  });
});
