/**
 * The validation code against what BIND produces: zones signed by dnssec-signzone at test time with
 * every algorithm we implement (8, 10, 13, 14, 15), with NSEC and NSEC3, served by named on a random
 * loopback port; each verdict is cross-checked with BIND's own validator, delv, on the same server.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerAddress, TrustAnchor } from '../../../../src/config/types.js';
import { parseTrustAnchor } from '../../../../src/config/trust-anchors.js';
import { validateChain } from '../../../../src/dns/dnssec/chain.js';
import { verifyDenial } from '../../../../src/dns/dnssec/denial.js';
import { verifyRrset } from '../../../../src/dns/dnssec/rrset.js';
import { signedAsk } from '../../../../src/dns/dnssec/wire.js';
import { RRType } from '../../../../src/dns/message.js';
import { exchange } from '../../../../src/dns/transport.js';

const execFileP = promisify(execFile);
const run = async (cmd: string, args: string[], cwd: string): Promise<string> => (await execFileP(cmd, args, { cwd, timeout: 60_000 })).stdout;

interface Signed {
  zone: string;
  algorithm: number;
  nsec3: boolean;
  /** "zone. IN DS ..." of its KSK, and the KSK DNSKEY record. */
  ds: string;
  dnskey: string;
  /** The KSK's .key file (for dnssec-dsfromkey). */
  kskFile: string;
}

const ZONES: { label: string; algorithm: number; bits?: number; nsec3?: boolean; tamper?: boolean; expired?: boolean }[] = [
  { label: 'rsasha256', algorithm: 8, bits: 2048 },
  { label: 'rsasha512', algorithm: 10, bits: 2048, nsec3: true },
  { label: 'p256', algorithm: 13 },
  { label: 'p384', algorithm: 14, nsec3: true },
  { label: 'ed25519', algorithm: 15 },
  { label: 'tampered', algorithm: 13, tamper: true },
  { label: 'expired', algorithm: 13, expired: true },
];

let dir: string;
let named: ChildProcess | undefined;
let server: ServerAddress;
const signed = new Map<string, Signed>();
const ask = signedAsk(exchange, { timeoutMs: 1000, retries: 2 });
const now = (): number => Date.now();

async function signZone(z: (typeof ZONES)[number]): Promise<Signed> {
  const zone = `${z.label}.test`;
  const zdir = path.join(dir, zone);
  await execFileP('mkdir', ['-p', zdir]);
  const bits = z.bits ? ['-b', String(z.bits)] : [];
  const ksk = (await run('dnssec-keygen', ['-q', '-a', String(z.algorithm), ...bits, '-f', 'KSK', zone], zdir)).trim();
  await run('dnssec-keygen', ['-q', '-a', String(z.algorithm), ...bits, zone], zdir);
  const keys = (await readdir(zdir)).filter((f) => f.endsWith('.key'));
  const keyText = (await Promise.all(keys.map((f) => readFile(path.join(zdir, f), 'utf8')))).join('');
  const body =
    `$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 86400 60\n@ NS ns1\nns1 A 127.0.0.1\ngalaxy A 127.0.0.1\n` +
    `*.ep.interactivetool.galaxy CNAME galaxy\n_acme-challenge.txt TXT "value one" "two"\nmx MX 10 galaxy\n${keyText}`;
  await writeFile(path.join(zdir, 'zone.src'), body);
  const stamp = (days: number): string => new Date(Date.now() + days * 86_400_000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
  // Expired signatures fail dnssec-signzone's own check of the result: -P skips it.
  const times = z.expired ? ['-P', '-s', stamp(-20), '-e', stamp(-10)] : [];
  const nsec3 = z.nsec3 ? ['-3', 'aabbccdd', '-H', '5'] : [];
  await run('dnssec-signzone', ['-q', '-S', '-K', zdir, ...times, ...nsec3, '-o', zone, '-f', path.join(dir, `${zone}.db`), path.join(zdir, 'zone.src')], zdir);
  if (z.tamper) {
    // A record changed after signing: its RRSIG no longer verifies.
    const file = path.join(dir, `${zone}.db`);
    await writeFile(file, (await readFile(file, 'utf8')).replace(/(galaxy\.tampered\.test\.\s+\d+\s+IN\s+A\s+)127\.0\.0\.1/, '$1127.0.0.9'));
  }
  const ds = (await readFile(path.join(zdir, `dsset-${zone}.`), 'utf8')).split('\n').find((l) => / DS .* 2 /.test(l)) as string;
  const dnskey = (await readFile(path.join(zdir, `${ksk}.key`), 'utf8')).split('\n').find((l) => /DNSKEY/.test(l)) as string;
  return { zone, algorithm: z.algorithm, nsec3: z.nsec3 ?? false, ds: ds.trim(), dnskey: dnskey.trim(), kskFile: path.join(zdir, `${ksk}.key`) };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'gxit-dnssec-'));
  for (const s of await Promise.all(ZONES.map(signZone))) signed.set(s.zone.split('.')[0] as string, s);
  // Below Linux's ephemeral range (32768-60999): an outgoing connection's source port can never hold it.
  const port = randomInt(20_000, 32_000);
  server = { host: '127.0.0.1', port };
  await writeFile(path.join(dir, 'named.conf'), `options { directory "${dir}"; pid-file none; session-keyfile none; managed-keys-directory "${dir}";
  listen-on port ${port} { 127.0.0.1; }; listen-on-v6 { none; }; automatic-interface-scan no; recursion no; dnssec-validation no; notify no; };
controls { };
${[...signed.values()].map((s) => `zone "${s.zone}" { type primary; file "${s.zone}.db"; };`).join('\n')}
`);
  named = spawn('named', ['-g', '-4', '-n', '1', '-u', 'root', '-c', path.join(dir, 'named.conf')], { stdio: 'ignore' });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const reply = await ask(server, 'p256.test', RRType.SOA, { recursive: false }).catch(() => undefined);
    if (reply?.answers.length) break;
    if (Date.now() > deadline) throw new Error('named did not answer');
    await new Promise((r) => setTimeout(r, 50));
  }
}, 120_000);

afterAll(async () => {
  if (named && named.exitCode === null) {
    const exited = new Promise((r) => named?.once('exit', r));
    named.kill('SIGTERM');
    await exited;
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

function anchor(text: string): TrustAnchor {
  const parsed = parseTrustAnchor(text);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
}

/** delv's verdict for a question, with the zone's KSK as the only trust anchor. */
async function delv(s: Signed, name: string, type: string): Promise<string> {
  const [owner, , , flags, protocol, algorithm, ...key] = s.dnskey.split(/\s+/);
  const file = path.join(dir, `${s.zone}.anchor`);
  await writeFile(file, `trust-anchors { "${owner}" static-key ${flags} ${protocol} ${algorithm} "${key.join('')}"; };\n`);
  const out = await execFileP('delv', [`@${server.host}`, '-p', String(server.port), '-a', file, `+root=${s.zone}`, '+nosplit', name, type], { timeout: 20_000 }).then(
    (r) => r.stdout + r.stderr,
    (e: { stdout?: string; stderr?: string }) => `${e.stdout ?? ''}${e.stderr ?? ''}`,
  );
  return out;
}

const deps = (anchors: TrustAnchor[]) => ({ ask, resolvers: [server], anchors, now });

describe('DNSSEC validation against dnssec-signzone output, cross-checked with delv', () => {
  it.each(['rsasha256', 'rsasha512', 'p256', 'p384', 'ed25519'])('validates the %s zone from its DS and from its DNSKEY, as delv does', async (label) => {
    const s = signed.get(label) as Signed;
    for (const a of [s.ds, s.dnskey]) {
      const chain = await validateChain(deps([anchor(a)]), s.zone);
      expect(chain).toMatchObject({ status: 'secure', zone: s.zone });
      if (chain.status !== 'secure') continue;
      const nowSeconds = Math.floor(now() / 1000);
      for (const [name, type] of [[`_acme-challenge.txt.${s.zone}`, RRType.TXT], [`mx.${s.zone}`, RRType.MX], [s.zone, RRType.SOA], [s.zone, RRType.NS]] as const) {
        const reply = await ask(server, name, type, { recursive: false });
        expect(verifyRrset(reply.answers, name, type, chain.keys, s.zone, nowSeconds), `${name} ${type}`).toMatchObject({ ok: true });
      }
    }
    expect(await delv(s, `_acme-challenge.txt.${s.zone}`, 'TXT')).toContain('; fully validated');
  });

  it.each(['rsasha256', 'rsasha512', 'p256', 'p384', 'ed25519'])('validates NXDOMAIN, NODATA and a wildcard answer in the %s zone', async (label) => {
    const s = signed.get(label) as Signed;
    const chain = await validateChain(deps([anchor(s.ds)]), s.zone);
    if (chain.status !== 'secure') throw new Error(chain.status);
    const nowSeconds = Math.floor(now() / 1000);
    const missing = `_acme-challenge.galaxy.${s.zone}`;
    const nx = await ask(server, missing, RRType.TXT, { recursive: false });
    expect(nx.rcode).toBe(3);
    expect(verifyDenial(missing, RRType.TXT, nx.authorities, chain.keys, s.zone, nowSeconds)).toEqual({ ok: true, proof: s.nsec3 ? 'NSEC3' : 'NSEC', what: 'nxdomain' });
    const nodata = await ask(server, `galaxy.${s.zone}`, RRType.TXT, { recursive: false });
    expect(verifyDenial(`galaxy.${s.zone}`, RRType.TXT, nodata.authorities, chain.keys, s.zone, nowSeconds)).toEqual({ ok: true, proof: s.nsec3 ? 'NSEC3' : 'NSEC', what: 'nodata' });
    // A name that does exist has no denial.
    const present = await ask(server, `galaxy.${s.zone}`, RRType.A, { recursive: false });
    expect(verifyDenial(`galaxy.${s.zone}`, RRType.A, present.authorities, chain.keys, s.zone, nowSeconds)).toMatchObject({ ok: false });
    const { judgeTxtAnswer } = await import('../../../../src/check/dnssec.js');
    const wild = `_acme-challenge.ep.interactivetool.galaxy.${s.zone}`;
    expect(judgeTxtAnswer(await ask(server, wild, RRType.TXT, { recursive: false }), wild, s.zone, chain.keys, nowSeconds)).toEqual({
      ok: true,
      how: `a signed wildcard CNAME, proven with ${s.nsec3 ? 'NSEC3' : 'NSEC'}`,
    });
    expect(await delv(s, missing, 'TXT')).toMatch(/; negative response, fully validated/);
  });

  it('finds the bad signature of a record changed after signing, as delv does', async () => {
    const s = signed.get('tampered') as Signed;
    const chain = await validateChain(deps([anchor(s.ds)]), s.zone);
    if (chain.status !== 'secure') throw new Error(chain.status);
    const reply = await ask(server, `galaxy.${s.zone}`, RRType.A, { recursive: false });
    const verdict = verifyRrset(reply.answers, `galaxy.${s.zone}`, RRType.A, chain.keys, s.zone, Math.floor(now() / 1000));
    expect(verdict).toMatchObject({ ok: false, problem: { kind: 'bad-signature' } });
    expect(await delv(s, `galaxy.${s.zone}`, 'A')).toMatch(/resolution failed|verify failed|RRSIG failed to verify|no valid signature/);
    // The untouched records still verify.
    expect(await delv(s, `mx.${s.zone}`, 'MX')).toContain('; fully validated');
  });

  it('reports expired signatures with the key tag and the time, as delv refuses them', async () => {
    const s = signed.get('expired') as Signed;
    const chain = await validateChain(deps([anchor(s.ds)]), s.zone);
    expect(chain).toMatchObject({ status: 'bogus', bogus: { record: `DNSKEY ${s.zone}`, message: expect.stringMatching(/^DNSKEY expired\.test: the RRSIG by key tag \d+ expired at 20\d\d-\d\d-\d\d \d\d:\d\d UTC \(checked against the trust anchor\)$/) } });
    expect(await delv(s, `galaxy.${s.zone}`, 'A')).toMatch(/resolution failed|expired|no valid/);
  });

  it('accepts DS digests SHA-1, SHA-256 and SHA-384 as dnssec-dsfromkey computes them', async () => {
    const s = signed.get('p384') as Signed;
    for (const digest of ['SHA-1', 'SHA-256', 'SHA-384']) {
      const ds = (await run('dnssec-dsfromkey', ['-a', digest, s.kskFile], dir)).trim();
      expect(await validateChain(deps([anchor(ds)]), s.zone), digest).toMatchObject({ status: 'secure' });
    }
  });

  it('reports a DS that names no key of the zone', async () => {
    const s = signed.get('p256') as Signed;
    const other = signed.get('ed25519') as Signed;
    // The ed25519 zone's DS with p256's owner: a digest over a key p256.test does not have.
    const wrong = anchor(other.ds.replace(other.zone, s.zone));
    const chain = await validateChain(deps([wrong]), s.zone);
    expect(chain).toMatchObject({ status: 'bogus', bogus: { record: `DS ${s.zone}`, server: `127.0.0.1:${server.port}` } });
  });
});
