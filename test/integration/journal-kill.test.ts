/**
 * Crash-proof DNS: `issue --force` killed with SIGKILL at random moments (no cleanup runs, no
 * signal handler), 20 times, then one plain `renew` (nothing due). After every kill live/ is
 * consistent (links resolve, certificate and key match); after the renew no TXT value is left at
 * either challenge name on the primary, and the DNS journal is empty: each run removed what the
 * killed one before it left behind.
 */
import { spawn } from 'node:child_process';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { readdir, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, lab, labConfig, runCli } from './helpers.js';

const BASE = 'kill.example.org';
const WILDCARD = `*.ep.interactivetool.${BASE}`;
const NAMES = [`_acme-challenge.${BASE}`, `_acme-challenge.ep.interactivetool.${BASE}`];
const KILLS = 20;

async function liveConsistent(state: string): Promise<void> {
  const live = path.join(state, 'live', BASE);
  const archive = await realpath(path.join(state, 'archive', BASE));
  const files: Record<string, string> = {};
  for (const kind of ['cert', 'privkey', 'chain', 'fullchain']) {
    const target = await realpath(path.join(live, `${kind}.pem`));
    expect(path.dirname(target)).toBe(archive);
    files[kind] = await readFile(target, 'utf8');
  }
  const cert = new X509Certificate(files.cert as string);
  const spki = (k: ReturnType<typeof createPublicKey>) => k.export({ type: 'spki', format: 'der' }).toString('hex');
  expect(spki(cert.publicKey)).toBe(spki(createPublicKey(files.privkey as string)));
  expect(files.fullchain?.startsWith(files.cert as string)).toBe(true);
}

async function valuesLeft(): Promise<number> {
  const found = await Promise.all(NAMES.map((n) => lab().txt(n)));
  return found.flat().length;
}

/** Starts `issue --force` and SIGKILLs it `delayMs` after it starts waiting for propagation (the records are in place), or after `delayMs` from the start. */
function killedIssue(config: string, delayMs: number, afterPresent: boolean): Promise<string> {
  const child = spawn(process.execPath, [CLI, 'issue', '--force', '--verbose', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    timer ??= setTimeout(() => child.kill('SIGKILL'), delayMs);
  };
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (afterPresent && /propagation: waiting/.test(stderr)) arm();
  });
  if (!afterPresent) arm();
  return new Promise((resolve) =>
    child.on('close', () => {
      clearTimeout(timer);
      resolve(stderr);
    }),
  );
}

describe('SIGKILL at random moments of issue --force', () => {
  it(`${KILLS} kills, then one renew: live/ consistent after each, no TXT value left, journal empty`, async () => {
    const { config, dir } = await labConfig({ certificates: [{ name: BASE, domains: [BASE, WILDCARD] }] });
    const state = path.join(dir, 'state');
    const first = await runCli(['issue', '--config', config]);
    expect(first.code, first.stderr).toBe(0);
    await liveConsistent(state);

    let leftBehind = 0;
    const started = performance.now();
    for (let i = 0; i < KILLS; i++) {
      // Half of the kills land while the records are in place, half anywhere in the run.
      const afterPresent = i % 2 === 0;
      const delay = Math.floor(Math.random() * (afterPresent ? 150 : Math.max(200, first.ms)));
      await killedIssue(config, delay, afterPresent);
      await liveConsistent(state);
      if ((await valuesLeft()) > 0) leftBehind += 1;
    }
    console.log(`${KILLS} kills in ${((performance.now() - started) / 1000).toFixed(1)} s; TXT values present right after ${leftBehind} of them`);
    // The test only means something when kills did leave values behind for the next run to remove.
    expect(leftBehind).toBeGreaterThan(0);

    const renew = await runCli(['renew', '--config', config]);
    expect(renew.code, renew.stderr).toBe(0);
    await liveConsistent(state);
    expect(await Promise.all(NAMES.map((n) => lab().txt(n)))).toEqual([[], []]);
    expect((await readdir(path.join(state, 'dns-journal')).catch(() => [])).filter((f) => f.endsWith('.json'))).toEqual([]);
  }, 180_000);
});
