// The process-group runner shared by hooks and the exec DNS provider: what it keeps of the output,
// what happens to a program's background children, and an abort that came before the start.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { baseEnvironment, childPath } from '../../../src/process/env.js';
import { OUTPUT_LIMIT, outputTail, runInGroup, type GroupOptions } from '../../../src/process/group.js';
import { alive } from '../process-alive.js';

const base = (over: Partial<GroupOptions> = {}): GroupOptions => ({ env: { PATH: '/usr/bin:/bin' }, timeoutMs: 10_000, killGraceMs: 200, leftovers: 'leave', ...over });


/** Polls the process table (bounded at 10 s) until `pid` is gone. */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 200 && (await alive(pid)); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  return !(await alive(pid));
}

describe('runInGroup', () => {
  it('keeps stdout, stderr and both together, each cut to its last OUTPUT_LIMIT characters', async () => {
    const seen: string[] = [];
    const run = await runInGroup('/bin/sh', ['-c', `echo out; echo err >&2; head -c ${OUTPUT_LIMIT * 2} /dev/zero | tr '\\0' a >&2; echo END >&2`], base({ onOutput: (t) => seen.push(t) }));
    expect(run).toMatchObject({ exitCode: 0, timedOut: false, aborted: false });
    expect(run.stdout).toBe('out\n');
    expect(run.stderr.length).toBe(OUTPUT_LIMIT);
    expect(run.stderr.endsWith('aaaEND\n')).toBe(true);
    expect(run.output.length).toBe(OUTPUT_LIMIT);
    expect(seen.join('')).toMatch(/^(out\nerr\n|err\nout\n)a+END\n$/);
  });

  it("leaves a program's background children running with leftovers: 'leave' and ends them with 'stop'", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gxit-group-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const pids: number[] = [];
    onTestFinished(() => pids.forEach((pid) => { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }));
    for (const leftovers of ['leave', 'stop'] as const) {
      const run = await runInGroup('/bin/sh', ['-c', `sleep 60 > /dev/null 2>&1 & echo $! > ${dir}/${leftovers}`], base({ leftovers }));
      expect(run.exitCode).toBe(0);
      pids.push(Number(await readFile(join(dir, leftovers), 'utf8')));
    }
    expect(await gone(pids[1]!)).toBe(true);
    expect(await alive(pids[0]!)).toBe(true);
  });

  it('stops at once when the signal was aborted before the start', async () => {
    const started = Date.now();
    const run = await runInGroup('/bin/sleep', ['60'], base({ signal: AbortSignal.abort() }));
    expect(run).toMatchObject({ aborted: true, timedOut: false, signal: 'SIGTERM' });
    expect(run.exitCode).toBeUndefined();
    // sleep 60 was stopped: well before its minute is over.
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('says why a program could not be started', async () => {
    const run = await runInGroup('/nonexistent/program', [], base());
    expect(run).toMatchObject({ spawnError: '/nonexistent/program: no such file', timedOut: false, aborted: false });
  });
});

describe('outputTail', () => {
  it('joins the last three non-empty lines, cleaned by the given function, and cuts them to 400 characters', () => {
    expect(outputTail('one\n\n two \nthree\nfour\n')).toBe('two / three / four');
    expect(outputTail('\n  \n')).toBeUndefined();
    expect(outputTail('a\nb', (line) => line.toUpperCase())).toBe('A / B');
    const long = outputTail('x'.repeat(1000));
    expect(long).toBe(`...${'x'.repeat(397)}`);
  });
});

describe('baseEnvironment', () => {
  it('passes PATH with the sbin directories and the harmless variables that are set, nothing else', () => {
    const env = baseEnvironment({ PATH: '/opt/bin:/usr/bin', HOME: '/root', LANG: '', TSIG_SECRET: 'x', AWS_SECRET_ACCESS_KEY: 'y' });
    expect(env).toEqual({ PATH: childPath('/opt/bin:/usr/bin'), HOME: '/root' });
    expect(env.PATH).toBe('/opt/bin:/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin:/bin');
  });
});
