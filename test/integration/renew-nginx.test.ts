import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, txtEverywhere } from './helpers.js';
import { HOOKS_DIR, liveCert, readJson, renewSetup, servedCertificate, startNginx, stateFile, waitFor, type Nginx, type RenewSetup } from './renew-helpers.js';

// Our own nginx on an address of this file's own, serving the lineage's live/ files.
const NGINX_HOST = '127.0.61.1';

describe('renew with the shipped reload-nginx hook and a real nginx', () => {
  let setup: RenewSetup;
  let nginx: Nginx;
  const reload = (): string[] => [path.join(HOOKS_DIR, 'reload-nginx'), '--conf', nginx.conf];
  const served = async (sni: string) => (await servedCertificate(nginx.host, nginx.port, sni)).serialNumber;
  // Right after a reload an old worker may still take a connection or two with the old certificate
  // (nginx closes its listeners gracefully): wait for the serial instead of asking once.
  const servesEventually = (sni: string, serial: string): Promise<void> => waitFor(`nginx serving ${serial} for ${sni}`, async () => (await served(sni)) === serial, 30_000);

  beforeAll(async () => {
    setup = await renewSetup('rnw');
    const issued = await runCli(['issue', '--config', setup.config]);
    expect(issued.code, issued.stderr).toBe(0);
    nginx = await startNginx(setup.dir, NGINX_HOST, path.join(setup.stateDir, 'live', setup.names.base), setup.names.domains);
  });
  afterAll(async () => {
    await nginx?.stop();
  });

  it('renews with --force, reloads nginx, and nginx serves the new serial for the name and the wildcard', async () => {
    const before = await liveCert(setup);
    expect(await served(setup.names.base)).toBe(before.serialNumber);
    await setup.rewrite({ hooks: { deploy: [reload()] }, verify_served: [`${nginx.host}:${nginx.port}`] });

    const run = await runCli(['renew', '--force', '--config', setup.config, '--json']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc.ok).toBe(true);
    const result = doc.results[0];
    expect(result).toMatchObject({ name: setup.names.base, status: 'renewed', reason: 'forced', certificate: { version: 2 } });
    expect(result.hooks).toEqual([expect.objectContaining({ phase: 'deploy', hook: 'reload-nginx', ok: true, exitCode: 0 })]);
    expect(result.hooks[0].output).toContain('reloaded nginx');
    // The served-certificate check asked with SNI for the name and a random label under the wildcard.
    expect(result.served).toHaveLength(2);
    expect(result.served.every((c: { ok: boolean }) => c.ok)).toBe(true);
    expect(result.served[1].sni).toMatch(/^gxit-[0-9a-f]{10}\.ep\.interactivetool\.rnw\.example\.org$/);

    const after = await liveCert(setup);
    expect(after.serialNumber).not.toBe(before.serialNumber);
    await servesEventually(setup.names.base, after.serialNumber);
    await servesEventually(`tool1.ep.interactivetool.${setup.names.base}`, after.serialNumber);
    for (const name of setup.names.challenges) expect(await txtEverywhere(name)).toEqual([]);

    const status = await runCli(['status', '--config', setup.config, '--json']);
    expect(status.code, status.stdout).toBe(0);
    const entry = JSON.parse(status.stdout).lineages[0];
    expect(entry).toMatchObject({ name: setup.names.base, version: 2, serial: after.serialNumber, healthy: true, lastRun: { ok: true } });
    expect(entry.deploy).toMatchObject({ version: 2, ok: true });
  });

  it('exits 1 and keeps the certificate when nginx -t fails; a later renew deploys it again once nginx is fixed', async () => {
    await setup.rewrite({ hooks: { deploy: [reload()] }, verify_served: [`${nginx.host}:${nginx.port}`] });
    const servedBefore = (await liveCert(setup)).serialNumber;
    await servesEventually(setup.names.base, servedBefore);
    await nginx.writeConf(nginx.confText.replace('worker_connections 64;', 'worker_connections 64; this_is_not_a_directive;'));

    const run = await runCli(['renew', '--force', '--config', setup.config]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/renewed \(forced\): version 3/);
    expect(run.stderr).toMatch(/error: deploy hook reload-nginx failed with exit code 1: /);
    expect(run.stderr).toContain('this_is_not_a_directive');
    // The new certificate is stored; nginx still serves the previous one.
    const v3 = await liveCert(setup);
    expect(v3.serialNumber).not.toBe(servedBefore);
    expect(await served(setup.names.base)).toBe(servedBefore);

    const status = await runCli(['status', '--config', setup.config, '--json']);
    expect(status.code).toBe(1);
    const entry = JSON.parse(status.stdout).lineages[0];
    expect(entry).toMatchObject({ healthy: false, deploy: { version: 3, ok: false } });
    expect(entry.deploy.error).toContain('reload-nginx');
    const text = await runCli(['status', '--config', setup.config]);
    expect(text.stdout).toContain(`${setup.names.base}: NOT DEPLOYED`);

    // Fixed: a plain renew (nothing due) repeats the deploy, and the served check passes.
    await nginx.writeConf(nginx.confText);
    const again = await runCli(['renew', '--config', setup.config, '--json']);
    expect(again.code, again.stdout).toBe(0);
    const doc = JSON.parse(again.stdout);
    expect(doc.results[0]).toMatchObject({ status: 'redeployed', hooks: [expect.objectContaining({ hook: 'reload-nginx', ok: true })] });
    await servesEventually(setup.names.base, v3.serialNumber);
    expect((await runCli(['status', '--config', setup.config])).code).toBe(0);
    expect((await readJson<{ runs: { deploy: { ok: boolean } } }>(stateFile(setup))).runs.deploy.ok).toBe(true);
  });

  it('reports a served-certificate mismatch when the deploy hook does not reload nginx', async () => {
    await setup.rewrite({ hooks: { deploy: ['true'] }, verify_served: [`${nginx.host}:${nginx.port}`] });
    const run = await runCli(['renew', '--force', '--config', setup.config], { timeoutMs: 60_000 });
    expect(run.code).toBe(1);
    const live = await liveCert(setup);
    expect(run.stderr).toMatch(new RegExp(`error: ${nginx.host}:${nginx.port} \\(SNI rnw\\.example\\.org\\) serves serial [0-9A-F]+ .*not the new certificate \\(serial ${live.serialNumber}\\)`));
    // put nginx back on the live certificate for the other tests
    await setup.rewrite({ hooks: { deploy: [reload()] } });
    const restored = await runCli(['renew', '--force', '--config', setup.config]);
    expect(restored.code, restored.stderr).toBe(0);
  });
});

describe('deploy hooks that fail or hang', () => {
  it('reports a failing hook with its exit code and output, runs the next hook, and keeps the new certificate', async () => {
    const setup = await renewSetup('rnw-fail', { hooks: { deploy: ['echo "cannot talk to the proxy" >&2; exit 7', 'echo second ran'] } });
    const run = await runCli(['issue', '--config', setup.config, '--json']);
    expect(run.code).toBe(1);
    const doc = JSON.parse(run.stdout);
    expect(doc.ok).toBe(false);
    expect(doc.results[0]).toMatchObject({ status: 'issued', certificate: { version: 1 } });
    expect(doc.results[0].hooks.map((h: { ok: boolean; exitCode: number }) => [h.ok, h.exitCode])).toEqual([[false, 7], [true, 0]]);
    expect(doc.results[0].problems).toEqual([expect.stringMatching(/^deploy hook echo .* failed with exit code 7: cannot talk to the proxy$/)]);
    expect((await stat(path.join(setup.stateDir, 'live', setup.names.base, 'cert.pem'))).isFile()).toBe(true);
  });

  it('kills a hook that runs past hooks.timeout and says so', async () => {
    const setup = await renewSetup('rnw-hang');
    expect((await runCli(['issue', '--config', setup.config])).code).toBe(0);
    const pidFile = path.join(setup.dir, 'hook.pid');
    await setup.rewrite({ hooks: { deploy: [`echo $$ > ${pidFile}; sleep 60`], timeout: 1 } });
    const run = await runCli(['renew', '--force', '--config', setup.config]);
    expect(run.code).toBe(1);
    // Well below the hook's 60 s sleep: it was killed after hooks.timeout (1 s).
    expect(run.ms).toBeLessThan(30_000);
    expect(run.stderr).toMatch(/error: deploy hook echo .* did not finish within 1 s and was killed/);
    expect(run.stderr).toMatch(/renewed \(forced\): version 2/);
    const pid = Number(await readFile(pidFile, 'utf8'));
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    expect(stat === '' || stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')).toBe(true);
  });
});

describe('the shipped install-files hook', () => {
  it('copies fullchain, cert and key atomically with owner, group and mode, and a key per user', async () => {
    const setup = await renewSetup('rnw-files');
    const out = path.join(setup.dir, 'ssl');
    const hook = [
      path.join(HOOKS_DIR, 'install-files'),
      '--fullchain', `${out}/certs/fullchain.pem`,
      '--cert', `${out}/certs/cert.pem`,
      '--key', `${out}/private/privkey.pem`,
      '--group', 'nogroup',
      '--user', 'nobody',
      '--user-dir', `${out}/user`,
    ];
    await setup.rewrite({ hooks: { deploy: [hook] } });
    const run = await runCli(['issue', '--config', setup.config]);
    expect(run.code, run.stderr).toBe(0);
    const live = path.join(setup.stateDir, 'live', setup.names.base);
    const expectations: [string, string, number, number, number][] = [
      [`${out}/certs/fullchain.pem`, 'fullchain.pem', 0o644, 0, 65534],
      [`${out}/certs/cert.pem`, 'cert.pem', 0o644, 0, 65534],
      [`${out}/private/privkey.pem`, 'privkey.pem', 0o640, 0, 65534],
      [`${out}/user/privkey-nobody.pem`, 'privkey.pem', 0o640, 65534, 0],
    ];
    for (const [file, source, mode, uid, gid] of expectations) {
      const s = await stat(file);
      expect([file, s.mode & 0o777, s.uid, s.gid]).toEqual([file, mode, uid, gid]);
      expect(await readFile(file, 'utf8')).toBe(await readFile(path.join(live, source), 'utf8'));
    }
    expect((await stat(`${out}/private`)).mode & 0o777).toBe(0o750);
    // No temp file left next to the targets.
    for (const dir of ['certs', 'private', 'user']) expect((await readdir(`${out}/${dir}`)).filter((f) => f.startsWith('.'))).toEqual([]);

    // A renewal replaces the copies.
    expect((await runCli(['renew', '--force', '--config', setup.config])).code).toBe(0);
    expect(await readFile(`${out}/private/privkey.pem`, 'utf8')).toBe(await readFile(path.join(live, 'privkey.pem'), 'utf8'));
  });
});
