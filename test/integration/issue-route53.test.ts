// gxit-cert issue with dns.provider: route53: the built CLI, the real AWS SDK, the Route53 fixture
// (REST/XML API 2013-04-01, SigV4) applying accepted changes to the lab's BIND, and Pebble validating.
// Names: r53.example.org and below, ours alone.
import { randomBytes } from 'node:crypto';
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startRoute53Fixture, type Route53FixtureHandle } from '../../fixtures/route53/server.mjs';
import { startConnectProxy } from '../lab/connect-proxy.js';
import { labConfig, lab, nsupdate, runCli, sans, txtEverywhere } from './helpers.js';

const BASE = 'r53.example.org';
const WILDCARD = `*.ep.interactivetool.${BASE}`;
const BASE_NAME = `_acme-challenge.${BASE}`;
const GXIT_NAME = `_acme-challenge.ep.interactivetool.${BASE}`;
const PUBLIC = 'ZR53PUBLICZONE';
const PRIVATE = 'ZR53PRIVATEZONE';
const KEY = { accessKeyId: 'AKIDR53INTEGRATION', secretAccessKey: randomBytes(30).toString('base64') };
const TEMPORARY = { accessKeyId: 'ASIAR53INTEGRATION', secretAccessKey: randomBytes(30).toString('base64'), sessionToken: `SESSION-TOKEN-${randomBytes(12).toString('hex')}` };
const FOREIGN = 'foreign-value-keep-me';

let fx: Route53FixtureHandle;
let secretFile: string;

/** Polls until `ok` holds (the secondary follows the primary by NOTIFY + IXFR) or 5 s have passed. */
async function settled<T>(read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  const until = Date.now() + 5000;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > until) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}
const servedEverywhere = (name: string, expected: string[]) =>
  settled(() => txtEverywhere(name), (v) => JSON.stringify([...v].sort()) === JSON.stringify([...expected, ...(lab().secondaryIp ? expected : [])].sort()));

/** TXT values of a set in a fixture zone, as stored (quoted). */
const r53Values = (zone: string, name: string): string[] => fx.records(zone).find((r) => r.type === 'TXT' && r.name === `${name}.`)?.values ?? [];
const accepted = () => fx.changes({ source: 'api' });

async function route53Config(route53: Record<string, unknown> = {}, over: Record<string, unknown> = {}) {
  return labConfig({
    certificates: [{ name: BASE, domains: [BASE, WILDCARD] }],
    dns: {
      provider: 'route53',
      rfc2136: undefined,
      route53: { endpoint: fx.url, access_key_id: KEY.accessKeyId, secret_access_key_file: secretFile, ...route53 },
    },
    ...over,
  });
}

/** Directories this file creates, removed after its last test. */
const temporary: string[] = [];

beforeAll(async () => {
  // The GxIT layout of the lab's galaxy name, for our prefix: a wildcard CNAME over the challenge name.
  await nsupdate([`update add ${BASE}. 60 A 127.0.0.1`, `update add ${WILDCARD}. 60 CNAME ${BASE}.`], 'lab-admin');
  const dir = await mkdtemp(path.join(tmpdir(), 'gxit-r53-'));
  temporary.push(dir);
  secretFile = path.join(dir, 'aws.secret');
  await writeFile(secretFile, `${KEY.secretAccessKey}\n`, { mode: 0o600 });
  const key = lab().keys['certbot-training'];
  fx = await startRoute53Fixture({
    host: '127.0.0.1',
    port: 0,
    credentials: [KEY, TEMPORARY],
    zones: [
      { name: BASE, id: PUBLIC },
      { name: BASE, id: PRIVATE, private: true },
      { name: `amb.${BASE}`, id: 'ZR53TWINA' },
      { name: `amb.${BASE}`, id: 'ZR53TWINB' },
    ],
    // Both public and private zones go to the lab's BIND: the private-zone test has its CA "inside the VPC".
    dns: { server: lab().dnsIp, port: 53, keyName: key.name, algorithm: key.algorithm, secretFile: key.secretFile, zone: 'example.org', applyPrivateZones: true },
  });
});

afterAll(async () => {
  await fx?.stop();
  await Promise.all(temporary.map((d) => rm(d, { recursive: true, force: true })));
  await nsupdate(
    [`update delete ${BASE}. A`, `update delete ${WILDCARD}. CNAME`, ...[BASE_NAME, GXIT_NAME, `_acme-challenge.same.${BASE}`].map((n) => `update delete ${n}. TXT`)],
    'lab-admin',
  );
});

beforeEach(async () => {
  fx.reset();
  for (const zone of [PUBLIC, PRIVATE]) {
    const sets = fx.records(zone).filter((r) => r.type === 'TXT').map((r) => ({ name: r.name, type: r.type }));
    if (sets.length > 0) fx.deleteRecords(zone, sets);
  }
  await fx.dnsIdle();
  fx.clearLogs();
});

describe('gxit-cert issue over Route53 (AWS SDK -> Route53 fixture -> BIND -> Pebble)', () => {
  it('issues base + wildcard in one batch per order and per cleanup, keeps a foreign value, leaves nothing of ours', async () => {
    fx.upsertRecords(PUBLIC, [{ name: BASE_NAME, type: 'TXT', ttl: 60, values: [FOREIGN] }]);
    await fx.dnsIdle();
    fx.clearLogs();
    const { config, dir } = await route53Config();

    const run = await runCli(['issue', '--config', config, '--json']);
    // No SDK notice about Node versions, no warning, nothing but the JSON document.
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc.results[0]).toMatchObject({ name: BASE, status: 'issued' });
    expect(doc.results[0].dns).toEqual(expect.arrayContaining([{ domain: WILDCARD, fqdn: GXIT_NAME, wildcardCovered: true, delegatedVia: [] }]));
    const leaf = new X509Certificate(await readFile(path.join(dir, 'state', 'live', BASE, 'cert.pem')));
    expect(sans(leaf)).toEqual([WILDCARD, BASE].sort());

    // Exactly one ChangeResourceRecordSets for the order and one for the cleanup, both in the public zone.
    const changes = accepted();
    expect(changes.map((c) => c.zoneId)).toEqual([PUBLIC, PUBLIC]);
    expect(fx.requests({ operation: 'ChangeResourceRecordSets' })).toHaveLength(2);
    const [present, cleanup] = changes;
    // Sorted by name: _acme-challenge.ep... before _acme-challenge.r53...
    expect(present?.changes.map((c) => [c.action, c.name, c.values.length])).toEqual([
      ['UPSERT', `${GXIT_NAME}.`, 1],
      ['UPSERT', `${BASE_NAME}.`, 2],
    ]);
    expect(present?.changes[1]?.values[0]).toBe(`"${FOREIGN}"`);
    expect(cleanup?.changes).toEqual([
      { action: 'DELETE', name: `${GXIT_NAME}.`, type: 'TXT', ttl: 60, values: present?.changes[0]?.values },
      { action: 'UPSERT', name: `${BASE_NAME}.`, type: 'TXT', ttl: 60, values: [`"${FOREIGN}"`] },
    ]);
    // GetChange: PENDING twice, then INSYNC; the cleanup is not waited for.
    expect(fx.requests({ operation: 'GetChange' }).map((r) => r.changeStatus)).toEqual(['PENDING', 'PENDING', 'INSYNC']);
    // One SDK attempt per request: gxit-cert's retry layer is the only one.
    expect(fx.requests().every((r) => r.attempt === 1)).toBe(true);

    expect(r53Values(PUBLIC, BASE_NAME)).toEqual([`"${FOREIGN}"`]);
    expect(r53Values(PUBLIC, GXIT_NAME)).toEqual([]);
    await fx.dnsIdle();
    expect(await servedEverywhere(BASE_NAME, [FOREIGN])).toEqual(lab().secondaryIp ? [FOREIGN, FOREIGN] : [FOREIGN]);
    expect(await servedEverywhere(GXIT_NAME, [])).toEqual([]);
  });

  it('talks to Route53 and the CA through HTTP_PROXY / HTTPS_PROXY (CONNECT tunnels the proxy records)', async () => {
    const proxy = await startConnectProxy();
    try {
      const { config } = await route53Config();
      const env = { HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, http_proxy: '', https_proxy: '', NO_PROXY: '', no_proxy: '' };
      const run = await runCli(['issue', '--config', config], { env });
      expect(run.code, run.stderr).toBe(0);
      expect(accepted()).toHaveLength(2);
      const l = lab();
      expect(new Set(proxy.tunnels)).toEqual(new Set([new URL(fx.url).host, `${l.pebbleIp}:${l.acmePort}`]));
      expect(proxy.plain).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('puts base and wildcard values at one name into one record set', async () => {
    const { config } = await route53Config({}, { certificates: [{ name: `same.${BASE}`, domains: [`same.${BASE}`, `*.same.${BASE}`] }] });
    const run = await runCli(['issue', '--config', config, '--json']);
    expect(run.code).toBe(0);
    const [present, cleanup] = accepted();
    expect(present?.changes).toHaveLength(1);
    expect(present?.changes[0]).toMatchObject({ action: 'UPSERT', name: `_acme-challenge.same.${BASE}.` });
    expect(present?.changes[0]?.values).toHaveLength(2);
    expect(cleanup?.changes).toEqual([{ action: 'DELETE', name: `_acme-challenge.same.${BASE}.`, type: 'TXT', ttl: 60, values: present?.changes[0]?.values }]);
  });

  it('writes into the private zone with private_zone: true, and into the public one otherwise', async () => {
    const { config } = await route53Config({ private_zone: true });
    const run = await runCli(['issue', '--config', config, '--json', '--verbose']);
    expect(run.code).toBe(0);
    expect(accepted().map((c) => c.zoneId)).toEqual([PRIVATE, PRIVATE]);
    // Private zones skip the authoritative-nameserver check unless the file asks for it.
    expect(run.stderr).not.toMatch(/waiting until every authoritative nameserver/);
    expect(fx.requests({ operation: 'ChangeResourceRecordSets' }).every((r) => r.zoneId === PRIVATE)).toBe(true);
  });

  it('refuses to guess between two public zones of one name and lists them', async () => {
    const { config } = await route53Config({}, { certificates: [{ name: `amb.${BASE}`, domains: [`amb.${BASE}`] }] });
    const run = await runCli(['issue', '--config', config]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([
      `amb.${BASE}: error: 2 public Route53 hosted zones are named amb.${BASE} (ZR53TWINA, ZR53TWINB); gxit-cert does not guess which one holds _acme-challenge.amb.${BASE} (set dns.route53.hosted_zone_id to the zone whose name servers the domain is delegated to (compare "aws route53 get-hosted-zone --id ID" with "dig NS amb.${BASE}"))`,
    ]);
    expect(fx.requests({ operation: 'ChangeResourceRecordSets' })).toHaveLength(0);
  });

  it('survives throttling of every kind of call', async () => {
    for (const op of ['ListHostedZonesByName', 'ListResourceRecordSets', 'ChangeResourceRecordSets', 'GetChange']) fx.throttle(2, op);
    const { config } = await route53Config();
    const run = await runCli(['issue', '--config', config, '--json']);
    expect(run.code).toBe(0);
    expect(fx.requests().filter((r) => r.errorCode === 'Throttling')).toHaveLength(8);
    expect(accepted()).toHaveLength(2);
    expect(r53Values(PUBLIC, BASE_NAME)).toEqual([]);
  });

  it('names the denied action in one line, prints the minimal IAM policy with --verbose, and no secret', async () => {
    fx.deny({ action: 'route53:ChangeResourceRecordSets', zoneId: PUBLIC });
    const { config } = await route53Config();
    const run = await runCli(['issue', '--config', config]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([
      `${BASE}: error: AWS denied route53:ChangeResourceRecordSets on hosted zone ${PUBLIC} (${BASE}) to arn:aws:iam::123456789012:user/test (allow route53:ChangeResourceRecordSets on arn:aws:route53:::hostedzone/${PUBLIC} in that identity's IAM policy (run with --verbose for a minimal policy, or see the README's Route53 section))`,
    ]);
    const verbose = await runCli(['issue', '--config', config, '--verbose']);
    expect(verbose.code).toBe(1);
    const policyText = /minimal IAM policy for gxit-cert:\n(\{[\s\S]*?\n\})/.exec(verbose.stderr)?.[1];
    expect(policyText).toBeDefined();
    const policy = JSON.parse(policyText as string);
    expect(policy.Statement.find((s: { Action: string }) => s.Action === 'route53:ChangeResourceRecordSets').Resource).toEqual([`arn:aws:route53:::hostedzone/${PUBLIC}`]);
    for (const out of [run.stderr, run.stdout, verbose.stderr, verbose.stdout]) expect(out).not.toContain(KEY.secretAccessKey);
    expect(accepted()).toHaveLength(0);
  });

  it('reports a wrong secret access key in one line, without the secret even with --verbose', async () => {
    const wrong = path.join(path.dirname(secretFile), 'wrong.secret');
    const wrongSecret = randomBytes(30).toString('base64');
    await writeFile(wrong, `${wrongSecret}\n`, { mode: 0o600 });
    // Temporary credentials: the session token is a signed header, which AWS quotes back in the canonical request.
    const { config } = await route53Config({ access_key_id: TEMPORARY.accessKeyId, secret_access_key_file: wrong, session_token: TEMPORARY.sessionToken });
    const run = await runCli(['issue', '--config', config, '--verbose']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${BASE}: error: the Route53 endpoint ${fx.url} rejected the request signature: the secret access key does not belong to the access key ID (credentials from dns.route53.access_key_id)`);
    expect(run.stderr).toContain('x-amz-security-token:[redacted]');
    expect(run.stderr).not.toContain('could not remove');
    for (const secret of [wrongSecret, TEMPORARY.sessionToken, TEMPORARY.secretAccessKey]) expect(run.stderr + run.stdout).not.toContain(secret);
  });

  it('removes exactly our values after an order that failed once they were written', async () => {
    fx.upsertRecords(PUBLIC, [{ name: BASE_NAME, type: 'TXT', ttl: 60, values: [FOREIGN] }]);
    await fx.dnsIdle();
    fx.clearLogs();
    fx.deny('route53:GetChange');
    const { config } = await route53Config();
    const run = await runCli(['issue', '--config', config]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${BASE}: error: AWS denied route53:GetChange`);
    const [present, cleanup] = accepted();
    expect(present?.changes.map((c) => c.action)).toEqual(['UPSERT', 'UPSERT']);
    expect(cleanup?.changes.map((c) => c.action)).toEqual(['DELETE', 'UPSERT']);
    expect(r53Values(PUBLIC, BASE_NAME)).toEqual([`"${FOREIGN}"`]);
    expect(r53Values(PUBLIC, GXIT_NAME)).toEqual([]);
    await fx.dnsIdle();
    expect(await servedEverywhere(GXIT_NAME, [])).toEqual([]);
  });

  it('works from the Galaxy role form with credentials and endpoint in ~/.aws', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'gxit-r53-home-'));
    temporary.push(home);
    await mkdir(path.join(home, '.aws'), { mode: 0o700 });
    await writeFile(path.join(home, '.aws', 'credentials'), `[default]\naws_access_key_id = ${KEY.accessKeyId}\naws_secret_access_key = ${KEY.secretAccessKey}\n`, { mode: 0o600 });
    await writeFile(path.join(home, '.aws', 'config'), `[default]\nendpoint_url = ${fx.url}\n`, { mode: 0o600 });
    const base = lab().configObject();
    const config = path.join(home, 'group_vars.yml');
    await writeFile(
      config,
      stringify({
        certbot_domains: [BASE, WILDCARD],
        certbot_admin_email: `admin@${BASE}`,
        certbot_dns_provider: 'route53',
        server: base.server,
        ca_bundle: base.ca_bundle,
        state_dir: path.join(home, 'state'),
        dns: { resolvers: (base.dns as { resolvers: string[] }).resolvers, propagation_timeout: 30 },
        galaxy_config: { galaxy: { interactivetools_enable: true } },
      }),
      { mode: 0o600 },
    );
    const clean = { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_SESSION_TOKEN: undefined, AWS_PROFILE: undefined, AWS_CONFIG_FILE: undefined, AWS_SHARED_CREDENTIALS_FILE: undefined, AWS_ENDPOINT_URL: undefined, AWS_ENDPOINT_URL_ROUTE_53: undefined };
    const run = await runCli(['issue', '--config', config, '--json'], { env: { ...clean, HOME: home, AWS_EC2_METADATA_DISABLED: 'true' } });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).results[0]).toMatchObject({ name: BASE, status: 'issued' });
    expect(accepted().map((c) => c.accessKeyId)).toEqual([KEY.accessKeyId, KEY.accessKeyId]);
  });
});
