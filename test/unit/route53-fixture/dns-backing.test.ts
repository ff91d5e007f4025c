// The fixture's `dns` option against a throwaway BIND `named`: accepted changes are sent with
// nsupdate (TSIG) and become visible to `dig`; GetChange stays PENDING until that has happened.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeResourceRecordSetsCommand, GetChangeCommand, Route53Client, type Change } from '@aws-sdk/client-route-53';
import { startRoute53Fixture, type Route53FixtureHandle } from '../../../fixtures/route53/server.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const run = promisify(execFile);
const HOST = '127.0.0.1';
const PUBLIC = 'ZDNSPUBLIC0000001';
const PRIVATE = 'ZDNSPRIVATE000001';
const ORPHAN = 'ZDNSORPHAN0000001'; // a hosted zone the DNS server does not serve

let dir: string;
let port = 0;
let named: ChildProcess | undefined;
let namedExit: Promise<unknown> | undefined;
let namedLog = '';
let secret: string;
let fx: Route53FixtureHandle;
let client: Route53Client;

async function freeUdpTcpPort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const p = await new Promise<number>((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, HOST, () => {
        const a = s.address() as net.AddressInfo;
        s.close(() => resolve(a.port));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const u = dgram.createSocket('udp4');
      u.once('error', () => resolve(false));
      u.bind(p, HOST, () => u.close(() => resolve(true)));
    });
    if (udpFree) return p;
  }
  throw new Error('no free port');
}

const dig = async (name: string, type = 'TXT') => {
  const { stdout } = await run('dig', [`@${HOST}`, '-p', String(port), '+short', '+norecurse', '+time=2', '+tries=1', type, name]);
  return stdout.trim().split('\n').filter(Boolean).sort();
};

const txt = (action: Change['Action'], name: string, values: string[], ttl = 60): Change => ({
  Action: action,
  ResourceRecordSet: { Name: name, Type: 'TXT', TTL: ttl, ResourceRecords: values.map((Value) => ({ Value })) },
});

/** Submit a batch and poll GetChange (as a DNS provider would) until INSYNC. */
async function changeAndWait(zone: string, changes: Change[]) {
  const out = await client.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zone, ChangeBatch: { Changes: changes } }));
  const statuses: string[] = [];
  for (let i = 0; i < 100; i++) {
    const s = (await client.send(new GetChangeCommand({ Id: out.ChangeInfo!.Id! }))).ChangeInfo!.Status!;
    statuses.push(s);
    if (s === 'INSYNC') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { id: out.ChangeInfo!.Id!.replace('/change/', ''), statuses };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'r53-named-'));
  port = await freeUdpTcpPort();
  secret = randomBytes(32).toString('base64');
  const keyStmt = `key "r53-fixture-key." {\n  algorithm hmac-sha256;\n  secret "${secret}";\n};\n`;
  writeFileSync(path.join(dir, 'tsig.key'), keyStmt, { mode: 0o600 });
  writeFileSync(
    path.join(dir, 'named.conf'),
    `options {
  directory "${dir}";
  pid-file "${dir}/named.pid";
  session-keyfile "${dir}/session.key";
  managed-keys-directory "${dir}";
  listen-on port ${port} { ${HOST}; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  notify no;
};
controls { };
${keyStmt}
zone "dns.test" {
  type primary;
  file "${dir}/dns.test.zone";
  allow-update { key "r53-fixture-key."; };
};
`,
  );
  writeFileSync(
    path.join(dir, 'dns.test.zone'),
    `$TTL 60
@   IN SOA ns1.dns.test. hostmaster.dns.test. 1 3600 600 86400 60
@   IN NS  ns1.dns.test.
ns1 IN A   ${HOST}
`,
  );
  named = spawn('named', ['-g', '-c', path.join(dir, 'named.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  namedExit = new Promise((resolve) => named!.once('exit', resolve));
  named.stderr!.on('data', (d) => (namedLog += d));
  for (let i = 0; ; i++) {
    if (named.exitCode !== null) throw new Error(`named exited:\n${namedLog}`);
    const soa = await dig('dns.test', 'SOA').catch(() => []);
    if (soa.length > 0) break;
    // 30 s: named starts in well under a second on an idle machine.
    if (i > 300) throw new Error(`named did not answer:\n${namedLog}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  fx = await startRoute53Fixture({
    zones: [
      { name: 'dns.test', id: PUBLIC },
      { name: 'dns.test', id: PRIVATE, private: true },
      { name: 'orphan.test', id: ORPHAN },
    ],
    // key name and algorithm come from the BIND key file
    dns: { server: HOST, port, secretFile: path.join(dir, 'tsig.key'), timeoutSec: 5 },
  });
  client = new Route53Client({ endpoint: fx.url, region: 'us-east-1', credentials: fx.credentials[0]! });
});

afterAll(async () => {
  client?.destroy();
  await fx?.stop();
  if (named && named.exitCode === null && named.signalCode === null) {
    named.kill('SIGTERM');
    await namedExit;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('dns option (nsupdate to a real named)', () => {
  it('a CREATE becomes visible via dig; one nsupdate per batch; INSYNC only after it', async () => {
    const { id, statuses } = await changeAndWait(PUBLIC, [
      txt('CREATE', '_acme-challenge.dns.test', ['"base-token"', '"wildcard-token"']),
      txt('CREATE', '_acme-challenge.www.dns.test', ['"www-token"']),
    ]);
    expect(statuses.slice(0, 2)).toEqual(['PENDING', 'PENDING']);
    expect(statuses.at(-1)).toBe('INSYNC');
    expect(await dig('_acme-challenge.dns.test')).toEqual(['"base-token"', '"wildcard-token"']);
    expect(await dig('_acme-challenge.www.dns.test')).toEqual(['"www-token"']);

    const rec = fx.changes().find((c) => c.id === id)!;
    expect(rec.dns.state).toBe('applied');
    expect(rec.dns.script).toBe(
      [
        `server ${HOST} ${port}`,
        'key hmac-sha256:r53-fixture-key. <secret>',
        'zone dns.test.',
        'update delete _acme-challenge.dns.test. TXT',
        'update add _acme-challenge.dns.test. 60 TXT "base-token"',
        'update add _acme-challenge.dns.test. 60 TXT "wildcard-token"',
        'update delete _acme-challenge.www.dns.test. TXT',
        'update add _acme-challenge.www.dns.test. 60 TXT "www-token"',
        'send',
        'quit',
      ].join('\n'),
    );
    expect(JSON.stringify(fx.changes())).not.toContain(secret);
  });

  it('UPSERT replaces and DELETE removes the values in DNS; escapes are translated', async () => {
    await changeAndWait(PUBLIC, [txt('UPSERT', '_acme-challenge.dns.test', ['"new \\"quoted\\" token"', '"\\303\\251t\\303\\251"'])]);
    expect(await dig('_acme-challenge.dns.test')).toEqual(['"\\195\\169t\\195\\169"', '"new \\"quoted\\" token"']);
    await changeAndWait(PUBLIC, [txt('DELETE', '_acme-challenge.dns.test', ['"new \\"quoted\\" token"', '"\\303\\251t\\303\\251"'])]);
    expect(await dig('_acme-challenge.dns.test')).toEqual([]);
    expect(await dig('_acme-challenge.www.dns.test')).toEqual(['"www-token"']);
  });

  it('changes in the private zone of the same name stay in memory', async () => {
    const { id, statuses } = await changeAndWait(PRIVATE, [txt('CREATE', '_acme-challenge.dns.test', ['"private-only"'])]);
    expect(statuses).toEqual(['PENDING', 'PENDING', 'INSYNC']);
    expect(fx.changes().find((c) => c.id === id)?.dns).toEqual({ state: 'none' });
    expect(await dig('_acme-challenge.dns.test')).toEqual([]);
  });

  it('admin upserts are applied to DNS too', async () => {
    const rec = fx.upsertRecords(PUBLIC, [{ name: 'seeded', type: 'TXT', values: ['seed value'] }]);
    await fx.dnsIdle();
    expect(fx.changes().find((c) => c.id === rec.id)?.dns.state).toBe('applied');
    expect(await dig('seeded.dns.test')).toEqual(['"seed value"']);
  });

  it('a failed DNS update keeps the change PENDING and is recorded in the change log', async () => {
    const out = await client.send(
      new ChangeResourceRecordSetsCommand({ HostedZoneId: ORPHAN, ChangeBatch: { Changes: [txt('CREATE', '_acme-challenge.orphan.test', ['"x"'])] } }),
    );
    await fx.dnsIdle();
    const statuses: string[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await client.send(new GetChangeCommand({ Id: out.ChangeInfo!.Id! }))).ChangeInfo!.Status!);
    expect(statuses).toEqual(['PENDING', 'PENDING', 'PENDING', 'PENDING', 'PENDING']);
    const rec = fx.changes().find((c) => `/change/${c.id}` === out.ChangeInfo!.Id)!;
    expect(rec.dns.state).toBe('failed');
    expect(rec.dns.error).toMatch(/nsupdate failed/);
    // The API state is still Route53's: the record set exists in the hosted zone.
    expect(fx.records(ORPHAN).map((r) => r.type)).toContain('TXT');
  });
});
