import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatLockFile } from '../../src/store/lock.js';
import { runCli } from './helpers.js';
import { fakeLineage, liveCert, renewSetup } from './renew-helpers.js';

const DAY = 86_400_000;

describe('gxit-cert status', () => {
  it('reports each lineage as JSON and writes a node-exporter textfile; exit 0 when all is well', async () => {
    const setup = await renewSetup('rnw-status');
    expect((await runCli(['issue', '--config', setup.config])).code).toBe(0);
    const leaf = await liveCert(setup);
    const metricsDir = path.join(setup.dir, 'textfile');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(metricsDir);
    const prom = path.join(metricsDir, 'gxit_cert.prom');

    const run = await runCli(['status', '--config', setup.config, '--json', '--prometheus', prom]);
    expect(run.code, run.stdout).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc.ok).toBe(true);
    expect(doc.lineages).toHaveLength(1);
    const entry = doc.lineages[0];
    expect(entry).toMatchObject({
      name: setup.names.base,
      configured: true,
      issued: true,
      domains: setup.names.domains,
      version: 1,
      serial: leaf.serialNumber,
      issuer: expect.stringMatching(/Pebble/),
      notBefore: new Date(leaf.validFrom).toISOString(),
      notAfter: new Date(leaf.validTo).toISOString(),
      expired: false,
      due: { due: false, basis: 'lifetime' },
      lastRun: { ok: true },
      lastSuccessAt: expect.any(String),
      ari: { supported: false },
      healthy: true,
    });
    expect(entry.daysLeft).toBeGreaterThan(1800);
    expect(entry.due.detail).toMatch(/days left; renews from \d{4}-\d\d-\d\d/);

    const text = await readFile(prom, 'utf8');
    expect(text).toContain(`gxit_cert_expiry_timestamp_seconds{name="${setup.names.base}"} ${Date.parse(leaf.validTo) / 1000}\n`);
    expect(text).toMatch(new RegExp(`gxit_cert_last_success_timestamp_seconds\\{name="${setup.names.base.replace(/\./g, '\\.')}"\\} \\d{10}\\n`));
    expect(text).toContain(`gxit_cert_healthy{name="${setup.names.base}"} 1\n`);
    expect(text).not.toContain('gxit_cert_last_failure_timestamp_seconds{');
    expect((await stat(prom)).mode & 0o777).toBe(0o644);
    expect(await readdir(metricsDir)).toEqual(['gxit_cert.prom']);

    const human = await runCli(['status', '--config', setup.config]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^${setup.names.base.replace(/\./g, '\\.')}: ok, expires \\S+ \\(\\d+ days left\\)\\n  domains: `));
    expect(human.stdout).toContain(`  serial ${leaf.serialNumber}, issuer Pebble`);
  });

  it('exits 1 for an expired lineage, and lists a configured certificate not issued yet', async () => {
    const setup = await renewSetup('rnw-expired');
    await fakeLineage(setup, { notBefore: new Date(Date.now() - 100 * DAY), notAfter: new Date(Date.now() - DAY) });
    const extra = { name: 'rnw-later.example.org', domains: ['rnw-later.example.org'] };
    await setup.rewrite({ certificates: [{ name: setup.names.base, domains: setup.names.domains }, extra] });
    const run = await runCli(['status', '--config', setup.config, '--json']);
    expect(run.code).toBe(1);
    const doc = JSON.parse(run.stdout);
    expect(doc.ok).toBe(false);
    expect(doc.lineages[0]).toMatchObject({ name: setup.names.base, expired: true, healthy: false, due: { due: true, basis: 'expired' } });
    expect(doc.lineages[0].daysLeft).toBeLessThan(0);
    expect(doc.lineages[1]).toMatchObject({ name: extra.name, issued: false, configured: true, domains: extra.domains });
    const human = await runCli(['status', '--config', setup.config]);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain(`${setup.names.base}: EXPIRED, expires `);
    expect(human.stdout).toContain(`${extra.name}: not issued (run gxit-cert issue)`);
  });

  it('exits 2 for a configuration error', async () => {
    const setup = await renewSetup('rnw-status-bad', { renew_before_days: 'soon' });
    const run = await runCli(['status', '--config', setup.config]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/config\.yml:\d+: renew_before_days: must be a number/);
  });
});

describe('renew with nothing due', () => {
  it('exits 0 quickly from the state directory alone', async () => {
    const setup = await renewSetup('rnw-fast');
    expect((await runCli(['issue', '--config', setup.config])).code).toBe(0);
    // The lab CA has no renewalInfo; issue recorded that, so no check is due either.
    const runs = [];
    for (let i = 0; i < 5; i++) runs.push(await runCli(['renew', '--config', setup.config]));
    for (const run of runs) {
      expect(run.code).toBe(0);
      expect(run.stderr).toMatch(/^rnw-fast\.example\.org: not due: 18\d\d days left; renews from /);
    }
    // Spawned under the load of the parallel test files; the figure for a quiet machine is in the README.
    const fastest = Math.min(...runs.map((r) => r.ms));
    expect(fastest).toBeLessThan(1000);

    // Neither the ACME client, the AWS SDK, the DNS code nor cron is loaded on this path. The provider
    // descriptors are (the configuration's provider sections live in them); no implementation is.
    const loader = path.join(path.dirname(fileURLToPath(import.meta.url)), 'renew-trace-loader.mjs');
    const traced = await runCli(['renew', '--config', setup.config], { env: { NODE_OPTIONS: `--no-warnings --experimental-loader=${loader}` } });
    expect(traced.code).toBe(0);
    const loaded = traced.stderr.split('\n').filter((l) => l.startsWith('LOAD '));
    expect(loaded.some((l) => l.includes('/node_modules/yaml/'))).toBe(true);
    const descriptorOnly = /\/dist\/dns\/providers\/((registry|descriptor)\.js|[^/]+\/(descriptor|section|key-file)\.js)$/;
    expect(loaded.filter((l) => /node_modules\/(acme-client|@aws-sdk|dns2|cron|node-forge|pg|pg-[a-z]+)\/|\/dist\/(acme|dns)\//.test(l) && !descriptorOnly.test(l))).toEqual([]);
  });

  it('does not wait for the state lock', async () => {
    const setup = await renewSetup('rnw-fast-lock');
    expect((await runCli(['issue', '--config', setup.config])).code).toBe(0);
    // Another run holds the lock (this live process, fresh heartbeat): a nothing-due renew does not need it.
    const now = new Date().toISOString();
    await writeFile(path.join(setup.stateDir, '.lock'), formatLockFile({ pid: process.pid, hostname: hostname(), token: '0123456789abcdef', acquiredAt: now, heartbeat: now }));
    const run = await runCli(['renew', '--config', setup.config]);
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain('waiting');
    expect(run.ms).toBeLessThan(3000);
    // Something to do (forced) waits for it.
    const forced = await runCli(['renew', '--force', '--config', setup.config], { timeoutMs: 3000 });
    expect(forced.code).toBeNull();
    expect(forced.stderr).toContain(`waiting for another gxit-cert run (pid ${process.pid}) to finish`);
  });
});
