/**
 * gxit-cert check-dns against the shared lab (BIND primary + secondary, Pebble), on zone variants made
 * with names of this file only (chk-*.example.org, created with the lab-admin key and removed after).
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rfc2136 } from '../../src/dns/providers/rfc2136/descriptor.js';
import { createStore } from '../../src/store/index.js';
import { lab, labConfig, nsupdate, runCli, txtEverywhere, type CliRun } from './helpers.js';
import type { CheckResult } from '../../src/check/types.js';

const CA = 'ca.example.net';
const Z = 'example.org';

/** Zone variants: name -> records (zone-file lines without the TTL, relative names spelled out). */
const VARIANTS: Record<string, string[]> = {
  'chk-good': ['chk-good A 127.0.0.1', '*.ep.interactivetool.chk-good CNAME chk-good', `chk-good CAA 0 issue "${CA}"`],
  'chk-nowild': ['chk-nowild A 127.0.0.1'],
  'chk-other': ['chk-other A 127.0.0.1', 'www.chk-other A 127.0.0.9', '*.ep.interactivetool.chk-other CNAME www.chk-other'],
  'chk-high': ['chk-high A 127.0.0.1', '*.interactivetool.chk-high CNAME chk-high'],
  'chk-noaddr': ['*.ep.interactivetool.chk-noaddr CNAME chk-noaddr'],
  'chk-caa': ['chk-caa A 127.0.0.1', '*.ep.interactivetool.chk-caa CNAME chk-caa', 'chk-caa CAA 0 issue "other-ca.example"'],
  'chk-caawild': ['chk-caawild A 127.0.0.1', '*.ep.interactivetool.chk-caawild CNAME chk-caawild', 'chk-caawild CAA 0 issuewild "other-ca.example"'],
};

const owners = (): string[] => [...new Set(Object.values(VARIANTS).flat().map((line) => `${line.split(' ')[0]}.${Z}.`))];

beforeAll(async () => {
  const adds = Object.values(VARIANTS).flat().map((line) => {
    const [owner, type, ...data] = line.split(' ');
    const rdata = type === 'CNAME' ? `${data[0]}.${Z}.` : data.join(' ');
    return `update add ${owner}.${Z}. 60 ${type} ${rdata}`;
  });
  await nsupdate(adds, 'lab-admin');
});

afterAll(async () => {
  await nsupdate(owners().map((o) => `update delete ${o}`), 'lab-admin');
});

const host = (v: string): string => `${v}.${Z}`;
const wildcard = (v: string): string => `*.ep.interactivetool.${v}.${Z}`;
const challenges = (v: string): string[] => [`_acme-challenge.${v}.${Z}`, `_acme-challenge.ep.interactivetool.${v}.${Z}`];

/** One line of check-dns's --json `results`. */
type Line = CheckResult;
interface Report {
  ok: boolean;
  summary: { ok: number; warn: number; fail: number };
  durationMs: number;
  provider: { name: string; summary: string };
  results: Line[];
  warnings: string[];
}

async function checkDns(variant: string, overrides: Record<string, unknown> = {}, args: string[] = ['--json']): Promise<{ run: CliRun; report?: Report }> {
  const { config } = await labConfig({
    caa_identities: [CA],
    certificates: [{ name: host(variant), domains: [host(variant), wildcard(variant)] }],
    ...overrides,
  });
  const run = await runCli(['check-dns', '--config', config, ...args]);
  for (const secret of Object.values(lab().keys).map((k) => k.secret)) expect(run.stdout + run.stderr).not.toContain(secret);
  const report = args.includes('--json') ? (JSON.parse(run.stdout) as Report) : undefined;
  // The write probe leaves nothing behind, on the primary and the secondary.
  for (const name of challenges(variant)) expect(await txtEverywhere(name), name).toEqual([]);
  return { run, report };
}

const failures = (r: Report): Line[] => r.results.filter((l) => l.status === 'fail');
const find = (r: Report, check: string, subject: string): Line | undefined => r.results.find((l) => l.check === check && l.subject === subject);

describe('gxit-cert check-dns on the lab', () => {
  it('passes the good zone with exit 0 and no warning, without waiting out a timeout: the wildcard-covered challenge name is ✓ with a note', async () => {
    const { run, report } = await checkDns('chk-good');
    expect(run.code, run.stdout).toBe(0);
    expect(run.stderr).toBe('');
    // Typically under a second; the bound is far below the lab's 30 s propagation_timeout, which a
    // probe that waited for a nameserver in vain would run into (speed itself: npm run bench).
    expect(run.ms).toBeLessThan(20_000);
    expect(report?.ok).toBe(true);
    expect(report?.provider).toEqual({ name: 'rfc2136', summary: rfc2136.summary });
    expect(report?.results.filter((l) => l.status !== 'ok').map((l) => `${l.check} ${l.subject}`)).toEqual([]);
    expect(find(report!, 'challenge', `_acme-challenge.ep.interactivetool.chk-good.${Z}`)).toMatchObject({
      status: 'ok',
      note: expect.stringContaining('(lego, cert-manager) would write at chk-good.example.org'),
    });
    const line = (check: string, subject: string) => find(report!, check, subject)?.message;
    expect(line('wildcard', wildcard('chk-good'))).toMatch(new RegExp(`^gxit-check-[0-9a-f]{8}\\.ep\\.interactivetool\\.chk-good\\.example\\.org → CNAME chk-good\\.example\\.org → A 127\\.0\\.0\\.1$`));
    expect(line('host', host('chk-good'))).toBe('chk-good.example.org → A 127.0.0.1');
    expect(line('zone', `zone ${Z}`)).toMatch(/^NS ns1\.example\.org, ns2\.example\.org, serial \d+ on every nameserver/);
    expect(report?.results.filter((l) => l.check === 'nameserver').map((l) => l.subject)).toEqual([
      `ns1.example.org (${lab().dnsIp}:53)`,
      `ns2.example.org (${lab().secondaryIp}:53)`,
    ]);
    expect(line('caa', host('chk-good'))).toBe(`CAA at chk-good.example.org allows ${CA} (issue)`);
    expect(line('tsig', `key certbot-training at ${lab().dnsIp}:53`)).toContain('with a valid signature');
    for (const name of challenges('chk-good')) {
      expect(line('write', name)).toMatch(/^added and removed TXT "gxit-cert-probe-[0-9a-f]{16}" .* every authoritative nameserver served it within \d+ ms$/);
    }
    expect(line('acme', lab().directoryUrl)).toMatch(/^the ACME directory answered in \d+ ms/);
    expect(line('account', lab().directoryUrl)).toContain('no account stored');
  });

  it('prints one line per check with ✓ / ! / ✗ and the fix under every ! and ✗', async () => {
    const { run } = await checkDns('chk-nowild', {}, []);
    expect(run.code).toBe(1);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toMatch(/^check-dns: \d+ ok, 0 warnings, 1 problem \(\d+\.\d\d s\)$/);
    const marked = lines.filter((l) => /^[✓!✗] /.test(l));
    expect(marked.length).toBe(lines.length - 2); // every line but the fix and the summary
    const i = lines.findIndex((l) => l.startsWith('✗ wildcard'));
    expect(lines[i]).toContain(`${wildcard('chk-nowild')}: there is no DNS wildcard for Interactive Tools`);
    expect(lines[i + 1]?.trim()).toBe(`fix: add the record "${wildcard('chk-nowild')}. CNAME chk-nowild.example.org."`);
  });

  it('fails a missing wildcard CNAME', async () => {
    const { run, report } = await checkDns('chk-nowild');
    expect(run.code).toBe(1);
    expect(failures(report!)).toMatchObject([
      {
        check: 'wildcard',
        status: 'fail',
        subject: wildcard('chk-nowild'),
        message: expect.stringMatching(/no DNS wildcard for Interactive Tools: gxit-check-[0-9a-f]{8}\.ep\.interactivetool\.chk-nowild\.example\.org: the name does not exist \(NXDOMAIN\)$/),
        fix: `add the record "${wildcard('chk-nowild')}. CNAME chk-nowild.example.org."`,
      },
    ]);
  });

  it('fails a wildcard CNAME to another host and shows where it leads', async () => {
    const { run, report } = await checkDns('chk-other');
    expect(run.code).toBe(1);
    const [line, ...rest] = failures(report!);
    expect(rest).toEqual([]);
    expect(line).toMatchObject({ check: 'wildcard', subject: wildcard('chk-other') });
    expect(line?.message).toMatch(/→ CNAME www\.chk-other\.example\.org → A 127\.0\.0\.9: this does not lead to chk-other\.example\.org \(A 127\.0\.0\.1\)$/);
    expect(line?.fix).toContain(`"${wildcard('chk-other')}. CNAME chk-other.example.org."`);
  });

  it('fails a wildcard only at *.interactivetool.<host>: the challenge TXT breaks GxIT routing', async () => {
    const { run, report } = await checkDns('chk-high');
    expect(run.code).toBe(1);
    const [line, ...rest] = failures(report!);
    expect(rest).toEqual([]);
    expect(line).toMatchObject({ check: 'wildcard', subject: wildcard('chk-high') });
    expect(line?.message).toContain('resolves only through *.interactivetool.chk-high.example.org');
    expect(line?.message).toContain('the TXT record at _acme-challenge.ep.interactivetool.chk-high.example.org that every validation adds creates ep.interactivetool.chk-high.example.org');
    expect(line?.fix).toBe(`add the record "${wildcard('chk-high')}. CNAME chk-high.example.org." (*.interactivetool.chk-high.example.org may stay)`);
  });

  it('fails a Galaxy host without an address', async () => {
    const { run, report } = await checkDns('chk-noaddr');
    expect(run.code).toBe(1);
    expect(failures(report!)).toMatchObject([
      {
        check: 'host',
        status: 'fail',
        subject: host('chk-noaddr'),
        message: 'has no address (A or AAAA): chk-noaddr.example.org: no such record (NODATA)',
        fix: 'add an address record for the Galaxy server, e.g. "chk-noaddr.example.org. A <its IPv4 address>"',
      },
    ]);
  });

  it('fails CAA that forbids the CA, for the name and the wildcard', async () => {
    const { run, report } = await checkDns('chk-caa');
    expect(run.code).toBe(1);
    expect(failures(report!).map((l) => [l.check, l.subject, l.message, l.fix])).toEqual(
      [host('chk-caa'), wildcard('chk-caa')].map((subject) => [
        'caa',
        subject,
        `CAA at chk-caa.example.org allows only other-ca.example (issue), not this CA (${CA} from caa_identities)`,
        `add the record chk-caa.example.org. CAA 0 issue "${CA}"`,
      ]),
    );
  });

  it('warns about CAA when the CA\'s identity is unknown (Pebble\'s directory names none)', async () => {
    const { run, report } = await checkDns('chk-caa', { caa_identities: undefined });
    expect(run.code).toBe(0);
    expect(find(report!, 'caa', host('chk-caa'))).toMatchObject({ status: 'warn', fix: expect.stringContaining('caa_identities') });
    expect(find(report!, 'acme', lab().directoryUrl)?.message).toContain('no CAA identities in its meta');
  });

  it('fails CAA with issuewild only for another CA: only the wildcard name is refused', async () => {
    const { run, report } = await checkDns('chk-caawild');
    expect(run.code).toBe(1);
    expect(find(report!, 'caa', host('chk-caawild'))).toMatchObject({ status: 'ok', message: expect.stringContaining('issuewild applies to wildcard names only') });
    expect(failures(report!)).toMatchObject([
      {
        check: 'caa',
        status: 'fail',
        subject: wildcard('chk-caawild'),
        message: `CAA at chk-caawild.example.org allows only other-ca.example (issuewild), not this CA (${CA} from caa_identities)`,
        fix: `add the record chk-caawild.example.org. CAA 0 issuewild "${CA}"`,
      },
    ]);
  });

  it('fails a wrong TSIG secret (BADSIG) and writes nothing', async () => {
    const wrong = randomBytes(64).toString('base64');
    const { run, report } = await checkDns('chk-good', { dns: { rfc2136: { secret_file: undefined, secret: wrong } } });
    expect(run.code).toBe(1);
    expect(run.stdout).not.toContain(wrong);
    expect(failures(report!)).toMatchObject([
      {
        check: 'tsig',
        status: 'fail',
        subject: `key certbot-training at ${lab().dnsIp}:53`,
        message: `server ${lab().dnsIp}:53 rejected a signed SOA query for zone example.org: the TSIG secret does not match the server's key certbot-training (BADSIG)`,
        fix: "check dns.rfc2136.secret: it must be the secret of key certbot-training in the server's configuration, with the same algorithm",
      },
    ]);
    expect(report?.results.some((l) => l.check === 'write')).toBe(false);
  });

  it('fails the write probe for a key that may update only another name, and names the names', async () => {
    const limited = lab().keys.limited;
    const { run, report } = await checkDns('chk-good', { dns: { rfc2136: { name: limited.name, secret_file: limited.secretFile, algorithm: 'hmac-sha256' } } });
    expect(run.code).toBe(1);
    expect(find(report!, 'tsig', `key limited at ${lab().dnsIp}:53`)?.status).toBe('ok');
    expect(failures(report!).map((l) => [l.check, l.subject, l.message, l.fix])).toEqual(
      challenges('chk-good').map((name) => [
        'write',
        name,
        `server ${lab().dnsIp}:53 refused the update for zone example.org signed with key limited (REFUSED)`,
        expect.stringContaining(`grants key limited TXT updates at ${name}`),
      ]),
    );
  });

  it('checks a stored account at the CA: valid, then deactivated', async () => {
    const acme = await import('acme-client');
    acme.axios.defaults.httpsAgent = new https.Agent({ ca: readFileSync(lab().caBundle) });
    const key = (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
    const client = new acme.Client({ directoryUrl: lab().directoryUrl, accountKey: key });
    await client.createAccount({ termsOfServiceAgreed: true });
    const { config, dir } = await labConfig({ caa_identities: [CA], certificates: [{ name: host('chk-good'), domains: [host('chk-good')] }] });
    const store = createStore(path.join(dir, 'state'));
    await store.writeAccountKey(lab().directoryUrl, key);
    await store.writeAccountUrl(lab().directoryUrl, { url: client.getAccountUrl() });

    const valid = await runCli(['check-dns', '--config', config, '--json']);
    expect(valid.code, valid.stdout).toBe(0);
    expect((JSON.parse(valid.stdout) as Report).results.find((l) => l.check === 'account')).toMatchObject({
      status: 'ok',
      subject: client.getAccountUrl(),
      message: 'the account is valid',
    });

    await client.updateAccount({ status: 'deactivated' });
    const gone = await runCli(['check-dns', '--config', config, '--json']);
    expect(gone.code).toBe(1);
    const line = (JSON.parse(gone.stdout) as Report).results.find((l) => l.check === 'account');
    expect(line).toMatchObject({ status: 'fail', subject: client.getAccountUrl() });
    expect(line?.fix).toContain(path.join(dir, 'state', 'accounts'));
  });

  it('exits 2 for configuration and usage errors', async () => {
    const { config } = await labConfig({ dns: { expect_target: '*.example.org' } });
    const bad = await runCli(['check-dns', '--config', config]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: .*config\.yml:\d+: dns\.expect_target: "\*\.example\.org" is a wildcard, not a host name/);
    const json = await runCli(['check-dns', '--config', config, '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: 'CONFIG_INVALID' } });
    expect((await runCli(['check-dns', '--no-such-flag'])).code).toBe(2);
  });
});
