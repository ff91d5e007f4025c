/**
 * A DNSSEC lab for the tests that need signed zones, started by those tests themselves (the shared
 * lab stays unsigned, so other tests are unaffected). On loopback, under one directory:
 *
 *   BIND  AUTH_IP      authoritative for the parent zone `example` and its children, signed by
 *                      dnssec-policy with inline-signing (dynamic updates are signed):
 *                        good.example     signed, DS in the parent
 *                        short.example    signed with 5-day signatures (signatures-validity 5d)
 *                        wrongds.example  signed, but the parent's DS is for a key the zone never had
 *                        island.example   signed, but no DS in the parent
 *                        plain.example    not signed, no DS
 *                        delegated.example  not signed; _acme-challenge.galaxy is a CNAME into good.example
 *   Knot  KNOT_IP      nosign.example: signed offline by dnssec-signzone, DS in the parent, updates
 *                      accepted but never signed (dnssec-signing off)
 *   BIND  RESOLVER_IP  a validating resolver whose trust anchor is the DS of `example`: what the CA
 *                      (Pebble, started by startLab with -dnsserver here) asks
 *   BIND  LOOKUP_IP    a resolver that does not validate, for gxit-cert's lookups (dns.resolvers)
 *
 * The parent's DS records are added by UPDATE once the children are signed; the trust anchor for
 * gxit-cert is the DS of `example` (dns.trust_anchors), as dnssec-dsfromkey prints it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { startLab, type Lab } from './lab.mjs';

const execFileP = promisify(execFile);

export const PARENT = 'example';
export const SIGNED = ['good', 'short', 'wrongds'].map((c) => `${c}.${PARENT}`);
/** Signed, but its parent has no DS for it: unsigned for every validator (an island of trust). */
export const ISLAND = `island.${PARENT}`;
export const PLAIN = `plain.${PARENT}`;
/** Unsigned, its challenge name delegated by CNAME into the signed good.example (acme-dns style). */
export const DELEGATED = `delegated.${PARENT}`;
export const DELEGATION_TARGET = `_acme-challenge.delegated.good.${PARENT}`;
export const NOSIGN = `nosign.${PARENT}`;
const NET = '127.0.0';
export const PEBBLE_IP = `${NET}.90`;
const UNUSED_NAMED_IP = `${NET}.91`;
export const AUTH_IP = `${NET}.92`;
export const KNOT_IP = `${NET}.93`;
export const RESOLVER_IP = `${NET}.94`;
export const LOOKUP_IP = `${NET}.95`;

export interface DnssecLab {
  /** The Pebble lab (its own named is not used by these zones). */
  lab: Lab;
  dir: string;
  /** "example. IN DS ..." */
  trustAnchor: string;
  /** The DS the parent has for wrongds.example (key tag of a key the zone does not have). */
  wrongDsKeyTag: number;
  /** gxit-cert configuration for the challenge names of one child zone. */
  config(zone: string, overrides?: Record<string, unknown>): Record<string, unknown>;
  stop(): Promise<void>;
}

const run = async (cmd: string, args: string[], cwd?: string): Promise<string> => (await execFileP(cmd, args, { cwd, timeout: 20_000 })).stdout;

async function addLoopback(ip: string): Promise<boolean> {
  const { stdout } = await execFileP('ip', ['-o', 'addr', 'show', 'dev', 'lo']);
  if (stdout.includes(` ${ip}/`)) return false;
  await execFileP('ip', ['addr', 'add', `${ip}/32`, 'dev', 'lo']);
  return true;
}

function zoneFile(zone: string, nsIp: string, extra = ''): string {
  return `$TTL 60\n@ SOA ns1.${zone}. hostmaster.${zone}. 1 3600 600 86400 5\n@ NS ns1.${zone}.\nns1 A ${nsIp}\n` +
    `galaxy A 127.0.0.1\n*.ep.interactivetool.galaxy CNAME galaxy\n${extra}`;
}

interface Daemon {
  child: ChildProcess;
  exited: Promise<void>;
  log: () => string;
}

function daemon(cmd: string, args: string[]): Daemon {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  return { child, exited: new Promise((r) => child.once('exit', () => r())), log: () => log };
}

async function stopDaemon(d: Daemon): Promise<void> {
  if (d.child.exitCode !== null || d.child.signalCode !== null) return;
  d.child.kill('SIGTERM');
  const killer = setTimeout(() => d.child.kill('SIGKILL'), 5000);
  await d.exited;
  clearTimeout(killer);
}

/** dig's answer lines for a question, with +dnssec. */
async function dig(server: string, name: string, type: string): Promise<string[]> {
  const out = await run('dig', ['+dnssec', '+norecurse', '+noall', '+answer', '+time=1', '+tries=1', `@${server}`, name, type]);
  return out.split('\n').filter((l) => l.trim() !== '' && !l.startsWith(';'));
}

/** Polls until `done` holds (named signs a zone within a few seconds of loading it). */
async function until(what: string, done: () => Promise<boolean>, logs: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await done().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`dnssec lab: ${what} not reached after ${timeoutMs} ms\n${logs().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const signedAt = async (server: string, zone: string, type: string): Promise<boolean> =>
  (await dig(server, zone, type)).some((l) => new RegExp(`\\sRRSIG\\s+${type}\\s`).test(l));

export async function startDnssecLab(dir: string): Promise<DnssecLab> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const added: string[] = [];
  for (const ip of [AUTH_IP, KNOT_IP, RESOLVER_IP, LOOKUP_IP]) if (await addLoopback(ip)) added.push(ip);
  const lab = await startLab({ dir: path.join(dir, 'pebble'), dnsIp: UNUSED_NAMED_IP, pebbleIp: PEBBLE_IP, pebbleDnsServer: `${RESOLVER_IP}:53` });
  const daemons: Daemon[] = [];
  const logs = (): string => daemons.map((d) => d.log()).join('\n');
  const stop = async (): Promise<void> => {
    await Promise.all(daemons.map(stopDaemon));
    await lab.stop();
    for (const ip of added) await execFileP('ip', ['addr', 'del', `${ip}/32`, 'dev', 'lo']).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const keys = Object.values(lab.keys);
    const keyConf = keys.map((k) => `key "${k.name}" { algorithm ${k.algorithm}; secret "${k.secret}"; };\n`).join('');
    const grants = keys.filter((k) => k.name !== 'limited.').map((k) => `grant ${k.name} zonesub TXT; `).join('') + 'grant lab-admin. zonesub ANY;';
    const auth = path.join(dir, 'auth');
    const keyDir = path.join(auth, 'keys');
    await mkdir(keyDir, { recursive: true });

    // nosign.example: signed offline; the private keys stay out of reach of the server.
    const offline = path.join(dir, 'offline');
    await mkdir(offline);
    await run('dnssec-keygen', ['-q', '-a', '13', '-f', 'KSK', NOSIGN], offline);
    await run('dnssec-keygen', ['-q', '-a', '13', NOSIGN], offline);
    const knotDir = path.join(dir, 'knot');
    await mkdir(path.join(knotDir, 'run'), { recursive: true });
    await writeFile(path.join(offline, `${NOSIGN}.src`), zoneFile(NOSIGN, KNOT_IP, `$INCLUDE ${offline}/keys.inc\n`));
    const keyFiles = (await run('ls', [offline])).split('\n').filter((f) => f.endsWith('.key'));
    await writeFile(path.join(offline, 'keys.inc'), (await Promise.all(keyFiles.map((f) => readFile(path.join(offline, f), 'utf8')))).join(''));
    await run('dnssec-signzone', ['-q', '-S', '-K', offline, '-d', offline, '-o', NOSIGN, '-f', path.join(knotDir, `${NOSIGN}.db`), path.join(offline, `${NOSIGN}.src`)], offline);
    const nosignDs = (await readFile(path.join(offline, `dsset-${NOSIGN}.`), 'utf8')).trim().split('\n');

    // wrongds.example: the DS of a key that is never published (a retired key).
    const retired = (await run('dnssec-keygen', ['-q', '-a', '13', '-f', 'KSK', '-K', offline, `wrongds.${PARENT}`])).trim();
    const wrongDs = (await run('dnssec-dsfromkey', ['-2', path.join(offline, `${retired}.key`)])).trim();
    const wrongDsKeyTag = Number(/ DS (\d+) /.exec(wrongDs)?.[1]);

    const zone = (name: string, policy: string | undefined): string =>
      `zone "${name}" { type primary; file "${name}.db"; ${policy ? `dnssec-policy "${policy}"; inline-signing yes; ` : ''}update-policy { ${grants} }; };\n`;
    await Promise.all([
      writeFile(path.join(auth, `${PARENT}.db`), `$TTL 60\n@ SOA ns1.${PARENT}. hostmaster.${PARENT}. 1 3600 600 86400 5\n@ NS ns1.${PARENT}.\nns1 A ${AUTH_IP}\n` +
        [...SIGNED, ISLAND, PLAIN, DELEGATED].map((c) => `${c}. NS ns1.${c}.\nns1.${c}. A ${AUTH_IP}\n`).join('') + `${NOSIGN}. NS ns1.${NOSIGN}.\nns1.${NOSIGN}. A ${KNOT_IP}\n`),
      ...[...SIGNED, ISLAND, PLAIN].map((c) => writeFile(path.join(auth, `${c}.db`), zoneFile(c, AUTH_IP))),
      writeFile(path.join(auth, `${DELEGATED}.db`), zoneFile(DELEGATED, AUTH_IP, `_acme-challenge.galaxy CNAME ${DELEGATION_TARGET}.\n`)),
      writeFile(path.join(auth, 'named.conf'), `options { directory "${auth}"; pid-file none; session-keyfile none; managed-keys-directory "${auth}"; key-directory "${keyDir}";
  listen-on port 53 { ${AUTH_IP}; }; listen-on-v6 { none; }; automatic-interface-scan no; recursion no; allow-query { any; }; dnssec-validation no; notify no; };
controls { };
${keyConf}
dnssec-policy "lab" { keys { csk lifetime unlimited algorithm 13; }; };
dnssec-policy "short" { keys { csk lifetime unlimited algorithm 13; }; signatures-validity 5d; signatures-validity-dnskey 5d; signatures-refresh 1d; };
${zone(PARENT, 'lab')}${zone(`good.${PARENT}`, 'lab')}${zone(`short.${PARENT}`, 'short')}${zone(`wrongds.${PARENT}`, 'lab')}${zone(ISLAND, 'lab')}${zone(PLAIN, undefined)}${zone(DELEGATED, undefined)}`),
      writeFile(path.join(knotDir, 'knot.conf'), `server:\n  listen: ${KNOT_IP}@53\n  rundir: ${knotDir}/run\ndatabase:\n  storage: ${knotDir}/db\nkey:\n` +
        keys.filter((k) => k.name !== 'limited.').map((k) => `  - id: ${k.name}\n    algorithm: ${k.algorithm}\n    secret: ${k.secret}\n`).join('') +
        `acl:\n  - id: update\n    key: [${keys.filter((k) => k.name !== 'limited.').map((k) => k.name).join(', ')}]\n    action: update\n` +
        `zone:\n  - domain: ${NOSIGN}\n    storage: ${knotDir}\n    file: ${NOSIGN}.db\n    acl: update\n    dnssec-signing: off\n    zonefile-sync: -1\n    zonefile-load: whole\n    journal-content: none\n`),
    ]);
    daemons.push(daemon('named', ['-g', '-4', '-u', 'root', '-n', '1', '-c', path.join(auth, 'named.conf')]));
    daemons.push(daemon('knotd', ['-c', path.join(knotDir, 'knot.conf')]));
    for (const z of [PARENT, ...SIGNED, ISLAND]) {
      await until(`${z} signed`, async () => (await signedAt(AUTH_IP, z, 'DNSKEY')) && (await signedAt(AUTH_IP, z, 'SOA')), logs);
    }
    await until(`${NOSIGN} served`, async () => signedAt(KNOT_IP, NOSIGN, 'SOA'), logs);

    // The parent's DS records, by UPDATE (signed by named like any update).
    const dsOf = async (z: string): Promise<string[]> => {
      const keyLines = (await dig(AUTH_IP, z, 'DNSKEY')).filter((l) => /\sDNSKEY\s257\s/.test(l));
      const out = await new Promise<string>((resolve, reject) => {
        const p = execFile('dnssec-dsfromkey', ['-2', '-f', '-', z], (e, stdout) => (e ? reject(e) : resolve(stdout)));
        p.stdin?.end(keyLines.join('\n') + '\n');
      });
      return out.trim().split('\n');
    };
    const ds = [...(await dsOf(`good.${PARENT}`)), ...(await dsOf(`short.${PARENT}`)), wrongDs, ...nosignDs];
    const admin = lab.keys['lab-admin'];
    if (!admin) throw new Error('dnssec lab: no lab-admin key');
    const keyFile = path.join(dir, 'lab-admin.key');
    await writeFile(keyFile, `key "${admin.name}" { algorithm ${admin.algorithm}; secret "${admin.secret}"; };\n`, { mode: 0o600 });
    const script = `server ${AUTH_IP}\nzone ${PARENT}\n${ds.map((l) => `update add ${l.replace(/\sIN\s/, ' 60 IN ')}`).join('\n')}\nsend\n`;
    await new Promise<void>((resolve, reject) => {
      const p = execFile('nsupdate', ['-k', keyFile], (e) => (e ? reject(e) : resolve()));
      p.stdin?.end(script);
    });
    for (const c of [...SIGNED, NOSIGN]) await until(`DS ${c} signed`, () => signedAt(AUTH_IP, c, 'DS'), logs);

    const trustAnchor = (await dsOf(PARENT))[0] as string;
    const [, tag, alg, digestType, digest] = /^\S+\s+IN\s+DS\s+(\d+)\s+(\d+)\s+(\d+)\s+(\S+)/.exec(trustAnchor) ?? [];
    // Two resolvers: a validating one (trust anchor: the DS of the parent) that Pebble asks, as a CA's
    // resolver validates; and one for gxit-cert's lookups (dns.resolvers) that does not validate
    // (check-dns sets CD and validates itself). Separate, because a validating resolver remembers the
    // bogus answers a test provokes (BIND answers SERVFAIL from then on, even for the zone's SOA), and
    // one test would break the lookups of the next; and so that check-dns never fills the CA's cache.
    // A cache TTL near 0 is no way out: named then loses intermediate records mid-resolution.
    for (const [name, ip, validation] of [['resolver', RESOLVER_IP, 'yes'], ['lookup', LOOKUP_IP, 'no']] as const) {
      const rdir = path.join(dir, name);
      await mkdir(rdir);
      // No root hints: the whole tree is the lab's ("." and "example" stubbed to the lab's server).
      await writeFile(path.join(rdir, 'named.conf'), `options { directory "${rdir}"; pid-file none; session-keyfile none; managed-keys-directory "${rdir}";
  listen-on port 53 { ${ip}; }; listen-on-v6 { none; }; automatic-interface-scan no; recursion yes; allow-query { any; }; allow-recursion { any; };
  dnssec-validation ${validation}; query-source address ${ip}; synth-from-dnssec no; };
controls { };
trust-anchors { "${PARENT}." static-ds ${tag} ${alg} ${digestType} "${digest}"; };
zone "." { type static-stub; server-addresses { ${AUTH_IP}; }; };
zone "${PARENT}" { type static-stub; server-addresses { ${AUTH_IP}; }; };
`);
      daemons.push(daemon('named', ['-g', '-4', '-u', 'root', '-n', '1', '-c', path.join(rdir, 'named.conf')]));
      await until(`the resolver at ${ip}`, async () => {
        // An SOA (not a name the tests write at): validated (the AD flag), or with its RRSIG.
        const out = await run('dig', ['+dnssec', '+time=1', '+tries=1', `@${ip}`, PARENT, 'SOA']);
        return validation === 'yes' ? / flags: [^;]*\bad\b/.test(out) : /\sRRSIG\s+SOA\s/.test(out);
      }, logs);
    }

    return {
      lab,
      dir,
      trustAnchor,
      wrongDsKeyTag,
      config(z, overrides = {}) {
        const knot = z === NOSIGN;
        const base = lab.configObject({
          state_dir: path.join(dir, `state-${z}`),
          certificates: [{ name: `galaxy.${z}`, domains: [`galaxy.${z}`, `*.ep.interactivetool.galaxy.${z}`] }],
          dns: {
            resolvers: [`${LOOKUP_IP}:53`],
            trust_anchors: [trustAnchor],
            rfc2136: { server: knot ? KNOT_IP : AUTH_IP },
          },
        });
        return { ...base, ...overrides };
      },
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}
