/**
 * The package as an admin installs it: the bundle is built, `npm pack` makes the tarball and
 * `npm install -g --prefix P` installs it offline (the package has no dependencies); then the installed
 * P/bin/gxit-cert issues on the lab, and install-timer names it and refuses where no scheduler runs.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, constants, copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRoute53Fixture } from '../../fixtures/route53/server.mjs';
import { lab, nsupdate, runCli, type CliRun } from './helpers.js';
import { CHECKOUT as checkout, installTarball, packTarball } from './package-helpers.js';
import { renewSetup } from './renew-helpers.js';

const nodeDir = path.dirname(process.execPath);
/** A PATH with node but without any gxit-cert. */
const basePath = `${nodeDir}:/usr/sbin:/usr/bin:/sbin:/bin`;

let work: string;
let prefix: string;
let installed: string;

/** Runs a program (the installed gxit-cert: a `#!/usr/bin/env node` script) with a given PATH. */
function runProgram(program: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env: { ...process.env, PATH: basePath, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'gxit-install-'));
  prefix = path.join(work, 'prefix');
  installed = await installTarball(await packTarball(work), prefix);
}, 120_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the installed package', () => {
  it('holds the bundle, the hooks and the schedule unit, and no dependencies or checkout files', async () => {
    const pkg = path.join(prefix, 'lib', 'node_modules', 'gxit-cert');
    const top = (await readdir(pkg)).sort();
    expect(top).toEqual(expect.arrayContaining(['bin', 'bundle', 'hooks', 'package.json', 'systemd']));
    for (const absent of ['node_modules', 'dist', 'src', 'test', 'fixtures']) expect(top).not.toContain(absent);
    const manifest = JSON.parse(await readFile(path.join(pkg, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    expect(manifest.dependencies ?? {}).toEqual({});
  });

  it('issues on the lab, from a directory without the checkout on PATH', async () => {
    const setup = await renewSetup('inst-issue');
    const run = await runProgram(installed, ['issue', '--config', setup.config]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`${setup.names.base}: issued version 1`);
    await access(path.join(setup.stateDir, 'live', setup.names.base, 'fullchain.pem'));
    const status = await runProgram(installed, ['status', '--config', setup.config]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^${setup.names.base.replace(/\./g, '\\.')}: ok, expires`, 'm'));
  });

  it('issues through Route53 too: the bundled AWS SDK against the Route53 fixture', async () => {
    const base = 'inst-r53.example.org';
    const wildcard = `*.ep.interactivetool.${base}`;
    const key = { accessKeyId: 'AKIDINSTALLEDBUNDLE', secretAccessKey: randomBytes(30).toString('base64') };
    await nsupdate([`update add ${base}. 60 A 127.0.0.1`, `update add ${wildcard}. 60 CNAME ${base}.`], 'lab-admin');
    const tsig = lab().keys['certbot-training'];
    const fx = await startRoute53Fixture({
      host: '127.0.0.1',
      port: 0,
      credentials: [key],
      zones: [{ name: base, id: 'ZINSTALLEDR53' }],
      dns: { server: lab().dnsIp, port: 53, keyName: tsig.name, algorithm: tsig.algorithm, secretFile: tsig.secretFile, zone: 'example.org' },
    });
    try {
      const setup = await renewSetup('inst-r53-cfg');
      const secretFile = path.join(setup.dir, 'aws.secret');
      await writeFile(secretFile, `${key.secretAccessKey}\n`, { mode: 0o600 });
      const config = await lab().writeConfig(path.join(setup.dir, 'r53.yml'), {
        state_dir: setup.stateDir,
        certificates: [{ name: base, domains: [base, wildcard] }],
        dns: { provider: 'route53', rfc2136: undefined, route53: { endpoint: fx.url, access_key_id: key.accessKeyId, secret_access_key_file: secretFile } },
      });
      const run = await runProgram(installed, ['issue', '--config', config]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toContain(`${base}: issued version 1`);
      expect(fx.changes({ source: 'api' })).toHaveLength(2);
    } finally {
      await fx.stop();
      await nsupdate([`update delete ${base}.`, `update delete ${wildcard}.`], 'lab-admin');
    }
  });

  it('keeps lazy loading in the bundle: --help and a nothing-due renew load no ACME client, AWS SDK, DNS or cron code', async () => {
    const pkg = path.join(prefix, 'lib', 'node_modules', 'gxit-cert');
    const contents = JSON.parse(await readFile(path.join(pkg, 'bundle', 'packages.json'), 'utf8')) as Record<string, string[]>;
    expect(Object.values(contents).flat()).toEqual(expect.arrayContaining(['acme-client', '@aws-sdk/client-route-53', 'commander', 'yaml']));
    const loader = path.join(checkout, 'test', 'integration', 'renew-trace-loader.mjs');
    const packagesLoaded = async (args: string[]): Promise<string[]> => {
      const run = await runProgram(installed, args, { NODE_OPTIONS: `--no-warnings --experimental-loader=${loader}` });
      expect(run.code, run.stderr).toBe(0);
      const files = run.stderr.split('\n').filter((l) => l.startsWith(`LOAD file://${pkg}/bundle/`)).map((l) => l.slice(`LOAD file://${pkg}/bundle/`.length));
      expect(files).toContain('main.js');
      return [...new Set(files.flatMap((f) => contents[f] ?? []))].sort();
    };
    const heavy = ['acme-client', '@aws-sdk/client-route-53', '@aws-sdk/credential-providers', 'dns2', 'cron', 'node-forge', 'https-proxy-agent'];
    const help = await packagesLoaded(['--help']);
    expect(help).toContain('commander');
    expect(help.filter((p) => heavy.includes(p))).toEqual([]);

    const setup = await renewSetup('inst-lazy');
    expect((await runProgram(installed, ['issue', '--config', setup.config])).code).toBe(0);
    const renew = await packagesLoaded(['renew', '--config', setup.config]);
    expect(renew).toContain('yaml');
    expect(renew.filter((p) => heavy.includes(p))).toEqual([]);
  });

  it('loads the bundled cron package for schedule (a CommonJS package imported lazily)', async () => {
    const setup = await renewSetup('inst-cron');
    const run = await runProgram(installed, ['schedule', '--cron', '61 * * * *', '--config', setup.config]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: --cron "61 \* \* \* \*" is not a cron expression: .*out of range/);
  });

  it('prints where its hooks are, and they are executable there', async () => {
    const run = await runProgram(installed, ['hooks-dir']);
    expect(run.code, run.stderr).toBe(0);
    const dir = run.stdout.trim();
    expect(dir).toBe(path.join(prefix, 'lib', 'node_modules', 'gxit-cert', 'hooks'));
    for (const hook of ['reload-nginx', 'install-files', 'restart-gx-it-proxy']) await access(path.join(dir, hook), constants.X_OK);
  });

  it('install-timer --print names the installed binary, whichever copy runs it', async () => {
    const setup = await renewSetup('inst-print');
    const fromInstalled = await runProgram(installed, ['install-timer', '--systemd', '--print', '--config', setup.config]);
    expect(fromInstalled.code, fromInstalled.stderr).toBe(0);
    expect(fromInstalled.stdout).toContain(`\nExecStart=${installed} renew --config ${setup.config}\n`);
    // This machine runs neither systemd nor cron: printing works, with a warning saying so.
    expect(fromInstalled.stderr).toMatch(/^warning: systemd is not running on this machine/m);

    // The checkout's copy names the installed one it finds on PATH, never itself.
    const fromCheckout = await runCli(['install-timer', '--cron', '--print', '--config', setup.config], { env: { PATH: `${prefix}/bin:${basePath}` } });
    expect(fromCheckout.code, fromCheckout.stderr).toBe(0);
    expect(fromCheckout.stdout).toMatch(new RegExp(`^\\d{1,2} \\d{1,2} \\* \\* \\* root sleep .* && ${installed} renew --quiet --config ${setup.config}$`, 'm'));
    expect(fromCheckout.stdout).not.toContain(checkout);

    // The proxy it runs with goes into the job; one with a password does not.
    const proxied = await runProgram(installed, ['install-timer', '--systemd', '--print', '--config', setup.config], {
      HTTPS_PROXY: 'http://proxy.example.org:3128',
      NO_PROXY: '.example.org',
      HTTP_PROXY: 'http://user:pw@proxy.example.org:3128',
    });
    expect(proxied.code, proxied.stderr).toBe(0);
    expect(proxied.stdout).toContain(`\nEnvironment=HTTPS_PROXY=http://proxy.example.org:3128\nEnvironment=NO_PROXY=.example.org\nExecStart=${installed} renew`);
    expect(proxied.stdout).not.toContain('pw@');
    expect(proxied.stderr).toContain('warning: HTTP_PROXY holds a user or password and is not written into the world-readable job');
  });

  it('install-timer from a checkout without an installed gxit-cert refuses in one line, exit 1', async () => {
    const setup = await renewSetup('inst-none');
    const run = await runCli(['install-timer', '--cron', '--print', '--config', setup.config], { env: { PATH: basePath } });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trim().split('\n').filter((l) => !l.startsWith('warning:'));
    expect(lines).toEqual([
      `error: gxit-cert runs from ${checkout}, which is not an installed package, and no installed gxit-cert is on PATH: a scheduled job naming this copy stops when it is removed (install it first (npm pack, then npm install -g ./gxit-cert-<version>.tgz; see docs/install.md) and run the installed gxit-cert install-timer)`,
    ]);
  });
});

describe('install-timer and the scheduler', () => {
  it('refuses to write for a scheduler that is absent, and writes where it runs', async () => {
    const setup = await renewSetup('inst-sched');
    const root = path.join(setup.dir, 'root');
    await mkdir(root, { recursive: true });

    const noCron = await runProgram(installed, ['install-timer', '--cron', '--config', setup.config, '--root', root]);
    expect(noCron.code).toBe(1);
    expect(noCron.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^error: no cron daemon is installed \(no cron or crond\): \/etc\/cron\.d\/gxit-cert would never run \(install one .*gxit-cert schedule/),
    ]);
    const noSystemd = await runProgram(installed, ['install-timer', '--systemd', '--config', setup.config, '--root', root]);
    expect(noSystemd.code).toBe(1);
    expect(noSystemd.stderr).toMatch(/^error: systemd is not running on this machine \(no \/run\/systemd\/system\): a timer would never fire \(install cron and use --cron/);
    const neither = await runProgram(installed, ['install-timer', '--config', setup.config, '--root', root]);
    expect(neither.code).toBe(1);
    expect(neither.stderr).toMatch(/^error: neither systemd nor a cron daemon/);
    expect(await readdir(root)).toEqual([]);

    // Debian's cron installed: the default is cron, and the entry names the installed binary.
    await mkdir(path.join(root, 'usr/sbin'), { recursive: true });
    await writeFile(path.join(root, 'usr/sbin/cron'), '', { mode: 0o755 });
    const cron = await runProgram(installed, ['install-timer', '--config', setup.config, '--root', root]);
    expect(cron.code, cron.stderr).toBe(0);
    const entry = path.join(root, 'etc/cron.d/gxit-cert');
    expect((await stat(entry)).mode & 0o777).toBe(0o644);
    expect(await readFile(entry, 'utf8')).toMatch(
      new RegExp(`^\\d{1,2} \\d{1,2} \\* \\* \\* root sleep \\$\\(\\( \\$\\(od -An -N2 -tu2 /dev/urandom\\) \\\\% 3600 \\)\\) && ${installed} renew --quiet --config ${setup.config}$`, 'm'),
    );
    const systemdStill = await runProgram(installed, ['install-timer', '--systemd', '--config', setup.config, '--root', root]);
    expect(systemdStill.code).toBe(1);
    expect(systemdStill.stderr).toContain('(use --cron (cron is installed: /usr/sbin/cron)');

    // systemd running: the default is the timer; --service writes the schedule service instead.
    await mkdir(path.join(root, 'run/systemd/system'), { recursive: true });
    const timer = await runProgram(installed, ['install-timer', '--config', setup.config, '--root', root]);
    expect(timer.code, timer.stderr).toBe(0);
    const units = path.join(root, 'etc/systemd/system');
    expect(await readFile(path.join(units, 'gxit-cert-renew.service'), 'utf8')).toContain(`\nExecStart=${installed} renew --config ${setup.config}\n`);
    expect(await readFile(path.join(units, 'gxit-cert-renew.timer'), 'utf8')).toContain('Persistent=true');
    expect(timer.stderr).toContain(`written below ${root}: enable it there with systemctl daemon-reload && systemctl enable --now gxit-cert-renew.timer`);
    const service = await runProgram(installed, ['install-timer', '--service', '--config', setup.config, '--root', root]);
    expect(service.code, service.stderr).toBe(0);
    expect(await readFile(path.join(units, 'gxit-cert-schedule.service'), 'utf8')).toContain(`\nExecStart=${installed} schedule --config ${setup.config}\n`);

    const both = await runProgram(installed, ['install-timer', '--cron', '--systemd', '--config', setup.config, '--root', root]);
    expect(both.code).toBe(2);
  });

  it('warns about a certbot job renewing the same names', async () => {
    const setup = await renewSetup('inst-certbot');
    expect((await runProgram(installed, ['issue', '--config', setup.config])).code).toBe(0);
    // A machine set up by the Galaxy certbot role: a user crontab with certbot renew, and a certbot lineage.
    const root = path.join(setup.dir, 'root');
    await mkdir(path.join(root, 'var/spool/cron/crontabs'), { recursive: true });
    await writeFile(path.join(root, 'var/spool/cron/crontabs/root'), '#Ansible: Certbot automatic renewal.\n30 3 * * * certbot renew --quiet \n');
    await mkdir(path.join(root, 'etc/letsencrypt/renewal'), { recursive: true });
    await writeFile(path.join(root, `etc/letsencrypt/renewal/${setup.names.base}.conf`), 'version = 2.1.0\n');
    await mkdir(path.join(root, `etc/letsencrypt/live/${setup.names.base}`), { recursive: true });
    await copyFile(path.join(setup.stateDir, 'live', setup.names.base, 'cert.pem'), path.join(root, `etc/letsencrypt/live/${setup.names.base}/cert.pem`));
    await mkdir(path.join(root, 'run/systemd/system'), { recursive: true });

    const printed = await runProgram(installed, ['install-timer', '--print', '--config', setup.config, '--root', root]);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toContain('# /etc/systemd/system/gxit-cert-renew.service\n');
    expect(printed.stdout).toMatch(/OnCalendar=\*-\*-\* \d\d:\d\d:00\nRandomizedDelaySec=3600\nPersistent=true\n/);
    expect(printed.stderr).toContain(
      `warning: certbot also renews ${setup.names.domains.join(', ')} (/etc/letsencrypt/renewal/${setup.names.base}.conf) from /var/spool/cron/crontabs/root`,
    );
  });
});
