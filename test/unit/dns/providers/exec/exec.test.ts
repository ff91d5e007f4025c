// The exec provider runs real scripts (sh) in a temporary directory: arguments, environment,
// parallelism, failures and timeouts as a site's script sees them.
import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecProvider, domainOf, invocation, scriptEnvironment } from '../../../../../src/dns/providers/exec/provider.js';
import type { ExecSettings } from '../../../../../src/dns/providers/exec/settings.js';
import { GxitError } from '../../../../../src/errors.js';

let dir: string;
const signal = new AbortController().signal;
const parentEnv = { PATH: '/usr/bin:/bin', HOME: '/home/x', LANG: 'C.UTF-8', AWS_SECRET_ACCESS_KEY: 'do-not-pass', GXIT_CERT_TSIG_SECRET: 'nope' };

async function script(name: string, body: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}
const lines = async (file: string): Promise<string[]> => (await readFile(file, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '');

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'gxit-exec-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const records = [
  { fqdn: '_acme-challenge.galaxy.example.org', value: 'value-base' },
  { fqdn: '_acme-challenge.galaxy.example.org', value: 'value-wild' },
  { fqdn: '_acme-challenge.ep.interactivetool.galaxy.example.org', value: 'value-gxit' },
];

describe('pure parts', () => {
  it('builds the environment from scratch: PATH with sbin, harmless variables, the contract\'s own', () => {
    const env = scriptEnvironment(parentEnv, { CERTBOT_DOMAIN: 'x' });
    expect(env).toEqual({ PATH: '/usr/bin:/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin', HOME: '/home/x', LANG: 'C.UTF-8', CERTBOT_DOMAIN: 'x' });
  });
  it('passes arguments to a shell command as positional parameters, never inside the shell text', () => {
    expect(invocation({ shell: '/opt/hook --zone x' }, ['present', 'a.', 'v;rm -rf /'])).toEqual({
      program: '/bin/sh',
      args: ['-c', '/opt/hook --zone x "$@"', 'gxit-cert-exec', 'present', 'a.', 'v;rm -rf /'],
      label: '/opt/hook',
    });
    expect(invocation({ argv: ['/opt/hook', '-q'] }, ['cleanup', 'a.', 'v'])).toEqual({ program: '/opt/hook', args: ['-q', 'cleanup', 'a.', 'v'], label: '/opt/hook' });
  });
  it('takes the domain from the record, without "*.", or from the challenge name', () => {
    expect(domainOf({ fqdn: '_acme-challenge.a.example.org', value: 'v' })).toBe('a.example.org');
    expect(domainOf({ fqdn: 'x.auth.example.net', value: 'v', domain: '*.a.example.org' })).toBe('a.example.org');
  });
});

describe('lego style (command present|cleanup FQDN. VALUE)', () => {
  it('calls the command once per record with the trailing-dot name and nothing of our secrets', async () => {
    const log = path.join(dir, 'lego.log');
    const cmd = await script('lego.sh', `echo "$1 $2 $3 $(env | grep -c -e SECRET -e TSIG) $PATH" >> ${log}`);
    const p = createExecProvider({ style: 'lego', command: { argv: [cmd] }, timeoutMs: 10_000, parallel: true }, { parentEnv });
    await p.present(records, signal);
    await p.cleanup(records, signal);
    const got = await lines(log);
    const pathValue = '/usr/bin:/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin';
    expect(got.slice(0, 3).sort()).toEqual([
      `present _acme-challenge.ep.interactivetool.galaxy.example.org. value-gxit 0 ${pathValue}`,
      `present _acme-challenge.galaxy.example.org. value-base 0 ${pathValue}`,
      `present _acme-challenge.galaxy.example.org. value-wild 0 ${pathValue}`,
    ]);
    expect(got.slice(3).map((l) => l.split(' ').slice(0, 3).join(' ')).sort()).toEqual([
      'cleanup _acme-challenge.ep.interactivetool.galaxy.example.org. value-gxit',
      'cleanup _acme-challenge.galaxy.example.org. value-base',
      'cleanup _acme-challenge.galaxy.example.org. value-wild',
    ]);
  });

  it('removes an earlier run\'s values (from the DNS journal) although this process never presented them', async () => {
    const log = path.join(dir, 'leftovers.log');
    const cmd = await script('leftovers.sh', `echo "$1 $2 $3" >> ${log}`);
    const p = createExecProvider({ style: 'lego', command: { argv: [cmd] }, timeoutMs: 10_000, parallel: false }, { parentEnv });
    await p.cleanup([records[0]!], signal);
    expect(await lines(log)).toEqual([]);
    await p.removeLeftovers!([records[0]!], signal);
    expect(await lines(log)).toEqual(['cleanup _acme-challenge.galaxy.example.org. value-base']);
  });

  it('runs the calls at the same time unless parallel: false', async () => {
    // Each call holds a mkdir lock for a moment: overlapping calls find it taken.
    const lock = path.join(dir, 'lock');
    const marks = path.join(dir, 'overlap.log');
    const body = `if mkdir ${lock} 2>/dev/null; then sleep 0.3; rmdir ${lock}; echo alone >> ${marks}; else echo overlap >> ${marks}; fi`;
    const cmd = await script('overlap.sh', body);
    const serial = createExecProvider({ style: 'lego', command: { argv: [cmd] }, timeoutMs: 10_000, parallel: false }, { parentEnv });
    await serial.present(records, signal);
    expect(await lines(marks)).toEqual(['alone', 'alone', 'alone']);
    await rm(marks);
    // In parallel every call waits (up to 10 s) until all three have started: it succeeds only if they overlap.
    const starts = path.join(dir, 'starts.log');
    const waiter = await script('together.sh', `echo x >> ${starts}; i=0; while [ $(wc -l < ${starts}) -lt 3 ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; [ $(wc -l < ${starts}) -ge 3 ]`);
    const parallel = createExecProvider({ style: 'lego', command: { argv: [waiter] }, timeoutMs: 30_000, parallel: true }, { parentEnv });
    await parallel.present(records, signal);
    expect(await lines(starts)).toHaveLength(3);
  });

  it('strips escape sequences from the stderr it quotes (a script cannot recolour or retitle the terminal)', async () => {
    const cmd = await script('ansi.sh', `printf '\\033[31mred alert\\033[0m\\033]0;owned\\007\\n' >&2; exit 4`);
    const p = createExecProvider({ style: 'lego', command: { shell: cmd }, timeoutMs: 10_000, parallel: false }, { parentEnv });
    const error = await p.present(records.slice(0, 1), signal).catch((e: unknown) => e);
    expect((error as GxitError).message).toMatch(/failed with exit code 4: red alert$/);
    expect((error as GxitError).message).not.toContain('\u001b');
  });

  it('fails in one line with the script\'s stderr, and cleans up only records whose call started', async () => {
    const log = path.join(dir, 'fail.log');
    const cmd = await script('fail.sh', `echo "$1 $3" >> ${log}\nif [ "$1" = present ] && [ "$3" = value-base ]; then echo "noise on stdout"; echo "IPAM says: 403 not your zone" >&2; exit 3; fi`);
    const p = createExecProvider({ style: 'lego', command: { shell: cmd }, timeoutMs: 10_000, parallel: false }, { parentEnv });
    const error = await p.present(records, signal).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GxitError);
    expect((error as GxitError).message).toBe(`dns.exec.command ${cmd} present _acme-challenge.galaxy.example.org. failed with exit code 3: IPAM says: 403 not your zone`);
    expect((error as GxitError).fix).toContain(`run "${cmd} present _acme-challenge.galaxy.example.org. <value>" by hand`);
    await p.cleanup(records, signal);
    // Serial: the first call failed, the other two never started and are not cleaned up.
    expect(await lines(log)).toEqual(['present value-base', 'cleanup value-base']);
  });

  it('kills the whole process group when the timeout passes', async () => {
    const pidFile = path.join(dir, 'child.pid');
    const cmd = await script('hang.sh', `sleep 30 & echo $! > ${pidFile}; wait`);
    const p = createExecProvider({ style: 'lego', command: { argv: [cmd] }, timeoutMs: 500, parallel: true }, { parentEnv, killGraceMs: 500 });
    const started = Date.now();
    const error = await p.present([records[0] as (typeof records)[0]], signal).catch((e: unknown) => e);
    expect((error as GxitError).message).toMatch(/did not finish within 0.5 s and was killed \(nothing on stderr\)$/);
    expect((error as GxitError).fix).toContain('dns.exec.timeout');
    // The script's child sleeps 30 s; killed after 0.5 s + 0.5 s grace.
    expect(Date.now() - started).toBeLessThan(20_000);
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    // The grandchild (sleep 30) went with the group.
    let alive = true;
    for (let i = 0; i < 100 && alive; i++) {
      try {
        process.kill(pid, 0);
        await new Promise((r) => setTimeout(r, 50));
      } catch {
        alive = false;
      }
    }
    expect(alive).toBe(false);
  });

  it('stops a running script when the run is interrupted', async () => {
    const cmd = await script('slow.sh', 'sleep 30');
    const p = createExecProvider({ style: 'lego', command: { argv: [cmd] }, timeoutMs: 60_000, parallel: true }, { parentEnv, killGraceMs: 500 });
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error('SIGINT')), 200);
    const error = await p.present([records[0] as (typeof records)[0]], abort.signal).catch((e: unknown) => e);
    expect((error as GxitError).message).toContain('was stopped (interrupted)');
  });

  it('says when the command does not exist', async () => {
    const p = createExecProvider({ style: 'lego', command: { argv: [path.join(dir, 'missing.sh')] }, timeoutMs: 5000, parallel: true }, { parentEnv });
    const error = await p.present([records[0] as (typeof records)[0]], signal).catch((e: unknown) => e);
    expect((error as GxitError).message).toContain(`could not be started: ${path.join(dir, 'missing.sh')}: no such file`);
  });
});

describe('certbot style (auth_hook / cleanup_hook)', () => {
  it('sets CERTBOT_DOMAIN without "*.", CERTBOT_VALIDATION, CERTBOT_REMAINING_CHALLENGES, CERTBOT_ALL_DOMAINS and hands the auth output to cleanup', async () => {
    const out = path.join(dir, 'certbot');
    await rm(out, { recursive: true, force: true });
    const { mkdir } = await import('node:fs/promises');
    await mkdir(out);
    const auth = await script('auth.sh', `env | sort > ${out}/auth-$CERTBOT_VALIDATION\necho "record-id-$CERTBOT_VALIDATION"`);
    const cleanupHook = await script('cleanup.sh', `env | sort > ${out}/cleanup-$CERTBOT_VALIDATION`);
    const settings: ExecSettings = { style: 'certbot', authHook: { shell: auth }, cleanupHook: { shell: cleanupHook }, timeoutMs: 10_000, parallel: true };
    const p = createExecProvider(settings, { parentEnv });
    const withDomains = [
      { ...records[0], domain: 'galaxy.example.org' },
      { ...records[1], domain: '*.galaxy.example.org' },
    ] as { fqdn: string; value: string; domain: string }[];
    await p.present(withDomains, signal);
    await p.cleanup(withDomains, signal);
    expect((await readdir(out)).sort()).toEqual(['auth-value-base', 'auth-value-wild', 'cleanup-value-base', 'cleanup-value-wild']);
    const envOf = async (f: string) => Object.fromEntries((await lines(path.join(out, f))).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    const authBase = await envOf('auth-value-base');
    expect(authBase).toMatchObject({ CERTBOT_DOMAIN: 'galaxy.example.org', CERTBOT_VALIDATION: 'value-base', CERTBOT_REMAINING_CHALLENGES: '1', CERTBOT_ALL_DOMAINS: 'galaxy.example.org' });
    expect(Object.keys(authBase).filter((k) => /SECRET|TSIG|AWS/.test(k))).toEqual([]);
    const authWild = await envOf('auth-value-wild');
    expect(authWild).toMatchObject({ CERTBOT_DOMAIN: 'galaxy.example.org', CERTBOT_REMAINING_CHALLENGES: '0' });
    expect(authWild.CERTBOT_AUTH_OUTPUT).toBeUndefined();
    expect(await envOf('cleanup-value-wild')).toMatchObject({ CERTBOT_VALIDATION: 'value-wild', CERTBOT_AUTH_OUTPUT: 'record-id-value-wild' });
  });

  it('names the hook and the domain when the auth hook fails', async () => {
    const auth = await script('auth-fail.sh', 'echo "web form returned 500" >&2; exit 1');
    const p = createExecProvider({ style: 'certbot', authHook: { shell: auth }, timeoutMs: 10_000, parallel: true }, { parentEnv });
    const error = await p.present([records[2] as (typeof records)[0]], signal).catch((e: unknown) => e);
    expect((error as GxitError).message).toBe(`dns.exec.auth_hook ${auth} for ep.interactivetool.galaxy.example.org failed with exit code 1: web form returned 500`);
    // No cleanup hook configured: cleanup has nothing to run.
    await expect(p.cleanup([records[2] as (typeof records)[0]], signal)).resolves.toBeUndefined();
  });
});

describe('probe', () => {
  it('adds and removes a probe value through the script and lets the caller look in between', async () => {
    const log = path.join(dir, 'probe.log');
    const cmd = await script('probe.sh', `echo "$1 $2 $3" >> ${log}`);
    const p = createExecProvider({ style: 'lego', command: { argv: [cmd] }, timeoutMs: 10_000, parallel: true }, { parentEnv });
    const seen: string[] = [];
    const result = await p.probe?.('_acme-challenge.galaxy.example.org', { signal, whilePresent: async (r) => { seen.push(...(await lines(log))); expect(r.value).toMatch(/^gxit-cert-probe-/); } });
    expect(result?.ok).toBe(true);
    expect(seen).toHaveLength(1);
    const all = await lines(log);
    expect(all.map((l) => l.split(' ')[0])).toEqual(['present', 'cleanup']);
    expect(result?.detail).toContain(`through dns.exec.command ${cmd}`);
  });
});
