/**
 * Other RFC 2136 servers than BIND, started on loopback for interoperability tests: Knot DNS and
 * PowerDNS (gsqlite3 backend). Each gets its own directory, a random high port on 127.0.0.1, one
 * zone with an NS record pointing at itself and one TSIG key allowed to update it.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export interface RunningServer {
  kind: 'knot' | 'powerdns';
  host: string;
  port: number;
  zone: string;
  key: { name: string; algorithm: string; secret: string };
  stop(): Promise<void>;
  log(): Promise<string>;
}

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function zoneFile(zone: string, host: string): string {
  return [
    '$TTL 60',
    `@ IN SOA ns1.${zone}. hostmaster.${zone}. 1 3600 600 86400 5`,
    `@ IN NS ns1.${zone}.`,
    `ns1 IN A ${host}`,
    `galaxy IN A ${host}`,
    `*.ep.interactivetool.galaxy IN CNAME galaxy`,
    '',
  ].join('\n');
}

/** Waits until the server answers an SOA query (dig), or the daemon died. */
async function waitReady(child: ChildProcess, host: string, port: number, zone: string, logFile: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  let exited = false;
  child.once('exit', () => { exited = true; });
  for (;;) {
    if (exited) throw new Error(`server exited early: ${(await readFile(logFile, 'utf8').catch(() => '')).slice(-2000)}`);
    try {
      const { stdout } = await execFileP('dig', ['+short', '+norecurse', '+time=1', '+tries=1', `@${host}`, '-p', String(port), zone, 'SOA']);
      if (stdout.trim()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`server on ${host}:${port} did not answer: ${(await readFile(logFile, 'utf8').catch(() => '')).slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function stopper(child: ChildProcess, dir: string): () => Promise<void> {
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
}

export async function startKnot(zone = 'knot.test'): Promise<RunningServer> {
  const host = '127.0.0.1';
  const port = await freePort(host);
  const dir = await mkdtemp(path.join(tmpdir(), 'gxit-knot-'));
  const key = { name: 'knot-key.', algorithm: 'hmac-sha384', secret: randomBytes(48).toString('base64') };
  await writeFile(path.join(dir, `${zone}.zone`), zoneFile(zone, host));
  // Knot keeps its journal there and answers updates with SERVFAIL when the directory is missing.
  await mkdir(path.join(dir, 'db'));
  const conf = [
    'server:',
    `    rundir: "${dir}"`,
    `    listen: ${host}@${port}`,
    'key:',
    `  - id: ${key.name}`,
    `    algorithm: ${key.algorithm}`,
    `    secret: ${key.secret}`,
    'acl:',
    '  - id: update',
    `    key: ${key.name}`,
    '    action: update',
    'database:',
    `    storage: "${dir}/db"`,
    'template:',
    '  - id: default',
    `    storage: "${dir}"`,
    '    file: "%s.zone"',
    '    zonefile-sync: -1',
    'zone:',
    `  - domain: ${zone}`,
    '    acl: update',
    'log:',
    '  - target: stderr',
    '    any: info',
    '',
  ].join('\n');
  const confFile = path.join(dir, 'knot.conf');
  await writeFile(confFile, conf, { mode: 0o600 });
  const logFile = path.join(dir, 'knot.log');
  const { openSync } = await import('node:fs');
  const out = openSync(logFile, 'a');
  const child = spawn('knotd', ['-c', confFile], { stdio: ['ignore', out, out] });
  await waitReady(child, host, port, zone, logFile);
  return { kind: 'knot', host, port, zone, key, stop: stopper(child, dir), log: () => readFile(logFile, 'utf8') };
}

export async function startPowerDns(zone = 'pdns.test'): Promise<RunningServer> {
  const host = '127.0.0.1';
  const port = await freePort(host);
  const dir = await mkdtemp(path.join(tmpdir(), 'gxit-pdns-'));
  const key = { name: 'pdns-key.', algorithm: 'hmac-sha256', secret: randomBytes(32).toString('base64') };
  const db = path.join(dir, 'pdns.sqlite3');
  await execFileP('sqlite3', [db, `.read /usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql`]);
  const conf = [
    'launch=gsqlite3',
    `gsqlite3-database=${db}`,
    `local-address=${host}`,
    `local-port=${port}`,
    'dnsupdate=yes',
    'allow-dnsupdate-from=127.0.0.0/8',
    `socket-dir=${dir}`,
    'daemon=no',
    'guardian=no',
    'disable-syslog=yes',
    'webserver=no',
    'api=no',
    'primary=no',
    'loglevel=6',
    '',
  ].join('\n');
  await writeFile(path.join(dir, 'pdns.conf'), conf, { mode: 0o600 });
  const pdnsutil = (...args: string[]) => execFileP('pdnsutil', [`--config-dir=${dir}`, ...args]);
  await writeFile(path.join(dir, 'zone.txt'), zoneFile(zone, host));
  await pdnsutil('load-zone', zone, path.join(dir, 'zone.txt'));
  await pdnsutil('import-tsig-key', key.name.replace(/\.$/, ''), key.algorithm, key.secret);
  await pdnsutil('set-meta', zone, 'TSIG-ALLOW-DNSUPDATE', key.name.replace(/\.$/, ''));
  const logFile = path.join(dir, 'pdns.log');
  const { openSync } = await import('node:fs');
  const out = openSync(logFile, 'a');
  const child = spawn('pdns_server', [`--config-dir=${dir}`], { stdio: ['ignore', out, out] });
  await waitReady(child, host, port, zone, logFile);
  return { kind: 'powerdns', host, port, zone, key, stop: stopper(child, dir), log: () => readFile(logFile, 'utf8') };
}
