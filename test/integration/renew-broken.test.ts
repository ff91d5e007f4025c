/**
 * A broken lineage (health check, src/renew/health.ts) end to end against the lab: broken in one way
 * after another, `status` says broken (exit 1) and names the file, the next renew (or issue, without
 * --force) stores a new version, and `status` is ok again with a key that matches the certificate.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './helpers.js';
import { renewSetup, type RenewSetup } from './renew-helpers.js';

let setup: RenewSetup;
const liveFile = (file: string): string => path.join(setup.stateDir, 'live', setup.names.base, file);

/** Rewrites the archive file a live link points at. */
function rewrite(file: string, content: (old: string) => string): void {
  const target = path.resolve(path.dirname(liveFile(file)), readlinkSync(liveFile(file)));
  writeFileSync(target, content(readFileSync(target, 'utf8')));
}

function relink(file: string, target: string): void {
  rmSync(liveFile(file));
  symlinkSync(target, liveFile(file));
}

const BREAKS: [string, () => void, RegExp, 'renew' | 'issue'][] = [
  ['privkey.pem truncated', () => rewrite('privkey.pem', (old) => old.slice(0, 40)), /privkey\.pem is not a private key/, 'renew'],
  ['privkey.pem of another key', () => rewrite('privkey.pem', () => execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']).toString()), /privkey\.pem does not belong to the certificate/, 'renew'],
  ['fullchain.pem truncated', () => rewrite('fullchain.pem', (old) => old.slice(0, Math.floor(old.length / 2))), /fullchain\.pem/, 'renew'],
  ['chain.pem garbage', () => rewrite('chain.pem', () => 'garbage\n'), /chain\.pem holds no certificate/, 'renew'],
  ['cert.pem garbage', () => rewrite('cert.pem', () => 'garbage\n'), /cert\.pem holds no certificate/, 'issue'],
  ['cert.pem dangling', () => relink('cert.pem', '../../archive/gone/cert9.pem'), /no live certificate/, 'renew'],
  ['privkey.pem a link to another version', () => relink('privkey.pem', '../../archive/gone/privkey1.pem'), /privkey\.pem points at/, 'issue'],
];

beforeAll(async () => {
  setup = await renewSetup('rnw-broken');
  const issued = await runCli(['issue', '--config', setup.config], { timeoutMs: 60_000 });
  expect(issued.code, issued.stderr).toBe(0);
}, 90_000);

describe('a broken lineage is reported and replaced', () => {
  // In order: each break is made on the version the previous step stored.
  test.each(BREAKS.map((b, i) => [b[0], i, ...b.slice(1)] as const))('%s', async (_what, index, breakIt, problem, command) => {
    breakIt();
    const broken = await runCli(['status', '--config', setup.config]);
    expect(broken.code, broken.stdout + broken.stderr).toBe(1);
    expect(broken.stdout).toMatch(new RegExp(`^${setup.names.base.replace(/\./g, '\\.')}: broken`, 'm'));
    expect(broken.stdout + broken.stderr).toMatch(problem);

    const repaired = await runCli([command, '--config', setup.config], { timeoutMs: 60_000 });
    expect(repaired.code, repaired.stdout + repaired.stderr).toBe(0);
    if (command === 'issue') expect(repaired.stderr).toMatch(/issued version \d+ .*\(the live files were broken\)/);

    const ok = await runCli(['status', '--config', setup.config, '--json']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    const entry = JSON.parse(ok.stdout).lineages[0];
    expect(entry).toMatchObject({ healthy: true, version: index + 2 });
    const cert = new X509Certificate(readFileSync(liveFile('cert.pem')));
    expect(cert.checkPrivateKey(createPrivateKey(readFileSync(liveFile('privkey.pem'))))).toBe(true);
    expect(readFileSync(liveFile('fullchain.pem'), 'utf8')).toBe(readFileSync(liveFile('cert.pem'), 'utf8') + readFileSync(liveFile('chain.pem'), 'utf8'));
  }, 90_000);
});
