import { spawn } from 'node:child_process';
import { mkdir, readFile, stat, writeFile, copyFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, runCli } from './helpers.js';
import { renewSetup, waitFor } from './renew-helpers.js';

/** Starts `gxit-cert schedule ...`; collects stderr. */
function startSchedule(args: string[]) {
  const child = spawn(process.execPath, [CLI, 'schedule', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdout.on('data', () => undefined);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

const finished = (text: string, code: number): number => text.split('\n').filter((l) => l.includes(`schedule: renew finished with exit code ${code}`)).length;

describe('gxit-cert schedule', () => {
  it('runs renew on a seconds-level cron expression and stops cleanly on SIGTERM', async () => {
    const setup = await renewSetup('rnw-sched');
    expect((await runCli(['issue', '--config', setup.config])).code).toBe(0);
    const s = startSchedule(['--config', setup.config, '--cron', '* * * * * *']);
    try {
      await waitFor('two renew runs', () => finished(s.stderr(), 0) >= 2, 15_000);
      expect(s.stderr()).toMatch(/schedule: renew runs at "\* \* \* \* \* \*"; next run at /);
      expect(s.stderr()).toContain(`${setup.names.base}: not due:`);
    } finally {
      s.child.kill('SIGTERM');
    }
    const started = Date.now();
    expect(await s.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(s.stderr()).toMatch(/schedule: SIGTERM: stopping/);
    expect(s.stderr()).toMatch(/schedule: stopped\n$/);
  });

  it('keeps running after failed renew runs', async () => {
    // A new lineage whose order fails every time: nothing answers on this nameserver port.
    const setup = await renewSetup('rnw-sched-fail', { dns: { nameserver_port: 5399, propagation_timeout: 0.3 } });
    const s = startSchedule(['--config', setup.config, '--cron', '* * * * * *']);
    try {
      await waitFor('two failed renew runs', () => finished(s.stderr(), 1) >= 2, 20_000);
      expect(s.child.exitCode).toBeNull();
      expect(s.stderr()).toMatch(/rnw-sched-fail\.example\.org: error: /);
    } finally {
      s.child.kill('SIGTERM');
    }
    expect(await s.exited).toBe(0);
  });

  it('on SIGTERM during a renew, stops that renew (its running hook killed) and exits', async () => {
    const setup = await renewSetup('rnw-sched-term');
    const pidFile = path.join(setup.dir, 'hook.pid');
    await setup.rewrite({ hooks: { pre: [`echo $$ > ${pidFile}; exec sleep 60`] } });
    const s = startSchedule(['--config', setup.config, '--cron', '* * * * * *']);
    let hookPid = 0;
    try {
      await waitFor('the pre hook', async () => (await readFile(pidFile, 'utf8').catch(() => '')).trim() !== '', 15_000);
      hookPid = Number((await readFile(pidFile, 'utf8')).trim());
    } finally {
      s.child.kill('SIGTERM');
    }
    const started = Date.now();
    expect(await s.exited).toBe(0);
    // Well below the hook's 60 s sleep: the running hook was killed.
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(s.stderr()).toMatch(/schedule: SIGTERM: stopping after the current renew/);
    expect(s.stderr()).toMatch(/pre hook echo .* was killed by SIGTERM; no order was placed/);
    const stat = await readFile(`/proc/${hookPid}/stat`, 'utf8').catch(() => '');
    expect(stat === '' || stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')).toBe(true);
  });

  it('refuses an invalid cron expression with exit code 2', async () => {
    const setup = await renewSetup('rnw-sched-bad');
    const run = await runCli(['schedule', '--config', setup.config, '--cron', '61 * * * *']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: --cron "61 \* \* \* \*" is not a cron expression: .*out of range/);
  });
});

describe('gxit-cert install-timer', () => {
  it('prints a systemd service and timer, and warns about a certbot job renewing the same names', async () => {
    const setup = await renewSetup('rnw-timer');
    expect((await runCli(['issue', '--config', setup.config])).code).toBe(0);
    // A machine set up by the Galaxy certbot role: a user crontab with certbot renew, and a certbot lineage.
    const root = path.join(setup.dir, 'root');
    await mkdir(path.join(root, 'var/spool/cron/crontabs'), { recursive: true });
    await writeFile(path.join(root, 'var/spool/cron/crontabs/root'), '#Ansible: Certbot automatic renewal.\n30 3 * * * certbot renew --quiet \n');
    await mkdir(path.join(root, 'etc/letsencrypt/renewal'), { recursive: true });
    await writeFile(path.join(root, `etc/letsencrypt/renewal/${setup.names.base}.conf`), 'version = 2.1.0\n');
    await mkdir(path.join(root, `etc/letsencrypt/live/${setup.names.base}`), { recursive: true });
    await copyFile(path.join(setup.stateDir, 'live', setup.names.base, 'cert.pem'), path.join(root, `etc/letsencrypt/live/${setup.names.base}/cert.pem`));

    const printed = await runCli(['install-timer', '--systemd', '--print', '--config', setup.config, '--root', root]);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toContain('# /etc/systemd/system/gxit-cert-renew.service\n');
    expect(printed.stdout).toMatch(new RegExp(`ExecStart=${process.execPath} \\S+/bin/gxit-cert\\.js renew --config ${setup.config.replace(/[.]/g, '\\.')}\\n`));
    expect(printed.stdout).toContain('# /etc/systemd/system/gxit-cert-renew.timer\n');
    expect(printed.stdout).toMatch(/OnCalendar=\*-\*-\* \d\d:\d\d:00\nRandomizedDelaySec=3600\nPersistent=true\n/);
    expect(printed.stderr).toContain(
      `warning: certbot also renews ${setup.names.domains.join(', ')} (/etc/letsencrypt/renewal/${setup.names.base}.conf) from /var/spool/cron/crontabs/root`,
    );
  });

  it('writes the cron.d entry, and the systemd units where systemd does not run', async () => {
    const setup = await renewSetup('rnw-timer2');
    const root = path.join(setup.dir, 'root');
    const cron = await runCli(['install-timer', '--cron', '--config', setup.config, '--root', root]);
    expect(cron.code, cron.stderr).toBe(0);
    expect(cron.stderr).not.toContain('warning');
    const file = path.join(root, 'etc/cron.d/gxit-cert');
    expect((await stat(file)).mode & 0o777).toBe(0o644);
    const text = await readFile(file, 'utf8');
    expect(text).toMatch(/^\d{1,2} \d{1,2} \* \* \* root sleep \$\(\( \$\(od -An -N2 -tu2 \/dev\/urandom\) \\% 3600 \)\) && \S+ \S+\/bin\/gxit-cert\.js renew --quiet --config \S+$/m);

    const systemd = await runCli(['install-timer', '--systemd', '--config', setup.config, '--root', root]);
    expect(systemd.code, systemd.stderr).toBe(0);
    expect(await readFile(path.join(root, 'etc/systemd/system/gxit-cert-renew.timer'), 'utf8')).toContain('Persistent=true');
    expect(await readFile(path.join(root, 'etc/systemd/system/gxit-cert-renew.service'), 'utf8')).toContain('Type=oneshot');
    expect(systemd.stderr).toContain('systemd is not running here: enable it later with systemctl daemon-reload && systemctl enable --now gxit-cert-renew.timer');

    const both = await runCli(['install-timer', '--cron', '--systemd', '--config', setup.config, '--root', root]);
    expect(both.code).toBe(2);
  });
});
