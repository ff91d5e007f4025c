import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
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
