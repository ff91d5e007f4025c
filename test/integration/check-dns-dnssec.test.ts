/**
 * check-dns and issue against signed zones: the DNSSEC lab (test/lab/dnssec-lab.ts) with a parent zone
 * as trust anchor, a validating resolver in front of Pebble, and the broken variants.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { AUTH_IP, DELEGATED, DELEGATION_TARGET, ISLAND, KNOT_IP, NOSIGN, PARENT, PLAIN, RESOLVER_IP, startDnssecLab, type DnssecLab } from '../lab/dnssec-lab.js';
import { runCli } from './helpers.js';
import type { CheckResult } from '../../src/check/types.js';

let lab: DnssecLab;

beforeAll(async () => {
  // A directory of its own: /tmp is shared with test runs in other network namespaces.
  lab = await startDnssecLab(await mkdtemp(path.join(os.tmpdir(), 'gxit-cert-itest-dnssec-')));
}, 120_000);

/** The configuration directories of the tests, removed at the end. */
const temporary: string[] = [];

afterAll(async () => {
  await lab?.stop();
  await Promise.all(temporary.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** One line of check-dns's --json `results`. */
type Line = CheckResult;

async function configFile(zone: string, overrides: Record<string, unknown> = {}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gxit-it-dnssec-'));
  temporary.push(dir);
  const file = path.join(dir, 'config.yml');
  await writeFile(file, stringify(lab.config(zone, { state_dir: path.join(dir, 'state'), ...overrides })), { mode: 0o600 });
  return file;
}

async function checkDns(zone: string, overrides: Record<string, unknown> = {}): Promise<{ code: number | null; ms: number; results: Line[]; stdout: string }> {
  const run = await runCli(['check-dns', '--config', await configFile(zone, overrides), '--json']);
  return { code: run.code, ms: run.ms, stdout: run.stdout, results: (JSON.parse(run.stdout) as { results: Line[] }).results };
}

const GOOD = `good.${PARENT}`;
const SHORT = `short.${PARENT}`;
const WRONG_DS = `wrongds.${PARENT}`;
const base = (zone: string): string => `_acme-challenge.galaxy.${zone}`;
const wild = (zone: string): string => `_acme-challenge.ep.interactivetool.galaxy.${zone}`;

const dnssecLines = (results: Line[]): Line[] => results.filter((l) => l.check === 'dnssec');

/** TXT values left at a name on a server (the probe must remove its own). */
async function txtLeft(name: string, server: string): Promise<string[]> {
  const { execFile } = await import('node:child_process');
  const out = await new Promise<string>((resolve, reject) =>
    execFile('dig', ['+short', '+norecurse', `@${server}`, name, 'TXT'], (e, stdout) => (e ? reject(e) : resolve(stdout))),
  );
  return out.split('\n').filter((l) => l.startsWith('"'));
}

describe('check-dns: DNSSEC', () => {
  it('passes the signed zone: chain, denial before the probe, signed probe record', async () => {
    const { code, ms, results } = await checkDns(GOOD);
    // The wildcard-covered challenge name of the GxIT set-up is ✓ with a note, so every line is ok.
    expect(results.filter((l) => l.status !== 'ok').map((l) => `${l.check} ${l.subject}`)).toEqual([]);
    expect(results.find((l) => l.check === 'challenge' && l.subject === wild(GOOD))?.note).toBeDefined();
    expect(code).toBe(0);
    const lines = dnssecLines(results);
    expect(lines.map((l) => `${l.status} ${l.subject}`)).toEqual([
      `ok zone ${GOOD}`,
      `ok ${base(GOOD)}`,
      `ok ${wild(GOOD)}`,
      `ok ${base(GOOD)}`,
      `ok ${wild(GOOD)}`,
    ]);
    expect(lines[0]?.message).toMatch(new RegExp(`^signed: the chain ${PARENT} → ${GOOD} validates \\(ECDSAP256SHA256, key tag \\d+\\) on ns1\\.${GOOD}; signatures valid until `));
    expect(lines[1]?.message).toBe(`does not exist, proven with NSEC on ns1.${GOOD}`);
    expect(lines[2]?.message).toBe(`a signed wildcard CNAME, proven with NSEC on ns1.${GOOD}`);
    expect(lines[3]?.message).toMatch(/^the probe's TXT "gxit-cert-probe-[0-9a-f]+" carried a valid RRSIG on ns1\.good\.example: updates are signed$/);
    // The whole CLI run, typically 0.4-0.9 s on the lab: a bound of 10x for a loaded machine.
    expect(ms).toBeLessThan(9000);
    console.log(`check-dns on the signed lab zone: ${Math.round(ms)} ms`);
  });

  it('gives ✓ "not signed" for an unsigned zone', async () => {
    const { code, results } = await checkDns(PLAIN);
    expect(code).toBe(0);
    expect(dnssecLines(results)).toEqual([{ check: 'dnssec', status: 'ok', subject: `zone ${PLAIN}`, message: 'not signed (no DNSKEY at the zone, no DS for it)' }]);
  });

  it('gives ✓ "not signed" for a signed zone without a DS in its parent, after validating the parent\'s proof', async () => {
    const { code, results } = await checkDns(ISLAND);
    expect(code).toBe(0);
    expect(dnssecLines(results)).toEqual([
      {
        check: 'dnssec',
        status: 'ok',
        subject: `zone ${ISLAND}`,
        message: `not signed for validators: the zone has DNSKEY records, but ${PARENT} proves with NSEC that ${ISLAND} has no DS record`,
      },
    ]);
  });

  it('checks the zone of a CNAME delegation target too: the unsigned zone of the name, the signed one it delegates to', async () => {
    const { code, results } = await checkDns(DELEGATED, { certificates: [{ name: `galaxy.${DELEGATED}`, domains: [`galaxy.${DELEGATED}`] }] });
    expect(code).toBe(0);
    expect(dnssecLines(results).map((l) => `${l.status} ${l.subject}: ${l.message.replace(/"gxit-cert-probe-[0-9a-f]+"/, '"<probe>"').replace(/\(ECDSAP256SHA256.*$/, '...')}`)).toEqual([
      `ok zone ${DELEGATED}: not signed (no DNSKEY at the zone, no DS for it)`,
      `ok zone ${GOOD}: signed: the chain ${PARENT} → ${GOOD} validates ...`,
      `ok ${DELEGATION_TARGET}: does not exist, proven with NSEC on ns1.${GOOD}`,
      `ok ${DELEGATION_TARGET}: the probe's TXT "<probe>" carried a valid RRSIG on ns1.${GOOD}: updates are signed`,
    ]);
  });

  it('fails a DS in the parent that matches no DNSKEY, naming the DS, its key tag and the nameserver', async () => {
    const { code, results } = await checkDns(WRONG_DS);
    expect(code).toBe(1);
    const zone = dnssecLines(results).find((l) => l.subject === `zone ${WRONG_DS}`);
    expect(zone).toMatchObject({ status: 'fail' });
    expect(zone?.message).toMatch(
      new RegExp(`^DS ${WRONG_DS} names key tag ${lab.wrongDsKeyTag}, but no DNSKEY of ${WRONG_DS} matches it \\(the zone serves key tag \\d+\\) on ns1\\.${WRONG_DS} \\(${AUTH_IP}:53\\)$`),
    );
    expect(zone?.fix).toMatch(/^publish at the parent of wrongds\.example the DS of the zone's current key/);
  });

  it('finds the zone and nameservers of a bogus child through a validating resolver too (CD set)', async () => {
    // Without CD a validating resolver answers SERVFAIL for wrongds.example's SOA and NS: the parent
    // would be taken for the zone, or the zone would seem to have no nameservers. The CA's resolver is
    // used here on purpose (the lookups of other tests go through the non-validating one).
    const { results } = await checkDns(WRONG_DS, { dns: { ...(lab.config(WRONG_DS).dns as object), resolvers: [RESOLVER_IP] } });
    const line = (check: string, subject: string): Line | undefined => results.find((l) => l.check === check && l.subject === subject);
    expect(line('zone', `zone ${WRONG_DS}`)).toMatchObject({ status: 'ok', message: expect.stringContaining(`NS ns1.${WRONG_DS}`) });
    expect(line('nameserver', `ns1.${WRONG_DS} (${AUTH_IP}:53)`)?.status).toBe('ok');
    expect(line('write', base(WRONG_DS))).toMatchObject({ status: 'ok', message: expect.stringContaining(`in zone ${WRONG_DS} via`) });
    // What the CA's resolver really answers stays visible: SERVFAIL for the names, and why.
    expect(line('host', `galaxy.${WRONG_DS}`)).toMatchObject({ status: 'fail', message: expect.stringContaining('SERVFAIL') });
    expect(line('dnssec', `zone ${WRONG_DS}`)?.status).toBe('fail');
  });

  it('warns about signatures that expire within 7 days, naming the record, key tag and nameserver', async () => {
    const { code, results } = await checkDns(SHORT);
    expect(code).toBe(0);
    const zone = dnssecLines(results).find((l) => l.subject === `zone ${SHORT}`);
    expect(zone?.status).toBe('warn');
    expect(zone?.message).toMatch(
      new RegExp(`^signed and valid, but the RRSIG over (SOA|NS|DNSKEY) ${SHORT} by key tag \\d+ on ns1\\.${SHORT} \\(${AUTH_IP}:53\\) expires at 20\\d\\d-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC, within 7 days$`),
    );
  });

  it('fails a zone whose dynamic updates are not signed, naming the record and nameserver, and removes the probe', async () => {
    const { code, results } = await checkDns(NOSIGN);
    expect(code).toBe(1);
    const lines = dnssecLines(results);
    // The zone itself and the denial before the probe validate: only the probe record is bogus.
    expect(lines.map((l) => `${l.status} ${l.subject}`)).toEqual([`ok zone ${NOSIGN}`, `ok ${base(NOSIGN)}`, `ok ${wild(NOSIGN)}`, `fail ${base(NOSIGN)}`, `fail ${wild(NOSIGN)}`]);
    expect(lines[3]?.message).toBe(
      `the server does not sign dynamic updates: the CA will see a bogus answer (the probe's TXT ${base(NOSIGN)} has no RRSIG on ns1.${NOSIGN} (${KNOT_IP}:53))`,
    );
    expect(await txtLeft(base(NOSIGN), KNOT_IP)).toEqual([]);
    expect(await txtLeft(wild(NOSIGN), KNOT_IP)).toEqual([]);
  });
});

describe('issue through signed zones (Pebble asks a validating resolver)', () => {
  it('issues for the signed zone', { timeout: 90_000 }, async () => {
    const run = await runCli(['issue', '--config', await configFile(GOOD), '--json']);

    expect(run.code, run.stdout).toBe(0);
    expect(JSON.parse(run.stdout).results[0]).toMatchObject({ name: `galaxy.${GOOD}`, status: 'issued' });
  });

  it('fails where updates are not signed, and the error line points at check-dns', { timeout: 90_000 }, async () => {
    const run = await runCli(['issue', '--config', await configFile(NOSIGN)]);
    expect(run.code).toBe(1);
    // Pebble prints the validating resolver's SERVFAIL as the rcode byte ('\x02'); the hint spells it out.
    const name = `_acme-challenge(\\.ep\\.interactivetool)?\\.galaxy\\.nosign\\.example`;
    expect(run.stderr).toMatch(
      new RegExp(
        `\\(the CA's lookup failed: Error retrieving TXT records for DNS challenge \\("DNS lookup for "${name}" returned SERVFAIL"\\); ` +
          'that is how a validating resolver answers a broken DNSSEC chain or an unsigned record in a signed zone: run `gxit-cert check-dns` to find the record, key tag and nameserver\\)\\n$',
      ),
    );
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(await txtLeft(base(NOSIGN), KNOT_IP)).toEqual([]);
    expect(await txtLeft(wild(NOSIGN), KNOT_IP)).toEqual([]);
  });
});
