import { spawn } from 'node:child_process';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, nsupdate, runCli } from './helpers.js';
import { fakeLineage, readJson, renewSetup, stateFile, waitFor } from './renew-helpers.js';

const DAY = 86_400_000;

async function versions(stateDir: string, name: string): Promise<string[]> {
  return (await readdir(path.join(stateDir, 'archive', name))).filter((f) => f.startsWith('cert')).sort();
}

describe('renew and the state lock', () => {
  it('renews a lineage due by lifetime; two concurrent runs place one order, the second waits and finds nothing due', async () => {
    const setup = await renewSetup('rnw-lock');
    // 10 of 90 days left: due (less than a third of the lifetime). Self-issued, so no ARI.
    await fakeLineage(setup, { notBefore: new Date(Date.now() - 80 * DAY), notAfter: new Date(Date.now() + 10 * DAY) });
    // The pre hook holds the first run inside the lock until the second says it waits for it (no fixed
    // sleep that a slow start of the second process could outlast); at most 60 s.
    const inHook = path.join(setup.dir, 'in-hook');
    const release = path.join(setup.dir, 'release');
    await setup.rewrite({ hooks: { pre: [`touch ${inHook}; i=0; while [ ! -e ${release} ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done`] } });

    const first = runCli(['renew', '--config', setup.config]);
    await waitFor('the first run inside its pre hook', async () => (await stat(inHook).catch(() => undefined)) !== undefined, 30_000);
    const second = runCli(['renew', '--config', setup.config], {
      onStderr: (text) => {
        if (text.includes('waiting for another gxit-cert run')) void writeFile(release, '');
      },
    });
    const [a, b] = await Promise.all([first, second]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const outputs = [a.stderr, b.stderr];
    const renewed = outputs.filter((o) => /renewed \(due: \d+ days left, less than a third of its lifetime\): version 2/.test(o));
    const waited = outputs.filter((o) => o.includes('waiting for another gxit-cert run'));
    expect(renewed, outputs.join("\n----\n")).toHaveLength(1);
    expect(waited).toHaveLength(1);
    expect(waited[0]).toMatch(/not due: 18\d\d days left/);
    expect(await versions(setup.stateDir, setup.names.base)).toEqual(['cert1.pem', 'cert2.pem']);

    // The new certificate is not due: nothing happens, quickly, without the lock.
    const again = await runCli(['renew', '--config', setup.config, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).results[0]).toMatchObject({ status: 'not-due', due: { due: false, basis: 'lifetime' } });
  });

  it('takes over the lock of a run that was killed', async () => {
    const setup = await renewSetup('rnw-kill');
    expect((await runCli(['issue', '--config', setup.config])).code).toBe(0);
    const marker = path.join(setup.dir, 'pre.pid');
    await setup.rewrite({ hooks: { pre: [`echo $$ > ${marker}; exec sleep 60`] } });

    const child = spawn(process.execPath, [CLI, 'renew', '--force', '--config', setup.config], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const lockFile = path.join(setup.stateDir, '.lock');
    try {
      await waitFor('the pre hook', async () => (await readFile(marker, 'utf8').catch(() => '')).trim() !== '');
      expect((await stat(lockFile)).isFile()).toBe(true);
    } finally {
      child.kill('SIGKILL');
      // The hook runs in its own process group: end it too (its pid is the sleep's, by exec).
      const hookPid = Number((await readFile(marker, 'utf8').catch(() => '0')).trim());
      if (hookPid > 0) process.kill(hookPid, 'SIGKILL');
    }
    await exited;
    const holder = JSON.parse(await readFile(lockFile, 'utf8'));
    expect(holder.pid).toBe(child.pid);

    await setup.rewrite({});
    const run = await runCli(['renew', '--force', '--config', setup.config]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.ms).toBeLessThan(20_000);
    expect(run.stderr).toMatch(/renewed \(forced\): version 2/);
    await expect(stat(lockFile)).rejects.toThrow(/ENOENT/);
    expect((await readJson<{ version: number }>(stateFile(setup))).version).toBe(2);
    // The killed run was stopped before it wrote any TXT record; nothing to clean up, but make sure.
    for (const name of setup.names.challenges) await nsupdate([`update delete ${name}. TXT`]);
  });
});
