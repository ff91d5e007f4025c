// gxit-cert with dns.provider: acme-dns, as a new user would set it up: `acme-dns register` writes the
// credentials (lego's format, 0600) and prints the CNAMEs; the zone's admin adds them (here with the
// lab-admin TSIG key); issue then writes through the acme-dns API (fixture, which serves the values
// from the lab BIND at <subdomain>.auth.example.org) and Pebble follows both CNAMEs.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAcmeDnsFixture, type AcmeDnsFixture } from '../../fixtures/acme-dns/server.mjs';
import { labConfig, lab, nsupdate, runCli, sans } from './helpers.js';

const BASE = 'acmedns.example.org';
const WILDCARD = `*.ep.interactivetool.${BASE}`;
const NAMES = [`_acme-challenge.${BASE}`, `_acme-challenge.ep.interactivetool.${BASE}`];
const SHARED = 'acmedns-pair.example.org';

let fx: AcmeDnsFixture;
let config: string;
let dir: string;
const cnames: string[] = [];

/** The records BIND holds at `name` itself (no CNAME chasing): type and data. */
async function ownRecords(name: string, type: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)('dig', ['+noall', '+answer', '+norecurse', `@${lab().dnsIp}`, name, type]);
  return stdout.split('\n').filter((l) => l.trim() !== '').map((l) => l.split(/\s+/)).filter((f) => f[0]?.toLowerCase() === `${name}.` && f[3] === type).map((f) => f.slice(4).join(' '));
}

beforeAll(async () => {
  const key = lab().keys['certbot-training'];
  fx = await startAcmeDnsFixture({
    domain: 'auth.example.org',
    zone: 'example.org',
    dns: { server: lab().dnsIp, port: 53, keyName: key.name, algorithm: key.algorithm, secretFile: key.secretFile },
  });
  await nsupdate([`update add ${BASE}. 60 A 127.0.0.1`, `update add ${WILDCARD}. 60 CNAME ${BASE}.`], 'lab-admin');
  const made = await labConfig({
    certificates: [{ name: BASE, domains: [BASE, WILDCARD] }],
    dns: { provider: 'acme-dns', rfc2136: undefined, acme_dns: { api: fx.url, credentials_file: 'acme-dns.json' } },
  });
  config = made.config;
  dir = made.dir;
});

afterAll(async () => {
  await fx.clearValues();
  await fx.stop();
  await nsupdate([`update delete ${BASE}. A`, `update delete ${WILDCARD}. CNAME`, ...[...NAMES, `_acme-challenge.${SHARED}`].map((n) => `update delete ${n}. CNAME`)], 'lab-admin');
});

describe('gxit-cert with dns.provider: acme-dns', () => {
  it('check-dns before registering says what to run', async () => {
    const check = await runCli(['check-dns', '--config', config]);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain('acme-dns.json does not exist');
    expect(check.stdout).toContain('run gxit-cert acme-dns register');
  });

  it('acme-dns register writes lego-format credentials (0600) and prints one CNAME per challenge name', async () => {
    const run = await runCli(['acme-dns', 'register', '--config', config]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const file = path.join(dir, 'acme-dns.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const creds = JSON.parse(await readFile(file, 'utf8'));
    expect(Object.keys(creds).sort()).toEqual([BASE, `ep.interactivetool.${BASE}`].sort());
    for (const entry of Object.values(creds) as Record<string, unknown>[]) {
      expect(Object.keys(entry).sort()).toEqual(['allowfrom', 'fulldomain', 'password', 'server_url', 'subdomain', 'username']);
      expect(entry.fulldomain).toBe(`${entry.subdomain}.auth.example.org`);
      // The API key is written to the file only.
      expect(run.stdout).not.toContain(entry.password);
    }
    const lines = run.stdout.trim().split('\n');
    expect(lines.slice(0, 2)).toEqual([`registered ${[BASE, `ep.interactivetool.${BASE}`].join(', ')} in ${file}`, 'create these CNAME records (once; they stay for every renewal):']);
    cnames.push(...lines.slice(2));
    expect(cnames.map((l) => l.split(' ')[0]).sort()).toEqual(NAMES.map((n) => `${n}.`).sort());
    // A second run keeps the registrations.
    const again = await runCli(['acme-dns', 'register', '--config', config]);
    expect(again.stdout.trim().split('\n')).toEqual([`every configured name is registered in ${file}`, 'create these CNAME records (once; they stay for every renewal):', ...cnames]);
    expect(fx.requests().filter((r) => r.path === '/register')).toHaveLength(2);
  });

  it('check-dns fails on the missing CNAMEs, and passes once the zone admin has added them', async () => {
    const before = await runCli(['check-dns', '--config', config, '--json']);
    const cnameResults = JSON.parse(before.stdout).results.filter((r: { check: string }) => r.check === 'cname');
    expect(cnameResults.map((r: { status: string }) => r.status)).toEqual(['fail', 'fail']);
    expect(cnameResults[0].message).toMatch(/^is not a CNAME to its acme-dns name [0-9a-f-]+\.auth\.example\.org$/);

    await nsupdate(cnames.map((l) => `update add ${l.split(' ')[0]} 60 CNAME ${l.split(' ')[2]}`), 'lab-admin');
    const after = await runCli(['check-dns', '--config', config, '--json']);
    const doc = JSON.parse(after.stdout);
    const mine = doc.results.filter((r: { check: string }) => r.check === 'cname' || r.check === 'write');
    expect(mine.map((r: { check: string; status: string }) => `${r.check} ${r.status}`)).toEqual(['cname ok', 'cname ok', 'write ok', 'write ok']);
    expect(mine[2].message).toMatch(/acme-dns keeps the two latest values/);
  });

  it('issues base + wildcard through the API, following both CNAMEs, and leaves no TXT record at the challenge names', async () => {
    fx.clearLogs();
    const run = await runCli(['issue', '--config', config, '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc.results[0]).toMatchObject({ name: BASE, status: 'issued' });
    for (const d of doc.results[0].dns) expect(d.delegatedVia).toHaveLength(1);
    const leaf = new X509Certificate(await readFile(path.join(dir, 'state', 'live', BASE, 'cert.pem')));
    expect(sans(leaf)).toEqual([WILDCARD, BASE].sort());
    expect(fx.requests().map((r) => `${r.path} ${r.status}`)).toEqual(['/update 200', '/update 200']);
    // The challenge names hold only their CNAMEs; acme-dns keeps the order's values at its own names
    // (it has no delete), one per registration here.
    for (const name of NAMES) {
      expect(await ownRecords(name, 'TXT')).toEqual([]);
      expect(await ownRecords(name, 'CNAME')).toHaveLength(1);
    }
    // Each registration's newest value is this order's challenge (the one before it: check-dns's probe).
    for (const account of fx.accounts()) {
      expect(account.values).toHaveLength(2);
      expect(account.values[0]).toMatch(/^gxit-cert-probe-/);
      expect(account.values[1]).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(account.values[1]).not.toMatch(/^gxit-cert-probe-/);
    }
  });

  it('issues a name and its wildcard through one registration: two values in one subdomain', async () => {
    const pair = await labConfig({
      certificates: [{ name: SHARED, domains: [SHARED, `*.${SHARED}`] }],
      dns: { provider: 'acme-dns', rfc2136: undefined, acme_dns: { api: fx.url, credentials_file: 'acme-dns.json' } },
    });
    const register = await runCli(['acme-dns', 'register', '--config', pair.config]);
    expect(register.code).toBe(0);
    const records = register.stdout.trim().split('\n').slice(2);
    expect(records).toHaveLength(1);
    const [name, , target] = (records[0] as string).split(' ');
    expect(name).toBe(`_acme-challenge.${SHARED}.`);
    await nsupdate([`update add ${name} 60 CNAME ${target}`], 'lab-admin');
    fx.clearLogs();
    const run = await runCli(['issue', '--config', pair.config, '--json']);
    expect(run.code).toBe(0);
    const leaf = new X509Certificate(await readFile(path.join(pair.dir, 'state', 'live', SHARED, 'cert.pem')));
    expect(sans(leaf)).toEqual([`*.${SHARED}`, SHARED].sort());
    expect(fx.requests().map((r) => `${r.path} ${r.status}`)).toEqual(['/update 200', '/update 200']);
    const account = fx.accounts().find((a) => `${a.fulldomain}.` === target);
    expect(account?.values).toHaveLength(2);
    expect(await ownRecords(`_acme-challenge.${SHARED}`, 'TXT')).toEqual([]);
  });

  it('refuses, before ordering, a certificate whose names would need three values in one subdomain', async () => {
    const file = path.join(dir, 'acme-dns.json');
    const creds = JSON.parse(await readFile(file, 'utf8'));
    // A third name sharing the base's registration.
    creds[`third.${BASE}`] = creds[BASE];
    const { writeFile } = await import('node:fs/promises');
    await writeFile(file, JSON.stringify(creds), { mode: 0o600 });
    const three = await labConfig({
      certificates: [{ name: BASE, domains: [BASE, `*.${BASE}`, `third.${BASE}`] }],
      dns: { provider: 'acme-dns', rfc2136: undefined, acme_dns: { api: fx.url, credentials_file: file } },
    });
    fx.clearLogs();
    const run = await runCli(['issue', '--config', three.config]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([
      `${BASE}: error: ${BASE}: ${BASE}, *.${BASE}, third.${BASE} share the acme-dns subdomain ${creds[BASE].fulldomain}, which keeps only 2 values at a time (give all but one base name (with its wildcard) its own registration: remove their entries from ${file} and run gxit-cert acme-dns register)`,
    ]);
    expect(fx.requests()).toEqual([]);
  });
});
