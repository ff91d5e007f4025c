/**
 * scripts/cluster-demo's walkthrough (test/lab/cluster-demo.mjs) end to end, as an admin runs it: it
 * must keep working, and every check it prints must pass. Its own addresses (127.0.41.0/24) collide
 * with no other test's; its timing target is widened here (the suite is not a benchmark).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DEMO = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'lab', 'cluster-demo.mjs');

describe('the cluster walkthrough', () => {
  it('runs every step on three nodes and every check passes', { timeout: 240_000 }, async () => {
    const child = spawn(process.execPath, [DEMO], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GXIT_DEMO_SERVE_TARGET_MS: '120000' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(out.split('\n').filter((l) => l.includes('FAIL'))).toEqual([]);
    expect(code, out).toBe(0);
    for (const step of ['== 1.', '== 2.', '== 3.', '== 4.']) expect(out).toContain(step);
    expect(out.match(/^ {2}ok {3}/gm)?.length ?? 0).toBeGreaterThanOrEqual(18);
    expect(out).toContain('every check passed');
  });
});
