// gxit-cert issue with dns.provider: cloudflare: the built CLI, plain fetch against the Cloudflare API
// v4 fixture (Bearer token, zone lookup, batches, paging), which applies accepted TXT changes to the
// lab's BIND with nsupdate; Pebble validates. Names: cf.example.org and below, ours alone.
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startCloudflareFixture, type CloudflareFixture } from '../../fixtures/cloudflare/server.mjs';
import { startConnectProxy } from '../lab/connect-proxy.js';
import { labConfig, lab, nsupdate, runCli, sans, txtEverywhere } from './helpers.js';

const BASE = 'cf.example.org';
const WILDCARD = `*.ep.interactivetool.${BASE}`;
const NAMES = [`_acme-challenge.${BASE}`, `_acme-challenge.ep.interactivetool.${BASE}`];
const TOKEN = 'cfIntegrationToken_0123456789abcdefghij';
const FOREIGN = 'foreign-value-keep-me';

let fx: CloudflareFixture;
let dir: string;
let tokenFile: string;

const cloudflareConfig = (cloudflare: Record<string, unknown> = {}) =>
  labConfig({
    certificates: [{ name: BASE, domains: [BASE, WILDCARD] }],
    dns: { provider: 'cloudflare', rfc2136: undefined, cloudflare: { api_token_file: tokenFile, endpoint: fx.apiUrl, ...cloudflare } },
  });
const ours = () => fx.records('example.org').filter((r) => r.type === 'TXT' && NAMES.includes(r.name));

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'gxit-cf-it-'));
  tokenFile = path.join(dir, 'cloudflare.token');
  await writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  const key = lab().keys['certbot-training'];
  fx = await startCloudflareFixture({
    tokens: [TOKEN, { token: 'readOnlyToken_0123456789', readOnly: true }],
    zones: [{ name: 'example.org' }],
    dns: { server: lab().dnsIp, port: 53, keyName: key.name, algorithm: key.algorithm, secretFile: key.secretFile },
  });
  await nsupdate([`update add ${BASE}. 60 A 127.0.0.1`, `update add ${WILDCARD}. 60 CNAME ${BASE}.`], 'lab-admin');
});

afterAll(async () => {
  fx.clearTxt('example.org');
  await fx.dnsIdle();
  await fx.stop();
  await nsupdate([`update delete ${BASE}. A`, `update delete ${WILDCARD}. CNAME`, ...NAMES.map((n) => `update delete ${n}. TXT`)], 'lab-admin');
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  fx.reset();
  fx.clearTxt('example.org');
  expect(await fx.dnsIdle()).toEqual([]);
});

describe('gxit-cert issue over Cloudflare (fetch -> Cloudflare API fixture -> BIND -> Pebble)', () => {
  it('issues base + wildcard with one batch per order and one per cleanup, keeps a foreign value, leaves nothing of ours', async () => {
    fx.addRecord('example.org', { name: NAMES[0] as string, content: FOREIGN });
    await fx.dnsIdle();
    fx.clearLogs();
    const { config, dir: cfgDir } = await cloudflareConfig();
    const run = await runCli(['issue', '--config', config, '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).results[0]).toMatchObject({ name: BASE, status: 'issued' });
    const leaf = new X509Certificate(await readFile(path.join(cfgDir, 'state', 'live', BASE, 'cert.pem')));
    expect(sans(leaf)).toEqual([WILDCARD, BASE].sort());
    const writes = fx.requests().filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path} ${r.status}`);
    const zoneId = fx.zones()[0]?.id;
    expect(writes).toEqual([`POST /client/v4/zones/${zoneId}/dns_records/batch 200`, `POST /client/v4/zones/${zoneId}/dns_records/batch 200`]);
    expect(ours().map((r) => r.content)).toEqual([FOREIGN]);
    expect(await fx.dnsIdle()).toEqual([]);
    expect((await txtEverywhere(NAMES[0] as string)).every((v) => v === FOREIGN)).toBe(true);
    expect(await txtEverywhere(NAMES[1] as string)).toEqual([]);
  });

  it('goes through HTTP_PROXY / HTTPS_PROXY: the API and the CA are reached through CONNECT tunnels', async () => {
    const proxy = await startConnectProxy();
    try {
      const { config } = await cloudflareConfig();
      const env = { HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, http_proxy: '', https_proxy: '', NO_PROXY: '', no_proxy: '' };
      const run = await runCli(['issue', '--config', config], { env });
      expect(run.code, run.stderr).toBe(0);
      const l = lab();
      expect(new Set(proxy.tunnels)).toEqual(new Set([new URL(fx.apiUrl).host, `${l.pebbleIp}:${l.acmePort}`]));
      expect(proxy.plain).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('works from the Galaxy role form: certbot_dns_provider: cloudflare with certbot_dns_credentials: {api_token}', async () => {
    const base = lab().configObject();
    const config = path.join(dir, 'group_vars.yml');
    await writeFile(
      config,
      stringify({
        certbot_domains: [BASE, WILDCARD],
        certbot_admin_email: `admin@${BASE}`,
        certbot_dns_provider: 'cloudflare',
        certbot_dns_credentials: { api_token: TOKEN, endpoint: fx.apiUrl },
        server: base.server,
        ca_bundle: base.ca_bundle,
        state_dir: path.join(dir, 'role-state'),
        dns: { resolvers: (base.dns as { resolvers: string[] }).resolvers, propagation_timeout: 30 },
      }),
      { mode: 0o600 },
    );
    const run = await runCli(['issue', '--config', config, '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).results[0]).toMatchObject({ name: BASE, status: 'issued' });
    expect(run.stdout).not.toContain(TOKEN);
    expect(ours()).toEqual([]);
    expect(await fx.dnsIdle()).toEqual([]);
    for (const name of NAMES) expect(await txtEverywhere(name)).toEqual([]);
  });

  it('reports a token without DNS:Edit in one line that names where the token came from, never the token', async () => {
    const roFile = path.join(dir, 'ro.token');
    await writeFile(roFile, 'readOnlyToken_0123456789\n', { mode: 0o600 });
    const { config } = await cloudflareConfig({ api_token_file: roFile });
    const run = await runCli(['issue', '--config', config, '--verbose']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${BASE}: error: Cloudflare refused adding 2 TXT record(s) in zone example.org: 10000 Authentication error (token from dns.cloudflare.api_token_file) (use an API token with the permissions Zone:Read and DNS:Edit for this zone`);
    expect(run.stderr + run.stdout).not.toContain('readOnlyToken_0123456789');
    expect(ours()).toEqual([]);
  });

  it('check-dns adds and removes a probe record through the API; the token from the environment works too', async () => {
    const { config } = await cloudflareConfig({ api_token_file: undefined });
    // cloudflare: { endpoint } without a token key: the token comes from the environment.
    const missing = await runCli(['check-dns', '--config', config], { env: { CLOUDFLARE_API_TOKEN: undefined } });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('CLOUDFLARE_API_TOKEN is not in the environment');
    const check = await runCli(['check-dns', '--config', config, '--json'], { env: { CLOUDFLARE_API_TOKEN: TOKEN } });
    const writes = JSON.parse(check.stdout).results.filter((r: { check: string }) => r.check === 'write');
    expect(writes.map((r: { status: string }) => r.status)).toEqual(['ok', 'ok']);
    expect(writes[0].message).toMatch(/in Cloudflare zone example.org \([0-9a-f]{32}\) with the token from the environment variable CLOUDFLARE_API_TOKEN; every authoritative nameserver served it within \d+ ms/);
    expect(ours()).toEqual([]);
    expect(await fx.dnsIdle()).toEqual([]);
    for (const name of NAMES) expect(await txtEverywhere(name)).toEqual([]);
  });
});
