// The fixture as another process sees it: the CLI (node fixtures/route53/server.mjs) and the
// /_fixture admin HTTP API that tests in other processes use to set knobs and read logs.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { fixtureAdmin, type FixtureAdminClient } from '../../../fixtures/route53/server.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const SERVER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/route53/server.mjs');
const CREDS = { accessKeyId: 'AKIDCLITEST000001', secretAccessKey: 'cli-secret' };

let dir: string;
let proc: ChildProcess | undefined;
let exited: Promise<number | null>;
let url: string;
let stdout = '';
let stderr = '';
let admin: FixtureAdminClient;
let client: Route53Client;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'r53-cli-'));
  const config = path.join(dir, 'fixture.json');
  writeFileSync(
    config,
    JSON.stringify({
      credentials: [CREDS],
      pendingPolls: 1,
      zones: [
        { name: 'cli.test', id: 'ZCLIPUBLIC0000001', records: [{ name: 'www', type: 'A', values: ['192.0.2.7'] }] },
        { name: 'cli.test', id: 'ZCLIPRIVATE000001', private: true },
      ],
    }),
  );
  const port = await freePort();
  proc = spawn(process.execPath, [SERVER, '--port', String(port), '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  exited = new Promise((resolve) => proc!.once('exit', (code) => resolve(code)));
  proc.stderr!.on('data', (d) => (stderr += d));
  url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fixture did not start: ${stdout} ${stderr}`)), 10_000);
    proc!.stdout!.on('data', (d) => {
      stdout += d;
      const m = /listening on (http:\/\/\S+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc!.once('exit', (code) => reject(new Error(`fixture exited with ${code}: ${stderr}`)));
  });
  admin = fixtureAdmin(url);
  client = new Route53Client({ endpoint: url, region: 'us-east-1', credentials: CREDS });
});

afterAll(async () => {
  client?.destroy();
  if (proc && proc.exitCode === null && proc.signalCode === null) {
    proc.kill('SIGTERM');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('CLI', () => {
  it('prints the URL and the zones, and serves the configured zones', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(stdout).toContain('zone ZCLIPUBLIC0000001 cli.test. (public)');
    expect(stdout).toContain('zone ZCLIPRIVATE000001 cli.test. (private)');
    const out = await client.send(new ListHostedZonesByNameCommand({ DNSName: 'cli.test' }));
    expect(out.HostedZones?.map((z) => z.Config?.PrivateZone)).toEqual([true, false]);
    expect(await admin.health()).toEqual({ ok: true, url });
  });

  it('logs one line per request to stderr', async () => {
    await client.send(new ListHostedZonesByNameCommand({ MaxItems: 1 }));
    await new Promise((r) => setTimeout(r, 50));
    expect(stderr).toMatch(/GET \/2013-04-01\/hostedzonesbyname\?maxitems=1 -> 200 ListHostedZonesByName/);
  });
});

describe('admin API', () => {
  it('reads the request log and the change log (e.g. one change per order, GetChange polls)', async () => {
    await admin.clearLogs();
    const out = await client.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: 'ZCLIPUBLIC0000001',
        ChangeBatch: {
          Comment: 'order-7',
          Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: '_acme-challenge.cli.test', Type: 'TXT', TTL: 60, ResourceRecords: [{ Value: '"v1"' }, { Value: '"v2"' }] } }],
        },
      }),
    );
    // pendingPolls: 1 from the config file
    expect((await client.send(new GetChangeCommand({ Id: out.ChangeInfo!.Id! }))).ChangeInfo?.Status).toBe('PENDING');
    expect((await client.send(new GetChangeCommand({ Id: out.ChangeInfo!.Id! }))).ChangeInfo?.Status).toBe('INSYNC');

    const changes = await admin.changes({ zoneId: 'ZCLIPUBLIC0000001' });
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ comment: 'order-7', status: 'INSYNC', polls: 2, source: 'api', accessKeyId: CREDS.accessKeyId });
    const polls = await admin.requests({ operation: 'GetChange' });
    expect(polls.map((e) => e.changeStatus)).toEqual(['PENDING', 'INSYNC']);
    expect(await admin.requests({ operation: 'route53:ChangeResourceRecordSets' })).toHaveLength(1);
  });

  it('sets throttling, denies and PriorRequestNotComplete for the SDK in this process', async () => {
    const once = new Route53Client({ endpoint: url, region: 'us-east-1', credentials: CREDS, maxAttempts: 1 });
    try {
      await admin.throttle(1, 'ListResourceRecordSets');
      await expect(once.send(new ListResourceRecordSetsCommand({ HostedZoneId: 'ZCLIPUBLIC0000001' }))).rejects.toMatchObject({ name: 'Throttling' });
      await once.send(new ListResourceRecordSetsCommand({ HostedZoneId: 'ZCLIPUBLIC0000001' }));

      await admin.deny({ action: 'route53:ChangeResourceRecordSets', zoneId: 'ZCLIPRIVATE000001' });
      const change = (zone: string) =>
        once.send(
          new ChangeResourceRecordSetsCommand({
            HostedZoneId: zone,
            ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: 'x.cli.test', Type: 'TXT', TTL: 60, ResourceRecords: [{ Value: '"x"' }] } }] },
          }),
        );
      await expect(change('ZCLIPRIVATE000001')).rejects.toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
      await change('ZCLIPUBLIC0000001');
      await admin.clearDenies();
      await change('ZCLIPRIVATE000001');

      await admin.injectPriorRequestNotComplete(1);
      await expect(change('ZCLIPUBLIC0000001')).rejects.toMatchObject({ name: 'PriorRequestNotComplete' });

      await admin.setPendingPolls(0);
      const quick = await change('ZCLIPUBLIC0000001');
      expect((await once.send(new GetChangeCommand({ Id: quick.ChangeInfo!.Id! }))).ChangeInfo?.Status).toBe('INSYNC');
      expect((await admin.knobs()).pendingPolls).toBe(0);
    } finally {
      once.destroy();
      await admin.reset();
    }
    expect(await admin.knobs()).toEqual({ pendingPolls: 1, throttles: [], denies: [], priorRequestNotComplete: [] });
  });

  it('adds zones and records directly; the SDK sees them', async () => {
    const zone = await admin.addZone({ name: 'added.test', records: [{ name: '@', type: 'TXT', values: ['hello world'] }] });
    expect(zone.id).toMatch(/^Z[A-Z0-9]+$/);
    await admin.upsertRecords(zone.id, [{ name: 'www', type: 'CNAME', ttl: 120, values: ['target.added.test.'] }]);
    const sets = await client.send(new ListResourceRecordSetsCommand({ HostedZoneId: zone.id }));
    expect(sets.ResourceRecordSets?.map((r) => `${r.Name} ${r.Type} ${r.ResourceRecords?.map((v) => v.Value).join(',')}`)).toEqual([
      `added.test. NS ${zone.nameServers.join(',')}`,
      'added.test. SOA ns-1536.awsdns-00.co.uk. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400',
      'added.test. TXT "hello world"',
      'www.added.test. CNAME target.added.test.',
    ]);
    const del = await admin.deleteRecords('added.test', [{ name: 'www.added.test.', type: 'CNAME' }]);
    expect(del.source).toBe('admin');
    expect((await admin.records(zone.id)).map((r) => r.type)).toEqual(['NS', 'SOA', 'TXT']);
    const state = await admin.state();
    expect(state.zones.map((z) => z.name)).toContain('added.test.');
    expect(state.credentials).toEqual([{ accessKeyId: CREDS.accessKeyId, sessionToken: false, expired: false }]);
  });

  it('adds and expires credentials', async () => {
    const extra = { accessKeyId: 'AKIDADDEDLATER001', secretAccessKey: 'later' };
    await admin.addCredentials(extra);
    const c = new Route53Client({ endpoint: url, region: 'us-east-1', credentials: extra, maxAttempts: 1 });
    try {
      await c.send(new ListHostedZonesByNameCommand({}));
      await admin.expireCredentials(extra.accessKeyId);
      await expect(c.send(new ListHostedZonesByNameCommand({}))).rejects.toMatchObject({ name: 'ExpiredToken' });
    } finally {
      c.destroy();
    }
  });

  it('answers bad admin input with 400 JSON', async () => {
    const res = await fetch(`${url}/_fixture/throttle`, { method: 'POST', body: JSON.stringify({ operation: 'NoSuchOperation' }) });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'unknown operation NoSuchOperation' });
    await expect(admin.addZone({ name: 'dup.test', id: 'ZCLIPUBLIC0000001' })).rejects.toThrow(/already exists/);
  });
});

describe('shutdown', () => {
  it('exits 0 on SIGTERM', async () => {
    proc!.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
