import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { describeHookFailure, hookLabel, OUTPUT_LIMIT, runHook, type HookRunOptions } from '../../../src/hooks/run.js';
import { alive } from '../process-alive.js';

const base = (over: Partial<HookRunOptions> = {}): HookRunOptions => ({ phase: 'deploy', env: { PATH: '/usr/bin:/bin', X: 'y' }, cwd: tmpdir(), timeoutMs: 5000, ...over });


describe('runHook', () => {
  it('runs a shell string with /bin/sh and the given environment only', async () => {
    const run = await runHook({ shell: 'echo "x=$X home=${HOME:-none}"; echo err >&2' }, base());
    expect(run).toMatchObject({ ok: true, exitCode: 0, timedOut: false, label: 'echo "x=$X home=${HOME:-none}"; echo err >&2' });
    expect(run.output).toContain('x=y home=none');
    expect(run.output).toContain('err');
  });

  it('runs an argv list without a shell (no expansion)', async () => {
    const run = await runHook({ argv: ['/bin/echo', '$X', '*'] }, base());
    expect(run.ok).toBe(true);
    expect(run.output).toBe('$X *\n');
    expect(run.label).toBe('echo');
  });

  it('runs in the given directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gxit-hook-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const run = await runHook({ shell: 'pwd' }, base({ cwd: dir }));
    expect(run.output.trim()).toBe(dir);
  });

  it('reports the exit code and the end of the output', async () => {
    const run = await runHook({ shell: 'echo first; echo "nginx: [emerg] cannot load certificate"; exit 3' }, base());
    expect(run).toMatchObject({ ok: false, exitCode: 3, timedOut: false });
    expect(describeHookFailure(run, 5000)).toBe('deploy hook echo first; echo "nginx: [emerg] cannot load ... failed with exit code 3: first / nginx: [emerg] cannot load certificate');
    const long = await runHook({ shell: 'for i in 1 2 3 4 5; do echo line$i; done; exit 1' }, base());
    expect(describeHookFailure(long, 5000)).toMatch(/failed with exit code 1: line3 \/ line4 \/ line5$/);
  });

  it('kills a hook and everything it started when it runs past the timeout', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gxit-hook-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const started = Date.now();
    const run = await runHook({ shell: `sleep 30 & echo $! > ${dir}/child; echo $$ > ${dir}/shell; wait` }, base({ timeoutMs: 300, killGraceMs: 200 }));
    // The hook's child sleeps 30 s; killed after 0.3 s + 0.2 s grace.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(run).toMatchObject({ ok: false, timedOut: true });
    expect(describeHookFailure(run, 300)).toMatch(/did not finish within 0\.3 s and was killed/);
    const child = Number(await readFile(join(dir, 'child'), 'utf8'));
    // The group was sent SIGKILL; ask the process table instead of sleeping a fixed time.
    for (let i = 0; i < 200 && (await alive(child)); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await alive(child)).toBe(false);
  });

  it('reports a program that does not exist', async () => {
    const run = await runHook({ argv: ['/nonexistent/hook'] }, base());
    expect(run).toMatchObject({ ok: false, spawnError: '/nonexistent/hook: no such file' });
    expect(describeHookFailure(run, 1000)).toBe('deploy hook hook could not be started: /nonexistent/hook: no such file');
  });

  it('does not wait for a background process that keeps the output open', async () => {
    const started = Date.now();
    const run = await runHook({ shell: '(sleep 60 &) ; echo done' }, base());
    expect(run.ok).toBe(true);
    // The background sleep lasts 60 s: finishing well before it proves the hook was not waited for.
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('kills what the hook left running in the background when it exits', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gxit-hook-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    // One background child that ignores SIGTERM (only SIGKILL ends it), one that does not.
    const run = await runHook({ shell: `sleep 60 > /dev/null 2>&1 & echo $! > ${dir}/term; (trap '' TERM; exec sleep 60) > /dev/null 2>&1 & echo $! > ${dir}/kill; echo started` }, base({ killGraceMs: 200 }));
    expect(run).toMatchObject({ ok: true, exitCode: 0 });
    const children = [Number(await readFile(join(dir, 'term'), 'utf8')), Number(await readFile(join(dir, 'kill'), 'utf8'))];
    onTestFinished(() => children.forEach((pid) => { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }));
    // Ask the process table (bounded at 10 s, 1000x the usual time) instead of sleeping a fixed time.
    for (let i = 0; i < 200 && ((await alive(children[0]!)) || (await alive(children[1]!))); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await alive(children[0]!)).toBe(false);
    expect(await alive(children[1]!)).toBe(false);
  });

  it('strips ANSI escapes and escapes other control characters in the output it reports', async () => {
    const run = await runHook({ shell: `printf 'ok\\n\\033[31mred\\033[0m \\033]0;title\\007bell\\001 end\\r\\n'; exit 1` }, base());
    const line = describeHookFailure(run, 5000);
    expect(line).toMatch(/failed with exit code 1: ok \/ red bell\\u0001 end$/);
    expect(line).not.toContain('\u001b');
  });

  it('keeps only the end of a long output', async () => {
    const run = await runHook({ shell: `head -c ${OUTPUT_LIMIT * 3} /dev/zero | tr '\\0' a; echo END` }, base());
    expect(run.output.length).toBe(OUTPUT_LIMIT);
    expect(run.output.endsWith('END\n')).toBe(true);
  });

  it('labels hooks briefly', () => {
    expect(hookLabel({ argv: ['/usr/lib/gxit-cert/hooks/reload-nginx', '--conf', 'x'] })).toBe('reload-nginx');
    expect(hookLabel({ shell: '  systemctl   reload nginx ' })).toBe('systemctl reload nginx');
  });
});
