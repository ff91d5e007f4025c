/**
 * check-dns against nameserver breakage, on a private lab (its own BIND primary + secondary and Pebble
 * in the shared lab's address block, .7x): a zone with an NS record for a nameserver that does not run,
 * and a secondary that lags behind the primary (notify-delay 30 s, so an update stays unseen there).
 */
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LabError, startLab, type Lab } from '../lab/lab.mjs';
import { CLI, nsupdate, runCli } from './helpers.js';
import type { CheckResult } from '../../src/check/types.js';

const shared = inject('lab');
const net = shared.dnsIp.split('.').slice(0, 3).join('.');
const UNREACHABLE_NS = `${net}.79`;
const UNREACH = 'chk-unreach.test';
const LAG = 'chk-lag.test';
const GALAXY = (zone: string): string => `galaxy.${zone}`;
const WILDCARD = (zone: string): string => `*.ep.interactivetool.galaxy.${zone}`;

let privateLab: Lab;

beforeAll(async () => {
  const gxit = 'galaxy A 127.0.0.1\n*.ep.interactivetool.galaxy CNAME galaxy\n';
  privateLab = await startLab({
    dir: path.join(os.tmpdir(), `gxit-cert-itest-${net}-check-dns`),
    dnsIp: `${net}.72`,
    secondaryIp: `${net}.73`,
    pebbleIp: `${net}.71`,
    notifyDelay: 30,
    zones: [
      { name: UNREACH, records: `@ NS ns3.${UNREACH}.\nns3 A ${UNREACHABLE_NS}\n${gxit}` },
      { name: LAG, records: gxit },
    ],
  }).catch((error: unknown) => {
    if (error instanceof LabError) throw new Error(`private check-dns lab: ${error.message}`);
    throw error;
  });
});

afterAll(async () => {
  await privateLab?.stop();
});

async function config(zone: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gxit-it-'));
  return privateLab.writeConfig(path.join(dir, 'config.yml'), {
    state_dir: path.join(dir, 'state'),
    certificates: [{ name: GALAXY(zone), domains: [GALAXY(zone), WILDCARD(zone)] }],
  });
}

/** One line of check-dns's --json `results`. */
type Line = CheckResult;

async function checkDns(zone: string): Promise<{ code: number | null; ms: number; results: Line[] }> {
  const run = await runCli(['check-dns', '--config', await config(zone), '--json']);
  return { code: run.code, ms: run.ms, results: (JSON.parse(run.stdout) as { results: Line[] }).results };
}

/** TXT values at `name` on the private primary and secondary. */
async function txtOnBoth(name: string): Promise<string[]> {
  return [...(await privateLab.txt(name, privateLab.dnsIp)), ...(await privateLab.txt(name, privateLab.secondaryIp))];
}

describe('check-dns: nameservers', () => {
  it('fails a nameserver that does not answer, naming it, and still finishes quickly', async () => {
    const { code, ms, results } = await checkDns(UNREACH);
    expect(code).toBe(1);
    const bad = results.filter((l) => l.check === 'nameserver' && l.status === 'fail');
    expect(bad).toMatchObject([
      {
        subject: `ns3.${UNREACH} (${UNREACHABLE_NS}:53)`,
        message: expect.stringMatching(new RegExp(`^does not answer for zone ${UNREACH.replace('.', '\\.')} \\(UDP: .*; TCP: .*\\)$`)),
        fix: `start the nameserver at ${UNREACHABLE_NS}:53 or open port 53 to it, or remove ns3.${UNREACH} from the NS records of ${UNREACH}: the CA may ask any of them`,
      },
    ]);
    expect(results.filter((l) => l.check === 'nameserver' && l.status === 'ok').map((l) => l.subject)).toEqual([
      `ns1.example.org (${privateLab.dnsIp}:53)`,
      `ns2.example.org (${privateLab.secondaryIp}:53)`,
    ]);
    // The probe value could not be seen on ns3: a warning for it, and nothing left on the others.
    expect(results.filter((l) => l.check === 'write').map((l) => l.status)).toEqual(['warn', 'warn']);
    expect(results.find((l) => l.check === 'write')?.message).toContain(`ns3.${UNREACH} at ${UNREACHABLE_NS}:53 did not serve it in time`);
    for (const name of [`_acme-challenge.${GALAXY(UNREACH)}`, `_acme-challenge.ep.interactivetool.${GALAXY(UNREACH)}`]) expect(await txtOnBoth(name)).toEqual([]);
    // Below the lab's 30 s propagation_timeout: the probe does not wait it out for a dead nameserver.
    expect(ms).toBeLessThan(20_000);
  });

  it('fails a secondary with an older serial and names it', async () => {
    await nsupdate([`zone ${LAG}`, `update add bump.${LAG}. 60 A 127.0.0.1`], 'lab-admin', privateLab);
    const { code, results } = await checkDns(LAG);
    expect(code).toBe(1);
    const zone = results.find((l) => l.check === 'zone');
    expect(zone).toMatchObject({ status: 'fail', subject: `zone ${LAG}` });
    expect(zone?.message).toMatch(new RegExp(`^ns2\\.example\\.org \\(${privateLab.secondaryIp}:53\\) serves serial (\\d+), but ns1\\.example\\.org serves (\\d+): a CA that asks a lagging nameserver sees no TXT record$`));
    expect(zone?.fix).toMatch(/^make sure ns2\.example\.org receives NOTIFY and zone transfers from the primary/);
    // The probe is accepted by the primary, the secondary does not follow in time, and nothing stays on the primary.
    expect(results.filter((l) => l.check === 'write').map((l) => l.status)).toEqual(['warn', 'warn']);
    expect(await privateLab.txt(`_acme-challenge.${GALAXY(LAG)}`)).toEqual([]);
  });

  it('removes the probe value when interrupted while it waits for the nameservers', async () => {
    const cfg = await config(LAG);
    const child = spawn(process.execPath, [CLI, 'check-dns', '--config', cfg, '--verbose'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no probe progress line; stderr: ${stderr}`)), 10_000);
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('write probe: added TXT')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const probed = /added TXT "(gxit-cert-probe-[0-9a-f]{16})" at (\S+);/.exec(stderr);
    expect(probed).not.toBeNull();
    // The value is there now (on the primary), and the CLI is waiting for the lagging secondary.
    expect(await privateLab.txt(probed![2]!)).toContain(probed![1]);
    const interrupted = Date.now();
    child.kill('SIGINT');
    expect(await exited).toBe(1);
    // The secondary lags 30 s (notify-delay): exiting well before proves the wait was stopped.
    expect(Date.now() - interrupted).toBeLessThan(10_000);
    expect(stderr).toContain('SIGINT: stopping after cleanup');
    expect(stdout).toMatch(/✗ write\s+\S+: interrupted; added and removed TXT/);
    expect(await privateLab.txt(probed![2]!)).not.toContain(probed![1]);
  });
});
