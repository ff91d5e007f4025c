// gxit-cert issue with dns.provider: exec, as a site with its own DNS scripts would run it: a
// lego-style script (`present|cleanup FQDN. VALUE`) and a certbot-style auth/cleanup hook pair, both
// calling BIND's nsupdate against the lab; Pebble validates; nothing of ours is left in DNS.
import { X509Certificate } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labConfig, lab, nsupdate, runCli, sans, txtEverywhere } from './helpers.js';

const LEGO = 'exec-lego.example.org';
const CERTBOT = 'exec-certbot.example.org';
const gxit = (base: string) => `*.ep.interactivetool.${base}`;
const challengeNames = (base: string) => [`_acme-challenge.${base}`, `_acme-challenge.ep.interactivetool.${base}`];

let dir: string;
let keyFile: string;
let callLog: string;

/** A script file (0755) in the test's directory. */
async function script(name: string, body: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `#!/bin/sh\nset -e\n${body}\n`, { mode: 0o700 });
  await chmod(file, 0o755);
  return file;
}

const execConfig = (base: string, exec: Record<string, unknown>) =>
  labConfig({ certificates: [{ name: base, domains: [base, gxit(base)] }], dns: { provider: 'exec', rfc2136: undefined, exec } });

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'gxit-exec-it-'));
  const k = lab().keys['certbot-training'];
  keyFile = path.join(dir, 'tsig.key');
  await writeFile(keyFile, `key "${k.name}" { algorithm ${k.algorithm}; secret "${k.secret}"; };\n`, { mode: 0o600 });
  callLog = path.join(dir, 'calls.log');
  // The GxIT layout: a wildcard CNAME over the interactive-tool names, for both test names.
  await nsupdate([LEGO, CERTBOT].flatMap((b) => [`update add ${b}. 60 A 127.0.0.1`, `update add ${gxit(b)}. 60 CNAME ${b}.`]), 'lab-admin');
});

afterAll(async () => {
  await nsupdate([LEGO, CERTBOT].flatMap((b) => [`update delete ${b}. A`, `update delete ${gxit(b)}. CNAME`, ...challengeNames(b).map((n) => `update delete ${n}. TXT`)]), 'lab-admin');
  await rm(dir, { recursive: true, force: true });
});

describe('gxit-cert issue with dns.provider: exec', () => {
  it('issues base + wildcard with a lego-style script that calls nsupdate, and removes every record it added', async () => {
    const server = lab().dnsIp;
    // What a site's lego exec script looks like: `$1` present|cleanup, `$2` the FQDN with a dot, `$3` the value.
    const hook = await script(
      'lego-nsupdate.sh',
      [
        `echo "$1 $2 $3" >> ${callLog}`,
        'case "$1" in present) op=add; ttl=60 ;; cleanup) op=delete; ttl= ;; *) echo "unknown action $1" >&2; exit 2 ;; esac',
        `printf 'server ${server} 53\\nupdate %s %s %s TXT "%s"\\nsend\\n' "$op" "$2" "$ttl" "$3" | nsupdate -k ${keyFile}`,
      ].join('\n'),
    );
    const { config, dir: cfgDir } = await execConfig(LEGO, { command: hook, timeout: 30 });
    const run = await runCli(['issue', '--config', config, '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).results[0]).toMatchObject({ name: LEGO, status: 'issued' });
    const leaf = new X509Certificate(await readFile(path.join(cfgDir, 'state', 'live', LEGO, 'cert.pem')));
    expect(sans(leaf)).toEqual([gxit(LEGO), LEGO].sort());
    const calls = (await readFile(callLog, 'utf8')).trim().split('\n').map((l) => l.split(' '));
    expect(calls.map((c) => `${c[0]} ${c[1]}`).sort()).toEqual(
      ['present', 'cleanup'].flatMap((a) => challengeNames(LEGO).map((n) => `${a} ${n}.`)).sort(),
    );
    // Every value presented was cleaned up again.
    const presented = calls.filter((c) => c[0] === 'present').map((c) => c[2]).sort();
    expect(calls.filter((c) => c[0] === 'cleanup').map((c) => c[2]).sort()).toEqual(presented);
    for (const name of challengeNames(LEGO)) expect(await txtEverywhere(name)).toEqual([]);
  });

  it('issues base + wildcard with a certbot-style auth/cleanup hook pair, and removes every record it added', async () => {
    const server = lab().dnsIp;
    const envLog = path.join(dir, 'certbot-env.log');
    // certbot --manual-auth-hook / --manual-cleanup-hook scripts as sites have them.
    const auth = await script(
      'certbot-auth.sh',
      [
        `echo "auth $CERTBOT_DOMAIN $CERTBOT_REMAINING_CHALLENGES $CERTBOT_ALL_DOMAINS $(env | grep -c -e TSIG -e SECRET || true)" >> ${envLog}`,
        `printf 'server ${server} 53\\nupdate add _acme-challenge.%s. 60 TXT "%s"\\nsend\\n' "$CERTBOT_DOMAIN" "$CERTBOT_VALIDATION" | nsupdate -k ${keyFile}`,
      ].join('\n'),
    );
    const cleanupHook = await script(
      'certbot-cleanup.sh',
      [
        `echo "cleanup $CERTBOT_DOMAIN" >> ${envLog}`,
        `printf 'server ${server} 53\\nupdate delete _acme-challenge.%s. TXT "%s"\\nsend\\n' "$CERTBOT_DOMAIN" "$CERTBOT_VALIDATION" | nsupdate -k ${keyFile}`,
      ].join('\n'),
    );
    const { config, dir: cfgDir } = await execConfig(CERTBOT, { auth_hook: auth, cleanup_hook: cleanupHook, parallel: false });
    // Secrets in gxit-cert's own environment must not reach the hooks.
    const run = await runCli(['issue', '--config', config, '--json'], { env: { GXIT_CERT_TSIG_SECRET: 'c2VjcmV0', AWS_SECRET_ACCESS_KEY: 'x' } });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const leaf = new X509Certificate(await readFile(path.join(cfgDir, 'state', 'live', CERTBOT, 'cert.pem')));
    expect(sans(leaf)).toEqual([gxit(CERTBOT), CERTBOT].sort());
    const lines = (await readFile(envLog, 'utf8')).trim().split('\n');
    const all = [CERTBOT, `ep.interactivetool.${CERTBOT}`].sort().join(',');
    const auths = lines.filter((l) => l.startsWith('auth '));
    expect(auths.map((l) => l.split(' ')[1]).sort()).toEqual([CERTBOT, `ep.interactivetool.${CERTBOT}`].sort());
    // Serial (parallel: false): the remaining count goes 1, 0.
    expect(auths.map((l) => l.split(' ')[2])).toEqual(['1', '0']);
    for (const l of auths) expect((l.split(' ')[3] ?? '').split(',').sort().join(',')).toBe(all);
    // No TSIG or other secret variable of gxit-cert's environment reached the hook.
    for (const l of auths) expect(l.split(' ')[4]).toBe('0');
    expect(lines.filter((l) => l.startsWith('cleanup '))).toHaveLength(2);
    for (const name of challengeNames(CERTBOT)) expect(await txtEverywhere(name)).toEqual([]);
  });

  it('fails in one line with the script\'s stderr when it cannot write, and check-dns says the same', async () => {
    const hook = await script('refuses.sh', 'echo "IPAM: zone example.org is read-only for this user" >&2\nexit 4');
    const { config } = await execConfig(LEGO, { command: [hook] });
    const run = await runCli(['issue', '--config', config]);
    expect(run.code).toBe(1);
    // The error line, and the cleanup (which ran the same refusing script) as a warning naming the names.
    // Which of the two challenge names fails first depends on the order the CA lists them in.
    const names = challengeNames(LEGO);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    const error = lines.find((l) => l.startsWith(`${LEGO}: error: `)) ?? '';
    const failed = names.find((n) => error === `${LEGO}: error: dns.exec.command ${hook} present ${n}. failed with exit code 4: IPAM: zone example.org is read-only for this user (run "${hook} present ${n}. <value>" by hand and fix what it reports)`);
    expect(failed, error).toBeDefined();
    const warning = lines.find((l) => l.startsWith('warning: ')) ?? '';
    expect(warning).toMatch(new RegExp(`^warning: ${LEGO}: could not remove the TXT records at .*: dns\\.exec\\.command .* cleanup _acme-challenge\\..* failed with exit code 4: IPAM: zone example.org is read-only for this user; they stay in the DNS journal and the next issue, renew or check-dns run removes them$`));
    for (const n of names) expect(warning).toContain(n);
    const check = await runCli(['check-dns', '--config', config]);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/write.*failed with exit code 4: IPAM: zone example.org is read-only/);
  });

  it('check-dns adds and removes a probe value through the script', async () => {
    const server = lab().dnsIp;
    const hook = await script(
      'probe-nsupdate.sh',
      [
        'case "$1" in present) op=add; ttl=60 ;; cleanup) op=delete; ttl= ;; esac',
        `printf 'server ${server} 53\\nupdate %s %s %s TXT "%s"\\nsend\\n' "$op" "$2" "$ttl" "$3" | nsupdate -k ${keyFile}`,
      ].join('\n'),
    );
    const { config } = await execConfig(LEGO, { command: hook });
    const check = await runCli(['check-dns', '--config', config, '--json']);
    const doc = JSON.parse(check.stdout);
    const writes = doc.results.filter((r: { check: string }) => r.check === 'write');
    expect(writes.map((r: { status: string }) => r.status)).toEqual(['ok', 'ok']);
    expect(writes[0].message).toMatch(/every authoritative nameserver served it within \d+ ms/);
    for (const name of challengeNames(LEGO)) expect(await txtEverywhere(name)).toEqual([]);
  });
});
