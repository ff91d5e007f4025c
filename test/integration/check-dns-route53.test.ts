// check-dns with dns.provider: route53: the write probe goes through the Route53 provider (real AWS SDK,
// the Route53 fixture applying changes to the lab's BIND), and every authoritative nameserver is asked
// for the probe value. Names: chk-r53.example.org and below, ours alone.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRoute53Fixture, type Route53FixtureHandle } from '../../fixtures/route53/server.mjs';
import { lab, labConfig, nsupdate, runCli, txtEverywhere } from './helpers.js';

const BASE = 'chk-r53.example.org';
const WILDCARD = `*.ep.interactivetool.${BASE}`;
const NAMES = [`_acme-challenge.${BASE}`, `_acme-challenge.ep.interactivetool.${BASE}`];
const KEY = { accessKeyId: 'AKIDCHECKDNSROUTE53', secretAccessKey: randomBytes(30).toString('base64') };

let fx: Route53FixtureHandle;
let secretFile: string;
let secretDir: string | undefined;

beforeAll(async () => {
  await nsupdate([`update add ${BASE}. 60 A 127.0.0.1`, `update add ${WILDCARD}. 60 CNAME ${BASE}.`], 'lab-admin');
  const dir = await mkdtemp(path.join(tmpdir(), 'gxit-chk-r53-'));
  secretDir = dir;
  secretFile = path.join(dir, 'aws.secret');
  await writeFile(secretFile, `${KEY.secretAccessKey}\n`, { mode: 0o600 });
  const key = lab().keys['certbot-training'];
  fx = await startRoute53Fixture({
    host: '127.0.0.1',
    port: 0,
    credentials: [KEY],
    zones: [{ name: BASE, id: 'ZCHKDNSR53' }],
    dns: { server: lab().dnsIp, port: 53, keyName: key.name, algorithm: key.algorithm, secretFile: key.secretFile, zone: 'example.org' },
  });
});

afterAll(async () => {
  await fx?.stop();
  if (secretDir) await rm(secretDir, { recursive: true, force: true });
  await nsupdate([`update delete ${BASE}.`, `update delete ${WILDCARD}.`], 'lab-admin');
});

describe('check-dns with Route53', () => {
  it('probes through the provider: the change is applied, served by every nameserver and removed', async () => {
    const { config } = await labConfig({
      certificates: [{ name: BASE, domains: [BASE, WILDCARD] }],
      dns: { provider: 'route53', rfc2136: undefined, route53: { endpoint: fx.url, access_key_id: KEY.accessKeyId, secret_access_key_file: secretFile } },
    });
    const run = await runCli(['check-dns', '--config', config, '--json'], { env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
    expect(run.stdout + run.stderr).not.toContain(KEY.secretAccessKey);
    const report = JSON.parse(run.stdout) as { ok: boolean; results: Array<{ check: string; status: string; subject: string; message: string }> };
    expect(run.code, run.stdout).toBe(0);
    expect(report.results.some((l) => l.check === 'tsig')).toBe(false);
    const writes = report.results.filter((l) => l.check === 'write');
    expect(writes.map((l) => [l.status, l.subject])).toEqual(NAMES.map((n) => ['ok', n]));
    for (const w of writes) expect(w.message).toMatch(/^added and removed TXT "gxit-cert-probe-[0-9a-f]{16}" at .* every authoritative nameserver served it within \d+ ms$/);
    for (const name of NAMES) expect(await txtEverywhere(name)).toEqual([]);
  });

  it('fails the probe with the provider\'s reason for unknown credentials', async () => {
    const wrong = path.join(path.dirname(secretFile), 'wrong.secret');
    await writeFile(wrong, `${randomBytes(30).toString('base64')}\n`, { mode: 0o600 });
    const { config } = await labConfig({
      certificates: [{ name: BASE, domains: [BASE] }],
      dns: { provider: 'route53', rfc2136: undefined, route53: { endpoint: fx.url, access_key_id: KEY.accessKeyId, secret_access_key_file: wrong } },
    });
    const run = await runCli(['check-dns', '--config', config, '--json'], { env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as { results: Array<{ check: string; status: string; subject: string; fix?: string }> };
    const failed = report.results.filter((l) => l.status === 'fail');
    expect(failed.map((l) => [l.check, l.subject])).toEqual([['write', NAMES[0]]]);
    expect(failed[0]?.fix).toBeTruthy();
  });
});
