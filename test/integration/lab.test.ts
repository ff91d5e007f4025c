/**
 * The lab checks itself: BIND primary + secondary answer authoritatively, TSIG updates work with every
 * key and are refused where the policy says so, Pebble answers over HTTPS with the lab CA. Also the
 * lab's own life cycle: extra zones, busy addresses, a broken zone, the CLI, no daemon left behind.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LAB_KEYS, LIMITED_NAME, attachLab, readLabInfo, startLab, type Lab, type LabKey } from '../lab/lab.mjs';

const execFileP = promisify(execFile);
const LAB_MJS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'lab', 'lab.mjs');

const info = inject('lab');
const lab = attachLab(info);
/** First three octets of the shared lab's block (127.0.10 unless taken): other labs here use .2x-.4x. */
const net = info.dnsIp.split('.').slice(0, 3).join('.');

async function dig(server: string, ...args: string[]): Promise<string> {
  const { stdout } = await execFileP('dig', ['+time=2', '+tries=2', `@${server}`, '-p', '53', ...args]);
  return stdout;
}

/** Runs nsupdate with the script on stdin (the key statement too: no secret in argv). */
function nsupdate(script: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('nsupdate', [], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
    child.stdin.end(script);
  });
}

function updateScript(server: string, key: LabKey, zone: string, lines: string[]): string {
  return [`server ${server} 53`, `zone ${zone}`, `key ${key.algorithm}:${key.name} ${key.secret}`, ...lines, 'send', ''].join('\n');
}

function get(url: string, ca?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca, agent: false, timeout: 5000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A live process (a zombie counts as gone). */
function running(pid: number | null | undefined): boolean {
  if (!pid) return false;
  try {
    return !/^\d+ \(.*\) [ZX]/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const token = () => randomBytes(12).toString('base64url');

describe('lab DNS', () => {
  it('serves example.org authoritatively on the primary and the secondary', async () => {
    expect(info.secondaryIp).toBeTruthy();
    for (const server of [info.dnsIp, info.secondaryIp!]) {
      const out = await dig(server, '+norecurse', 'example.org', 'SOA');
      expect(out).toMatch(/status: NOERROR/);
      expect(out).toMatch(/flags: qr aa/);
      expect(out).toMatch(/SOA\s+ns1\.example\.org\. hostmaster\.example\.org\. \d+ 3600 600 86400 5/);
    }
    const ns = await dig(info.dnsIp, '+short', 'example.org', 'NS');
    expect(ns.trim().split('\n').sort()).toEqual(['ns1.example.org.', 'ns2.example.org.']);
    expect((await dig(info.dnsIp, '+short', 'ns2.example.org', 'A')).trim()).toBe(info.secondaryIp);
  });

  it('has the Galaxy records, with a synthesized CNAME under the wildcard that txt() filters out', async () => {
    expect((await dig(info.dnsIp, '+short', 'galaxy.example.org', 'A')).trim()).toBe('127.0.0.1');
    const name = '_acme-challenge.ep.interactivetool.galaxy.example.org';
    expect(await dig(info.dnsIp, '+short', name, 'TXT')).toContain('galaxy.example.org.');
    expect(await lab.txt(name)).toEqual([]);
  });

  it('is not a resolver', async () => {
    const out = await dig(info.dnsIp, 'example.com', 'A');
    expect(out).toMatch(/status: REFUSED/);
  });

  it('writes every key secret to its file, mode 0600', async () => {
    expect(Object.keys(info.keys).sort()).toEqual(Object.keys(LAB_KEYS).sort());
    for (const key of Object.values(info.keys)) {
      expect(await fs.readFile(key.secretFile, 'utf8')).toBe(key.secret);
      expect((await fs.stat(key.secretFile)).mode & 0o777).toBe(0o600);
      expect(Buffer.from(key.secret, 'base64').length).toBeGreaterThanOrEqual(32);
    }
    expect((await fs.stat(info.dir)).mode & 0o777).toBe(0o700);
  });
});

describe('lab TSIG updates', () => {
  it('certbot-training. adds and deletes a TXT, and the secondary follows by NOTIFY', async () => {
    const key = info.keys['certbot-training'];
    expect(key.algorithm).toBe('hmac-sha512');
    const name = `_acme-challenge.galaxy.${info.zone}`;
    const value = token();
    const add = await nsupdate(updateScript(info.dnsIp, key, info.zone, [`update add ${name}. 60 TXT "${value}"`]));
    expect(add.out).toBe('');
    expect(add.code).toBe(0);
    expect(await lab.txt(name)).toContain(value);
    expect(await eventually(() => lab.txt(name, info.secondaryIp), (v) => v.includes(value))).toContain(value);

    const del = await nsupdate(updateScript(info.dnsIp, key, info.zone, [`update delete ${name}. TXT "${value}"`]));
    expect(del.code).toBe(0);
    expect(await lab.txt(name)).not.toContain(value);
    expect(await eventually(() => lab.txt(name, info.secondaryIp), (v) => !v.includes(value))).not.toContain(value);
  });

  it('a TXT at the wildcard challenge name replaces the synthesized CNAME', async () => {
    const key = info.keys['certbot-training'];
    const name = `_acme-challenge.ep.interactivetool.galaxy.${info.zone}`;
    const value = token();
    expect((await nsupdate(updateScript(info.dnsIp, key, info.zone, [`update add ${name}. 60 TXT "${value}"`]))).code).toBe(0);
    expect(await lab.txt(name)).toEqual([value]);
    expect((await nsupdate(updateScript(info.dnsIp, key, info.zone, [`update delete ${name}. TXT "${value}"`]))).code).toBe(0);
    expect(await lab.txt(name)).toEqual([]);
  });

  it.each(['key-md5', 'key-sha1', 'key-sha224', 'key-sha256', 'key-sha384', 'key-sha512'] as const)('%s may update TXT', async (k) => {
    const key = info.keys[k];
    const name = `_acme-challenge.${k}.${info.zone}`;
    const value = token();
    const add = await nsupdate(updateScript(info.dnsIp, key, info.zone, [`update add ${name}. 60 TXT "${value}"`]));
    expect(add.out).toBe('');
    expect(await lab.txt(name)).toEqual([value]);
    await nsupdate(updateScript(info.dnsIp, key, info.zone, [`update delete ${name}. TXT`]));
    expect(await lab.txt(name)).toEqual([]);
  });

  it('limited. may update its one name but is refused elsewhere', async () => {
    const key = info.keys.limited;
    const value = token();
    const own = await nsupdate(updateScript(info.dnsIp, key, info.zone, [`update add ${LIMITED_NAME}. 60 TXT "${value}"`]));
    expect(own.code).toBe(0);
    expect(await lab.txt(LIMITED_NAME)).toEqual([value]);
    await nsupdate(updateScript(info.dnsIp, key, info.zone, [`update delete ${LIMITED_NAME}. TXT`]));

    const other = `_acme-challenge.galaxy.${info.zone}`;
    const refused = await nsupdate(updateScript(info.dnsIp, key, info.zone, [`update add ${other}. 60 TXT "${value}"`]));
    expect(refused.code).not.toBe(0);
    expect(refused.out).toMatch(/REFUSED/);
    expect(await lab.txt(other)).not.toContain(value);
  });

  it('refuses other types, and a wrong secret fails TSIG', async () => {
    const key = info.keys['certbot-training'];
    const a = await nsupdate(updateScript(info.dnsIp, key, info.zone, [`update add x.${info.zone}. 60 A 127.0.0.9`]));
    expect(a.code).not.toBe(0);
    expect(a.out).toMatch(/REFUSED/);

    const wrong = { ...key, secret: randomBytes(64).toString('base64') };
    const bad = await nsupdate(updateScript(info.dnsIp, wrong, info.zone, [`update add _acme-challenge.galaxy.${info.zone}. 60 TXT "x"`]));
    expect(bad.code).not.toBe(0);
    expect(bad.out).toMatch(/NOTAUTH|BADSIG|tsig/i);
  });
});

describe('lab Pebble', () => {
  it('serves its directory over HTTPS trusted through the lab CA only', async () => {
    const ca = await fs.readFile(info.caBundle, 'utf8');
    const res = await get(info.directoryUrl, ca);
    expect(res.status).toBe(200);
    const dir = JSON.parse(res.body) as Record<string, string>;
    expect(dir.newOrder).toBe(`https://${info.pebbleIp}:${info.acmePort}/order-plz`);
    expect(dir.newNonce).toBeTruthy();
    await expect(get(info.directoryUrl)).rejects.toThrow(/certificate/i);
  });

  it('serves its issuing root on the management port', async () => {
    const pem = await lab.pebbleRoots();
    expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const root = new X509Certificate(pem);
    expect(root.ca).toBe(true);
    expect(root.subject).toMatch(/Pebble Root CA/);
  });
});

describe('lab config', () => {
  it('writeConfig writes the gxit-cert YAML for this lab, overrides deep-merged', async () => {
    const file = path.join(info.dir, 'cfg', 'test.yml');
    await lab.writeConfig(file, { dns: { propagation_timeout: 5, rfc2136: { name: 'key-sha256.' } }, key_type: 'rsa-2048' });
    const cfg = parseYaml(await fs.readFile(file, 'utf8'));
    expect(cfg).toEqual({
      email: 'admin@example.org',
      server: info.directoryUrl,
      ca_bundle: info.caBundle,
      state_dir: path.join(info.dir, 'state'),
      key_type: 'rsa-2048',
      certificates: [{ name: 'galaxy.example.org', domains: ['galaxy.example.org', '*.ep.interactivetool.galaxy.example.org'] }],
      dns: {
        provider: 'rfc2136',
        resolvers: [`${info.dnsIp}:53`],
        propagation_timeout: 5,
        rfc2136: {
          server: info.dnsIp,
          port: 53,
          name: 'key-sha256.',
          secret_file: info.keys['certbot-training'].secretFile,
          algorithm: 'HMAC-SHA512',
        },
      },
    });
  });
});

describe('lab life cycle', () => {
  let other: Lab | undefined;
  const dir = path.join(os.tmpdir(), `gxit-cert-itest-${net}-lifecycle`);

  beforeAll(async () => {
    other = await startLab({
      dir,
      dnsIp: `${net}.22`,
      pebbleIp: `${net}.21`,
      zones: [{ name: 'other.test', records: 'www A 127.0.0.1\n_acme-challenge.www CNAME _acme-challenge.galaxy.example.org.' }],
    });
    console.log(`startLab (no secondary): ${other.startMs} ms ${JSON.stringify(other.timings)}; shared lab: ${info.startMs} ms ${JSON.stringify(info.timings)}`);
  });
  afterAll(async () => {
    await other?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('serves extra zones that the keys may update', async () => {
    const lab2 = other!;
    expect(lab2.zones).toEqual(['example.org', 'other.test']);
    expect(await dig(lab2.dnsIp, '+norecurse', 'other.test', 'SOA')).toMatch(/flags: qr aa/);
    expect((await dig(lab2.dnsIp, '+short', 'www.other.test', 'A')).trim()).toBe('127.0.0.1');
    const value = token();
    const key = lab2.keys['key-sha256'];
    const up = await nsupdate(updateScript(lab2.dnsIp, key, 'other.test', [`update add _acme-challenge.x.other.test. 60 TXT "${value}"`]));
    expect(up.out).toBe('');
    expect(await lab2.txt('_acme-challenge.x.other.test')).toEqual([value]);
  });

  it('refuses to start on addresses in use, naming them', async () => {
    const err = await startLab({ dir: `${dir}-2`, dnsIp: `${net}.22`, pebbleIp: `${net}.23` }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'LAB_BUSY' });
    expect(String((err as Error).message)).toContain(`${net}.22:53`);
    await fs.rm(`${dir}-2`, { recursive: true, force: true });
  });

  it('fails fast with the log when a zone does not load', async () => {
    const t = Date.now();
    const err = await startLab({
      dir: `${dir}-3`,
      dnsIp: `${net}.24`,
      pebbleIp: `${net}.25`,
      zones: [{ name: 'broken.test', records: 'www A not-an-address' }],
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'LAB_START' });
    expect(String((err as Error).message)).toMatch(/broken\.test.*not loaded due to errors/);
    expect(Date.now() - t).toBeLessThan(5000);
    expect(readLabInfo(`${dir}-3`)).toBeUndefined();
    await fs.rm(`${dir}-3`, { recursive: true, force: true });
  });

  it('stop() leaves no daemon and frees the addresses', async () => {
    const lab2 = other!;
    const pids = Object.values(lab2.pids);
    expect(pids.length).toBe(2);
    expect(pids.every(running)).toBe(true);
    await lab2.stop();
    other = undefined;
    expect(pids.some(running)).toBe(false);
    expect(readLabInfo(dir)).toBeUndefined();
    // the same addresses start again at once
    other = await startLab({ dir, dnsIp: `${net}.22`, pebbleIp: `${net}.21` });
    expect(other.zones).toEqual(['example.org']);
  });

  it('daemons die with the process that started them, even without stop()', async () => {
    const script = `
      import { startLab } from ${JSON.stringify(LAB_MJS)};
      const lab = await startLab({ dir: ${JSON.stringify(`${dir}-4`)}, dnsIp: '${net}.42', pebbleIp: '${net}.41' });
      console.log(JSON.stringify(lab.pids));
    `;
    const { stdout } = await execFileP(process.execPath, ['--input-type=module', '-e', script]);
    const pids = Object.values(JSON.parse(stdout) as Record<string, number>);
    expect(pids.length).toBe(2);
    expect(await eventually(async () => pids.some(running), (v) => !v)).toBe(false);
    // the next start in that dir cleans up the leftovers (lab.json, address)
    const again = await startLab({ dir: `${dir}-4`, dnsIp: `${net}.42`, pebbleIp: `${net}.41` });
    await again.stop();
    await fs.rm(`${dir}-4`, { recursive: true, force: true });
  });

  it('CLI start/status/stop runs a lab that outlives the command', async () => {
    const cliDir = `${dir}-cli`;
    const args = ['--dir', cliDir, '--dns-ip', `${net}.32`, '--secondary-ip', `${net}.33`, '--pebble-ip', `${net}.31`];
    try {
      const start = await execFileP(process.execPath, [LAB_MJS, 'start', ...args]);
      expect(start.stdout).toMatch(/lab started in \d+ ms/);
      const started = readLabInfo(cliDir)!;
      expect(Object.values(started.pids).every(running)).toBe(true);
      expect(running(started.ownerPid)).toBe(true);
      const cfg = parseYaml(await fs.readFile(path.join(cliDir, 'config.yml'), 'utf8'));
      expect(cfg.server).toBe(`https://${net}.31:14000/dir`);
      expect((await execFileP(process.execPath, [LAB_MJS, 'status', '--dir', cliDir])).stdout).not.toMatch(/NOT RUNNING/);
      expect((await dig(`${net}.33`, '+short', 'example.org', 'SOA')).trim()).toMatch(/^ns1\.example\.org\./);

      // start again replaces the running one
      await execFileP(process.execPath, [LAB_MJS, 'start', ...args]);
      const restarted = readLabInfo(cliDir)!;
      expect([...Object.values(started.pids), started.ownerPid].some((p) => running(p))).toBe(false);

      const stop = await execFileP(process.execPath, [LAB_MJS, 'stop', '--dir', cliDir]);
      expect(stop.stdout).toMatch(/stopped/);
      expect([...Object.values(restarted.pids), restarted.ownerPid].some((p) => running(p))).toBe(false);
    } finally {
      await execFileP(process.execPath, [LAB_MJS, 'stop', '--dir', cliDir]).catch(() => undefined);
      await fs.rm(cliDir, { recursive: true, force: true });
    }
  });
});
