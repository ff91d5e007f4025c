import { spawn } from 'node:child_process';
import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lab, runCli, txtEverywhere } from './helpers.js';
import { HOOKS_DIR, liveCert, readJson, renewSetup, stateFile } from './renew-helpers.js';

const SECRET_ENV = {
  GXIT_CERT_TSIG_SECRET: 'dGhpcy1pcy1ub3QtdGhlLWxhYi1zZWNyZXQ=',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
  SOME_OTHER_VARIABLE: 'not-for-hooks',
};

/** KEY=value lines of an `env` dump. */
function parseEnv(text: string): Record<string, string> {
  return Object.fromEntries(text.trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}

describe('hook environment and phases', () => {
  it('runs pre, deploy and post in order with certbot\'s and gxit-cert\'s variables and no secret of gxit-cert\'s environment', async () => {
    const setup = await renewSetup('hk');
    const log = path.join(setup.dir, 'phases.log');
    const dump = (phase: string) => `echo ${phase} >> ${log}; env > ${setup.dir}/env-${phase}`;
    await setup.rewrite({ hooks: { pre: [dump('pre')], deploy: [dump('deploy')], post: [dump('post')], on_failure: [dump('on_failure')] } });
    // The TSIG secret comes from the lab's key file; the environment only carries decoys that must not leak.
    const run = await runCli(['issue', '--config', setup.config], { env: SECRET_ENV });
    expect(run.code, run.stderr).toBe(0);
    expect((await readFile(log, 'utf8')).split('\n').filter(Boolean)).toEqual(['pre', 'deploy', 'post']);

    const live = path.join(setup.stateDir, 'live', setup.names.base);
    const deploy = parseEnv(await readFile(`${setup.dir}/env-deploy`, 'utf8'));
    expect(deploy).toMatchObject({
      GXIT_CERT_HOOK: 'deploy',
      RENEWED_LINEAGE: live,
      RENEWED_DOMAINS: setup.names.domains.join(' '),
      GXIT_CERT_NAME: setup.names.base,
      GXIT_CERT_DOMAINS: setup.names.domains.join(' '),
      GXIT_CERT_FULLCHAIN: `${live}/fullchain.pem`,
      GXIT_CERT_CERT: `${live}/cert.pem`,
      GXIT_CERT_CHAIN: `${live}/chain.pem`,
      GXIT_CERT_KEY: `${live}/privkey.pem`,
      GXIT_CERT_VERSION: '1',
    });
    const post = parseEnv(await readFile(`${setup.dir}/env-post`, 'utf8'));
    expect(post).toMatchObject({ GXIT_CERT_HOOK: 'post', GXIT_CERT_OUTCOME: 'success', RENEWED_DOMAINS: setup.names.domains.join(' '), FAILED_DOMAINS: '', GXIT_CERT_RENEWED: setup.names.base });
    expect(parseEnv(await readFile(`${setup.dir}/env-pre`, 'utf8'))).toMatchObject({ GXIT_CERT_HOOK: 'pre', GXIT_CERT_LINEAGES: setup.names.base });

    const allowed = /^(PATH|HOME|LANG|LC_ALL|LC_CTYPE|TZ|PWD|SHLVL|_|OLDPWD|RENEWED_LINEAGE|RENEWED_DOMAINS|FAILED_DOMAINS|GXIT_CERT_[A-Z_]+)$/;
    const secrets = [...Object.values(SECRET_ENV), ...Object.values(lab().keys).map((k) => k.secret)];
    for (const phase of ['pre', 'deploy', 'post']) {
      const text = await readFile(`${setup.dir}/env-${phase}`, 'utf8');
      for (const name of Object.keys(parseEnv(text))) expect(name, `${phase} hook got ${name}`).toMatch(allowed);
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
  });

  it('runs on_failure and post with the outcome when an order fails; status warns (not due), a dry run that works clears it', async () => {
    const setup = await renewSetup('hk-fail');
    expect((await runCli(['issue', '--config', setup.config])).code).toBe(0);
    const dump = (phase: string) => `env > ${setup.dir}/env-${phase}`;
    // Nothing answers on this nameserver port: the propagation check fails after the records were written.
    await setup.rewrite({
      dns: { nameserver_port: 5399, propagation_timeout: 0.5 },
      hooks: { deploy: [dump('deploy')], post: [dump('post')], on_failure: [dump('on_failure')] },
    });
    const run = await runCli(['renew', '--force', '--config', setup.config]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/hk-fail\.example\.org: error: .*did not serve the TXT record/);
    const failure = parseEnv(await readFile(`${setup.dir}/env-on_failure`, 'utf8'));
    expect(failure).toMatchObject({ GXIT_CERT_HOOK: 'on_failure', GXIT_CERT_NAME: setup.names.base, FAILED_DOMAINS: setup.names.domains.join(' ') });
    expect(failure.GXIT_CERT_ERROR).toMatch(/did not serve the TXT record/);
    expect(parseEnv(await readFile(`${setup.dir}/env-post`, 'utf8'))).toMatchObject({ GXIT_CERT_OUTCOME: 'failure', FAILED_DOMAINS: setup.names.domains.join(' '), RENEWED_DOMAINS: '' });
    expect((await readdir(setup.dir)).includes('env-deploy')).toBe(false);
    for (const name of setup.names.challenges) expect(await txtEverywhere(name)).toEqual([]);

    // The forced run of a certificate that is not due failed: a warning, not an alert.
    const status = await runCli(['status', '--config', setup.config, '--json']);
    const entry = JSON.parse(status.stdout).lineages[0];
    expect(status.code, status.stdout).toBe(0);
    expect(entry).toMatchObject({ healthy: true, lastRun: { ok: false }, version: 1, due: { due: false } });
    expect(entry.warnings).toEqual([expect.stringMatching(/failed: .*did not serve the TXT record.*not due/)]);
    expect(entry.lastFailureAt).toEqual(expect.any(String));
    const text = await runCli(['status', '--config', setup.config]);
    expect(text.stdout).toMatch(/: ok, expires .*\n[\s\S]*  warning: the last run .* failed/);

    // A later successful run of any kind, here a dry run, clears it.
    await setup.rewrite();
    const dry = await runCli(['renew', '--dry-run', '--config', setup.config]);
    expect(dry.code, dry.stderr).toBe(0);
    const after = JSON.parse((await runCli(['status', '--config', setup.config, '--json'])).stdout).lineages[0];
    expect(after).toMatchObject({ healthy: true, lastRun: { ok: true }, warnings: [], version: 1 });
  });

  it('places no order when a pre hook fails', async () => {
    const setup = await renewSetup('hk-pre');
    expect((await runCli(['issue', '--config', setup.config])).code).toBe(0);
    await setup.rewrite({ hooks: { pre: ['echo "firewall still closed" >&2; exit 4'], post: [`echo post > ${setup.dir}/post-ran`] } });
    const run = await runCli(['renew', '--force', '--config', setup.config, '--json']);
    expect(run.code).toBe(1);
    const doc = JSON.parse(run.stdout);
    expect(doc.results[0]).toMatchObject({ status: 'failed', error: { code: 'HOOK_FAILED' } });
    expect(doc.results[0].error.message).toMatch(/^pre hook echo .* failed with exit code 4: firewall still closed; no order was placed$/);
    expect(doc.pre).toEqual([expect.objectContaining({ ok: false, exitCode: 4 })]);
    expect(await readFile(`${setup.dir}/post-ran`, 'utf8')).toBe('post\n');
    expect(await readdir(path.join(setup.stateDir, 'archive', setup.names.base))).not.toContain('cert2.pem');
  });

  it('dry run orders without touching live/ and runs deploy hooks only with --run-deploy-hooks', async () => {
    const setup = await renewSetup('hk-dry');
    expect((await runCli(['issue', '--config', setup.config])).code).toBe(0);
    const before = await liveCert(setup);
    const stateBefore = await readFile(stateFile(setup), 'utf8');
    await setup.rewrite({ hooks: { deploy: [`env > ${setup.dir}/env-deploy`] } });

    const dry = await runCli(['renew', '--dry-run', '--config', setup.config, '--json']);
    expect(dry.code, dry.stdout).toBe(0);
    const doc = JSON.parse(dry.stdout);
    expect(doc).toMatchObject({ ok: true, dryRun: true });
    expect(doc.results[0].status).toBe('dry-run');
    expect(doc.results[0].certificate.serial).not.toBe(before.serialNumber);
    expect((await liveCert(setup)).serialNumber).toBe(before.serialNumber);
    expect(await readFile(stateFile(setup), 'utf8')).toBe(stateBefore);
    expect(await readdir(path.join(setup.stateDir, 'archive', setup.names.base))).not.toContain('cert2.pem');
    expect((await readdir(setup.dir)).includes('env-deploy')).toBe(false);

    const withHooks = await runCli(['renew', '--dry-run', '--run-deploy-hooks', '--config', setup.config]);
    expect(withHooks.code, withHooks.stderr).toBe(0);
    expect(withHooks.stderr).toMatch(/dry run: the CA issued a certificate .*; it was discarded, live\/ is unchanged/);
    expect(parseEnv(await readFile(`${setup.dir}/env-deploy`, 'utf8'))).toMatchObject({ GXIT_CERT_DRY_RUN: '1', GXIT_CERT_VERSION: '1' });
    expect((await liveCert(setup)).serialNumber).toBe(before.serialNumber);
    expect((await readJson<{ version: number }>(stateFile(setup))).version).toBe(1);
  });
});

describe('the shipped restart-gx-it-proxy hook', () => {
  it('restarts gx-it-proxy with galaxyctl when it is in PATH', async () => {
    const setup = await renewSetup('hk-gxit');
    const bin = path.join(setup.dir, 'bin');
    await mkdir(bin);
    await writeFile(path.join(bin, 'galaxyctl'), `#!/bin/sh\necho "$@" >> ${setup.dir}/galaxyctl.log\necho "gx-it-proxy: restarted"\n`);
    await chmod(path.join(bin, 'galaxyctl'), 0o755);
    await setup.rewrite({ hooks: { deploy: [[path.join(HOOKS_DIR, 'restart-gx-it-proxy')]] } });
    const run = await runCli(['issue', '--config', setup.config, '--json'], { env: { PATH: `${bin}:${process.env.PATH ?? ''}` } });
    expect(run.code, run.stdout).toBe(0);
    expect(await readFile(`${setup.dir}/galaxyctl.log`, 'utf8')).toBe('restart gx-it-proxy\n');
    expect(JSON.parse(run.stdout).results[0].hooks[0].output).toContain('restarted gx-it-proxy (');
  });

  it('fails loudly without galaxyctl and without systemd', async () => {
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(path.join(HOOKS_DIR, 'restart-gx-it-proxy'), [], { env: { PATH: '/usr/bin:/bin' }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/found neither galaxyctl nor a running systemd to restart galaxy-gx-it-proxy/);
  });

  it('reload-nginx fails loudly when nginx is not running', async () => {
    const setup = await renewSetup('hk-ngx');
    const conf = path.join(setup.dir, 'nginx.conf');
    await writeFile(conf, `pid ${setup.dir}/nginx.pid;\nerror_log ${setup.dir}/error.log;\nevents {}\nhttp {}\n`);
    await setup.rewrite({ hooks: { deploy: [[path.join(HOOKS_DIR, 'reload-nginx'), '--conf', conf]] } });
    const run = await runCli(['issue', '--config', setup.config]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/error: deploy hook reload-nginx failed with exit code 1: .*-s reload' failed \(is nginx running\?/);
  });
});
