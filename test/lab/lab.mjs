#!/usr/bin/env node
// @ts-check
/**
 * The lab: a real BIND (named 9.18) and a real Pebble on loopback, with their own configs under one
 * directory. Used by the integration tests (test/lab/globalSetup.ts), the README demo and the benchmark.
 * Plain JavaScript (ESM + JSDoc) so that it runs with `node` without a build; types in lab.d.mts.
 *
 *   node test/lab/lab.mjs start [--dir .lab] [--secondary-ip 127.0.0.3]   lab that outlives the command,
 *                                                                          writes <dir>/config.yml
 *   node test/lab/lab.mjs stop [--dir .lab]
 *   node test/lab/lab.mjs status [--dir .lab] [--json]
 *
 * In code: `const lab = await startLab({ dir }); ...; await lab.stop();` (see lab.d.mts).
 *
 * Layout of <dir> (mode 0700):
 *   lab.json                  LabInfo of the running lab (pids, addresses, keys): what stop/status read
 *   ca.pem, ca-key.pem        the lab CA that signs Pebble's HTTPS certificate (ca.pem = ca_bundle)
 *   pebble.json, pebble-cert.pem, pebble-key.pem, pebble.log, pebble.pid
 *   named/                    primary: named.conf, zone files, journals;  named.log, named.pid
 *   named2/                   secondary: named.conf, transferred zones;   named2.log, named2.pid
 *   keys/<key-name>.secret    base64 TSIG secrets, mode 0600
 *   state/                    state_dir of writeConfig() (emptied on start unless resetState: false)
 *   config.yml, keeper.log, keeper.pid   (CLI only)
 *
 * Facts this file relies on (BIND 9.18, Pebble 2.4):
 *   - named binds only to addresses it finds on an interface; Linux routes all of 127/8 to lo but only
 *     127.0.0.1 is assigned, so other loopback addresses are added to lo (`ip addr add IP/32 dev lo`).
 *   - BIND's rate limiters tick every 500 ms at rates <= 10..20/s: a NOTIFY to the secondary then waits up
 *     to 500 ms (serial-query-rate); at 1000/s they tick every 10 ms.
 *   - Where pid 1 does not reap orphans, a detached daemon stays a zombie after it exits: daemons are always
 *     children of a node process that lives as long as they do (the test runner, or the CLI's keeper).
 */
import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';

const execFileP = promisify(execFile);

/** The lab zone. */
export const LAB_ZONE = 'example.org';

/**
 * TSIG keys of every lab (name without the trailing dot -> BIND algorithm name).
 * All may update TXT anywhere in the lab zone (and in extra zones), except `limited`, which may only
 * update TXT at _acme-challenge.other.example.org.
 * @type {Readonly<Record<string, string>>}
 */
export const LAB_KEYS = Object.freeze({
  'certbot-training': 'hmac-sha512',
  'key-md5': 'hmac-md5',
  'key-sha1': 'hmac-sha1',
  'key-sha224': 'hmac-sha224',
  'key-sha256': 'hmac-sha256',
  'key-sha384': 'hmac-sha384',
  'key-sha512': 'hmac-sha512',
  limited: 'hmac-sha256',
  // For tests that reshape the zone at run time (CNAME, CAA, A records): any type, anywhere.
  'lab-admin': 'hmac-sha256',
});

/** The only name the `limited.` key may update (TXT only). */
export const LIMITED_NAME = `_acme-challenge.other.${LAB_ZONE}`;

/** @type {Readonly<Record<string, number>>} secret length in bytes per algorithm */
const SECRET_BYTES = { 'hmac-md5': 32, 'hmac-sha1': 32, 'hmac-sha224': 32, 'hmac-sha256': 32, 'hmac-sha384': 48, 'hmac-sha512': 64 };

const READY_TIMEOUT_MS = 20_000;
const KEEP_ARG = '__keep';
const STOP_TERM_MS = 5_000;
const STOP_KILL_MS = 3_000;

/**
 * @typedef {{ name: string; records: string }} ExtraZone
 * @typedef {{ name: string; algorithm: string; secret: string; secretFile: string }} LabKey
 * @typedef {'named' | 'named2' | 'pebble'} DaemonName
 * @typedef {{
 *   dir: string;
 *   dnsIp?: string;
 *   secondaryIp?: string;
 *   pebbleIp?: string;
 *   acmePort?: number;
 *   managementPort?: number;
 *   zones?: ExtraZone[];
 *   notifyDelay?: number;
 *   pebbleEnv?: Record<string, string>;
 *   pebbleDnsServer?: string;
 *   pebbleConfig?: Record<string, unknown>;
 *   resetState?: boolean;
 * }} LabOptions
 * @typedef {{
 *   dir: string;
 *   dnsIp: string;
 *   secondaryIp?: string;
 *   pebbleIp: string;
 *   acmePort: number;
 *   managementPort: number;
 *   directoryUrl: string;
 *   managementUrl: string;
 *   caBundle: string;
 *   zone: string;
 *   zones: string[];
 *   keys: Record<string, LabKey>;
 *   pids: Partial<Record<DaemonName, number>>;
 *   logs: Partial<Record<DaemonName, string>>;
 *   ownerPid: number;
 *   addedAddresses: string[];
 *   startMs: number;
 *   timings?: Record<string, number>;
 * }} LabInfo
 * @typedef {LabInfo & {
 *   info(): LabInfo;
 *   pebbleRoots(): Promise<string>;
 *   writeConfig(file: string, overrides?: Record<string, unknown>): Promise<string>;
 *   configObject(overrides?: Record<string, unknown>): Record<string, unknown>;
 *   txt(name: string, server?: string): Promise<string[]>;
 *   stop(): Promise<void>;
 * }} Lab
 */

/** Error with a code: 'LAB_BUSY' (addresses or dir in use), 'LAB_MISSING' (binary), 'LAB_START' (daemon failed). */
export class LabError extends Error {
  /** @param {string} code @param {string} message */
  constructor(code, message) {
    super(message);
    this.name = 'LabError';
    this.code = code;
  }
}

// ---------------------------------------------------------------------------------------------------------
// start

/**
 * Start a lab: BIND primary (+ optional secondary) and Pebble, all on loopback, everything under opts.dir.
 * Resolves when every daemon answers. A lab left in the same dir by a dead process is stopped first.
 * @param {LabOptions} opts
 * @returns {Promise<Lab>}
 */
export async function startLab(opts) {
  const t0 = performance.now();
  /** @type {Record<string, number>} */
  const timings = {};
  const dir = path.resolve(opts.dir);
  const dnsIp = opts.dnsIp ?? '127.0.0.2';
  const secondaryIp = opts.secondaryIp;
  const pebbleIp = opts.pebbleIp ?? '127.0.0.1';
  const acmePort = opts.acmePort ?? 14000;
  const managementPort = opts.managementPort ?? 15000;
  const zones = opts.zones ?? [];
  for (const ip of [dnsIp, pebbleIp, ...(secondaryIp ? [secondaryIp] : [])]) {
    if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(ip)) throw new LabError('LAB_START', `lab addresses must be in 127.0.0.0/8, got ${ip}`);
  }
  if (secondaryIp === dnsIp) throw new LabError('LAB_START', 'secondaryIp must differ from dnsIp');

  const namedBin = findBinary('named', 'install the Debian package bind9');
  const pebbleBin = findBinary('pebble', 'install the Debian package pebble');
  findBinary('openssl', 'install the Debian package openssl');

  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  await fsp.chmod(dir, 0o700);
  await stopStale(dir);
  // named listens only on addresses it finds on an interface; 127.x other than 127.0.0.1 must be added to lo.
  /** @type {string[]} */
  const addedAddresses = [];
  for (const ip of [dnsIp, ...(secondaryIp ? [secondaryIp] : [])]) {
    if (await ensureLoopbackAddress(ip)) addedAddresses.push(ip);
  }

  try {
    await Promise.all([
      assertFree('udp', dnsIp, 53),
      assertFree('tcp', dnsIp, 53),
      ...(secondaryIp ? [assertFree('udp', secondaryIp, 53), assertFree('tcp', secondaryIp, 53)] : []),
      assertFree('tcp', pebbleIp, acmePort),
      assertFree('tcp', pebbleIp, managementPort),
    ]);
  } catch (err) {
    await Promise.all(addedAddresses.map((ip) => removeLoopbackAddress(ip)));
    throw err;
  }

  // Fresh files.
  await Promise.all(
    ['named', 'named2', 'keys', ...(opts.resetState === false ? [] : ['state'])].map((d) =>
      fsp.rm(path.join(dir, d), { recursive: true, force: true }),
    ),
  );
  await Promise.all(['named', 'keys', ...(secondaryIp ? ['named2'] : [])].map((d) => fsp.mkdir(path.join(dir, d), { mode: 0o700 })));

  /** @type {Record<string, LabKey>} */
  const keys = {};
  for (const [base, algorithm] of Object.entries(LAB_KEYS)) {
    const secret = randomBytes(SECRET_BYTES[algorithm] ?? 32).toString('base64');
    keys[base] = { name: `${base}.`, algorithm, secret, secretFile: path.join(dir, 'keys', `${base}.secret`) };
  }
  await Promise.all(Object.values(keys).map((k) => writeFile(k.secretFile, k.secret, 0o600)));

  const allZones = [LAB_ZONE, ...zones.map((z) => z.name.replace(/\.$/, '').toLowerCase())];
  /** @type {LabInfo} */
  const info = {
    dir,
    dnsIp,
    ...(secondaryIp ? { secondaryIp } : {}),
    pebbleIp,
    acmePort,
    managementPort,
    directoryUrl: `https://${pebbleIp}:${acmePort}/dir`,
    managementUrl: `https://${pebbleIp}:${managementPort}`,
    caBundle: path.join(dir, 'ca.pem'),
    zone: LAB_ZONE,
    zones: allZones,
    keys,
    pids: {},
    logs: {},
    ownerPid: process.pid,
    addedAddresses,
    startMs: 0,
  };
  const pebbleConfig = pebbleConfigFor({ dir, pebbleIp, acmePort, managementPort }, opts.pebbleConfig);

  /** @type {Daemon[]} */
  const daemons = [];
  const saveInfo = () => writeFile(path.join(dir, 'lab.json'), JSON.stringify(info, null, 2) + '\n', 0o600);
  /** @param {Daemon} d */
  const track = async (d) => {
    daemons.push(d);
    info.pids[d.name] = d.pid;
    info.logs[d.name] = d.log;
    await saveInfo();
    return d;
  };
  /** @param {DaemonName} name */
  const startNamed = (name) =>
    track(launch(name, namedBin, ['-g', '-4', '-u', 'root', '-n', '1', '-c', path.join(dir, name, 'named.conf')], dir, process.env));

  try {
    const dnsReady = (async () => {
      await Promise.all([
        writeFile(path.join(dir, 'named', 'named.conf'), primaryConf(dir, dnsIp, secondaryIp, keys, allZones, opts.notifyDelay ?? 0)),
        writeFile(path.join(dir, 'named', `${LAB_ZONE}.db`), labZoneFile(dnsIp, secondaryIp)),
        ...zones.map((z) => writeFile(path.join(dir, 'named', `${z.name.replace(/\.$/, '').toLowerCase()}.db`), extraZoneFile(z, secondaryIp))),
        ...(secondaryIp ? [writeFile(path.join(dir, 'named2', 'named.conf'), secondaryConf(dir, dnsIp, secondaryIp, allZones))] : []),
      ]);
      const named = await startNamed('named');
      await waitReady(named, () => soaAnswers(dnsIp, allZones));
      timings.named = since(t0);
      if (!secondaryIp) return;
      // After the primary answers, so that the secondary's first refresh succeeds at once.
      const named2 = await startNamed('named2');
      await waitReady(named2, () => soaAnswers(secondaryIp, allZones));
      timings.named2 = since(t0);
    })();
    const pebbleReady = (async () => {
      await Promise.all([
        writeFile(path.join(dir, 'pebble.json'), JSON.stringify(pebbleConfig, null, 2) + '\n'),
        makeTlsCertificates(dir, pebbleIp),
      ]);
      timings.certs = since(t0);
      const ca = await fsp.readFile(info.caBundle, 'utf8');
      const pebble = await track(
        launch('pebble', pebbleBin, ['-config', path.join(dir, 'pebble.json'), '-dnsserver', opts.pebbleDnsServer ?? `${dnsIp}:53`], dir, pebbleEnvironment(opts.pebbleEnv)),
      );
      await waitReady(pebble, () => pebbleAnswers(info.directoryUrl, ca));
      timings.pebble = since(t0);
    })();
    const results = await Promise.allSettled([dnsReady, pebbleReady]);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw /** @type {PromiseRejectedResult} */ (failed).reason;
  } catch (err) {
    await Promise.all(daemons.map((d) => stopPid(d.pid, d.name === 'pebble' ? 'pebble' : 'named')));
    await fsp.rm(path.join(dir, 'lab.json'), { force: true });
    await Promise.all(addedAddresses.map((ip) => removeLoopbackAddress(ip)));
    throw err;
  }
  info.startMs = since(t0);
  info.timings = timings;
  await saveInfo();
  return attachLab(info);
}

/**
 * A Lab (with methods) for the plain data of a running lab: what tests get from `inject('lab')`,
 * or what `readLabInfo(dir)` returns. `stop()` stops the daemons by pid.
 * @param {LabInfo} info
 * @returns {Lab}
 */
/**
 * Pebble's configuration file for a CA at pebbleIp:acmePort (management API at managementPort), serving
 * the lab's TLS certificate from dir; `overrides` are merged into its `pebble` section.
 * @param {{ dir: string, pebbleIp: string, acmePort: number, managementPort: number }} where
 * @param {Record<string, unknown>} [overrides]
 */
export function pebbleConfigFor({ dir, pebbleIp, acmePort, managementPort }, overrides = {}) {
  return {
    pebble: deepMerge(
      {
        listenAddress: `${pebbleIp}:${acmePort}`,
        managementListenAddress: `${pebbleIp}:${managementPort}`,
        certificate: path.join(dir, 'pebble-cert.pem'),
        privateKey: path.join(dir, 'pebble-key.pem'),
        httpPort: 5002,
        tlsPort: 5001,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
      },
      overrides,
    ),
  };
}

/**
 * The environment every lab Pebble runs in: this process's, without inherited PEBBLE_* settings (say
 * PEBBLE_VA_ALWAYS_VALID, which would change what the tests prove), no validation sleep, no authz
 * reuse, then `extra`.
 * @param {Record<string, string>} [extra]
 */
export function pebbleEnvironment(extra = {}) {
  return {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PEBBLE_'))),
    PEBBLE_VA_NOSLEEP: '1',
    PEBBLE_AUTHZREUSE: '0',
    ...extra,
  };
}

export function attachLab(info) {
  /** @type {string | undefined} */
  let ca;
  const data = structuredClone(info);
  /** @type {Lab} */
  const lab = {
    ...data,
    info: () => structuredClone(data),
    async pebbleRoots() {
      ca ??= await fsp.readFile(info.caBundle, 'utf8');
      const res = await httpsGet(`${info.managementUrl}/roots/0`, ca, 5000);
      if (res.status !== 200 || !res.body.includes('-----BEGIN CERTIFICATE-----')) {
        throw new Error(`GET ${info.managementUrl}/roots/0: HTTP ${res.status}: ${res.body.slice(0, 200)}`);
      }
      return res.body;
    },
    configObject(overrides) {
      return deepMerge(baseConfig(info), overrides ?? {});
    },
    async writeConfig(file, overrides) {
      const { stringify } = await import('yaml');
      const text = stringify(lab.configObject(overrides));
      await fsp.mkdir(path.dirname(path.resolve(file)), { recursive: true });
      await writeFile(file, text, 0o600);
      return path.resolve(file);
    },
    async txt(name, server = info.dnsIp) {
      const { stdout } = await execFileP('dig', ['+short', '+norecurse', '+time=2', '+tries=2', `@${server}`, '-p', '53', name, 'TXT']);
      return parseDigTxt(stdout);
    },
    async stop() {
      const names = /** @type {DaemonName[]} */ (Object.keys(info.pids));
      const stopOne = (/** @type {DaemonName} */ n) => stopPid(/** @type {number} */ (info.pids[n]), n === 'pebble' ? 'pebble' : 'named');
      // The secondary first, so that its log does not fill with failed refreshes from a vanished primary.
      if (names.includes('named2')) await stopOne('named2');
      await Promise.all(names.filter((n) => n !== 'named2').map(stopOne));
      const current = readLabInfo(info.dir);
      if (current && JSON.stringify(current.pids) === JSON.stringify(info.pids)) {
        await fsp.rm(path.join(info.dir, 'lab.json'), { force: true });
      }
      await Promise.all(names.map((n) => fsp.rm(path.join(info.dir, `${n}.pid`), { force: true })));
      await Promise.all((info.addedAddresses ?? []).map((ip) => removeLoopbackAddress(ip)));
    },
  };
  return lab;
}

/**
 * The LabInfo in dir/lab.json, or undefined when there is none.
 * @param {string} dir
 * @returns {LabInfo | undefined}
 */
export function readLabInfo(dir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(path.resolve(dir), 'lab.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Stop the lab recorded in dir/lab.json (if any). Resolves to true when there was one.
 * @param {string} dir
 * @returns {Promise<boolean>}
 */
export async function stopLab(dir) {
  const info = readLabInfo(dir);
  if (!info) return false;
  const owner = info.ownerPid;
  if (owner && owner !== process.pid && isKeeper(owner)) {
    // The keeper stops its daemons, reaps them and exits.
    process.kill(owner, 'SIGTERM');
    const deadline = Date.now() + STOP_TERM_MS + STOP_KILL_MS + 2_000;
    while (isRunning(owner) && Date.now() < deadline) await sleep(10);
  }
  await attachLab(info).stop(); // whatever is left (a killed keeper, a crashed test run)
  return true;
}

/**
 * The gxit-cert configuration (as a plain object) for a lab.
 * @param {Pick<LabInfo, 'dir' | 'dnsIp' | 'directoryUrl' | 'caBundle' | 'keys'>} info
 * @returns {Record<string, unknown>}
 */
export function baseConfig(info) {
  const key = info.keys['certbot-training'];
  return {
    email: `admin@${LAB_ZONE}`,
    server: info.directoryUrl,
    ca_bundle: info.caBundle,
    state_dir: path.join(info.dir, 'state'),
    key_type: 'ecdsa-p256',
    certificates: [
      {
        name: `galaxy.${LAB_ZONE}`,
        domains: [`galaxy.${LAB_ZONE}`, `*.ep.interactivetool.galaxy.${LAB_ZONE}`],
      },
    ],
    dns: {
      provider: 'rfc2136',
      resolvers: [`${info.dnsIp}:53`],
      propagation_timeout: 30,
      rfc2136: {
        server: info.dnsIp,
        port: 53,
        name: key?.name ?? 'certbot-training.',
        secret_file: key?.secretFile ?? path.join(info.dir, 'keys', 'certbot-training.secret'),
        algorithm: 'HMAC-SHA512',
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// config files

/**
 * @param {string} dir @param {string} dnsIp @param {string | undefined} secondaryIp
 * @param {Record<string, LabKey>} keys @param {string[]} zones @param {number} notifyDelay
 */
function primaryConf(dir, dnsIp, secondaryIp, keys, zones, notifyDelay) {
  const d = path.join(dir, 'named');
  const keyBlocks = Object.values(keys)
    .map((k) => `key "${k.name}" {\n  algorithm ${k.algorithm};\n  secret "${k.secret}";\n};\n`)
    .join('');
  const full = Object.values(keys).filter((k) => k.name !== 'limited.' && k.name !== 'lab-admin.');
  const zoneBlocks = zones
    .map((z) => {
      const grants = full.map((k) => `    grant ${k.name} zonesub TXT;\n`).join('') + '    grant lab-admin. zonesub ANY;\n';
      const limited = z === LAB_ZONE ? `    grant limited. name ${LIMITED_NAME}. TXT;\n` : '';
      const notify = secondaryIp ? `  notify explicit;\n  also-notify { ${secondaryIp}; };\n  allow-transfer { ${secondaryIp}; };\n` : '  notify no;\n';
      return `zone "${z}" {\n  type primary;\n  file "${z}.db";\n${notify}  update-policy {\n${grants}${limited}  };\n};\n`;
    })
    .join('');
  return `// Generated by test/lab/lab.mjs: lab primary
options {
  directory "${d}";
  pid-file none;
  session-keyfile none;
  managed-keys-directory "${d}";
  listen-on port 53 { ${dnsIp}; };
  listen-on-v6 { none; };
  // Other labs add and remove loopback addresses: no rescans on their netlink events.
  automatic-interface-scan no;
  recursion no;
  allow-query { any; };
  dnssec-validation no;
  notify-source ${dnsIp};
  notify-delay ${notifyDelay};
  // Rates above 10/s make BIND's rate limiters tick every 10 ms instead of every 500 ms.
  notify-rate 1000;
  startup-notify-rate 1000;
  allow-transfer { none; };
};
controls { };
${keyBlocks}${zoneBlocks}`;
}

/** @param {string} dir @param {string} dnsIp @param {string} secondaryIp @param {string[]} zones */
function secondaryConf(dir, dnsIp, secondaryIp, zones) {
  const d = path.join(dir, 'named2');
  const zoneBlocks = zones
    .map((z) => `zone "${z}" {\n  type secondary;\n  primaries { ${dnsIp}; };\n  file "${z}.db";\n  masterfile-format text;\n};\n`)
    .join('');
  return `// Generated by test/lab/lab.mjs: lab secondary (transfers from ${dnsIp})
options {
  directory "${d}";
  pid-file none;
  session-keyfile none;
  managed-keys-directory "${d}";
  listen-on port 53 { ${secondaryIp}; };
  listen-on-v6 { none; };
  // Other labs add and remove loopback addresses: no rescans on their netlink events.
  automatic-interface-scan no;
  recursion no;
  allow-query { any; };
  dnssec-validation no;
  transfer-source ${secondaryIp};
  // The SOA query a NOTIFY triggers waits for this rate limiter's tick: 500 ms at the default 20/s, 10 ms here.
  serial-query-rate 1000;
  notify no;
  allow-transfer { none; };
};
controls { };
${zoneBlocks}`;
}

/** @param {string | undefined} secondaryIp */
function soaNs(secondaryIp) {
  return (
    `@ SOA ns1.${LAB_ZONE}. hostmaster.${LAB_ZONE}. 1 3600 600 86400 5\n` +
    `@ NS ns1.${LAB_ZONE}.\n` +
    (secondaryIp ? `@ NS ns2.${LAB_ZONE}.\n` : '')
  );
}

/** @param {string} dnsIp @param {string | undefined} secondaryIp */
function labZoneFile(dnsIp, secondaryIp) {
  return (
    `$TTL 60\n` +
    soaNs(secondaryIp) +
    `ns1 A ${dnsIp}\n` +
    (secondaryIp ? `ns2 A ${secondaryIp}\n` : '') +
    `galaxy A 127.0.0.1\n` +
    `*.ep.interactivetool.galaxy CNAME galaxy\n`
  );
}

/** @param {ExtraZone} zone @param {string | undefined} secondaryIp */
function extraZoneFile(zone, secondaryIp) {
  return `$TTL 60\n${soaNs(secondaryIp)}${zone.records.replace(/\s*$/, '')}\n`;
}

/** Lab CA + Pebble HTTPS leaf (SANs localhost and the Pebble IP), P-256, with openssl. @param {string} dir @param {string} pebbleIp */
async function makeTlsCertificates(dir, pebbleIp) {
  const p = (/** @type {string} */ f) => path.join(dir, f);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-noenc'];
  await execFileP('openssl', [
    'req', '-x509', ...ec, '-keyout', p('ca-key.pem'), '-out', p('ca.pem'), '-days', '30',
    '-subj', '/CN=gxit-cert lab CA',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await execFileP('openssl', [
    'req', '-x509', ...ec, '-CA', p('ca.pem'), '-CAkey', p('ca-key.pem'),
    '-keyout', p('pebble-key.pem'), '-out', p('pebble-cert.pem'), '-days', '30',
    '-subj', '/CN=localhost',
    '-addext', `subjectAltName=DNS:localhost,IP:${pebbleIp}`,
    '-addext', 'basicConstraints=critical,CA:FALSE',
    '-addext', 'keyUsage=critical,digitalSignature',
    '-addext', 'extendedKeyUsage=serverAuth',
  ]);
  await Promise.all(['ca-key.pem', 'pebble-key.pem'].map((f) => fsp.chmod(p(f), 0o600)));
}

// ---------------------------------------------------------------------------------------------------------
// processes

/**
 * @typedef {{ name: DaemonName; pid: number; log: string; exited: Promise<string> }} Daemon
 */

/**
 * @param {DaemonName} name @param {string} bin @param {string[]} args @param {string} dir
 * @param {NodeJS.ProcessEnv} env
 * @returns {Daemon}
 */
function launch(name, bin, args, dir, env) {
  const log = path.join(dir, `${name}.log`);
  const fd = fs.openSync(log, 'w', 0o600);
  let child;
  try {
    child = spawn(bin, args, { cwd: dir, env, stdio: ['ignore', fd, fd] });
  } finally {
    fs.closeSync(fd);
  }
  if (child.pid === undefined) throw new LabError('LAB_START', `could not start ${bin}`);
  fs.writeFileSync(path.join(dir, `${name}.pid`), `${child.pid}\n`);
  /** @type {Daemon} */
  const daemon = { name, pid: child.pid, log, exited: Promise.resolve('') };
  daemon.exited = new Promise((resolve) => {
    child.once('error', (err) => resolve(`could not run ${bin}: ${err.message}`));
    child.once('exit', (code, signal) => resolve(signal ? `killed by ${signal}` : `exit code ${code}`));
  });
  // The daemons do not keep node alive, and get SIGTERM when node exits without stop() (see killOwnedOnExit).
  // They stay children of this process, which reaps them (an orphan is never reaped where init does not).
  child.unref();
  owned.add(child.pid);
  daemon.exited.then(() => owned.delete(/** @type {number} */ (child.pid)));
  if (!exitHook) {
    exitHook = true;
    process.once('exit', killOwnedOnExit);
  }
  return daemon;
}

/** Pids of attached daemons this process started and has not seen exit. @type {Set<number>} */
const owned = new Set();
let exitHook = false;

function killOwnedOnExit() {
  for (const pid of owned) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone
    }
  }
}

/**
 * Poll `probe` until it resolves true; fail when the daemon exits first or on timeout.
 * @param {Daemon} daemon @param {() => Promise<boolean>} probe
 */
async function waitReady(daemon, probe) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  /** @type {string | undefined} */
  let exit;
  daemon.exited.then((e) => (exit = e));
  for (;;) {
    if (exit !== undefined) {
      throw new LabError('LAB_START', `${daemon.name} exited during start-up (${exit}); ${daemon.log} ends with:\n${tail(daemon.log)}`);
    }
    const fatal = daemon.name === 'pebble' ? undefined : namedFailure(daemon.log);
    if (fatal) {
      throw new LabError('LAB_START', `${daemon.name} failed to start (${fatal}); ${daemon.log} ends with:\n${tail(daemon.log)}`);
    }
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) {
      throw new LabError('LAB_START', `${daemon.name} not ready after ${READY_TIMEOUT_MS} ms; ${daemon.log} ends with:\n${tail(daemon.log)}`);
    }
    await sleep(15);
  }
}

/**
 * A line of named's log that means it will not serve what we asked for although it keeps running
 * (a zone with errors, an address it could not bind), or undefined.
 * @param {string} log
 */
function namedFailure(log) {
  let text = '';
  try {
    text = fs.readFileSync(log, 'utf8');
  } catch {
    return undefined;
  }
  const m = /^.*(?:not loaded due to errors|could not listen on|address in use|loading configuration: failure).*$/m.exec(text);
  return m ? m[0].replace(/^\S+ \S+ /, '') : undefined;
}

/**
 * SIGTERM, then SIGKILL after a bound; resolves when the process is gone. Only signals the pid while
 * /proc says it is still the expected program (pid reuse).
 * @param {number} pid @param {string} comm
 */
async function stopPid(pid, comm) {
  if (!isRunning(pid, comm)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  if (await waitGone(pid, comm, STOP_TERM_MS)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  if (!(await waitGone(pid, comm, STOP_KILL_MS))) throw new Error(`${comm} (pid ${pid}) did not exit after SIGKILL`);
}

/** @param {number} pid @param {string} comm @param {number} ms */
async function waitGone(pid, comm, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isRunning(pid, comm)) return true;
    await sleep(10);
  }
  return !isRunning(pid, comm);
}

/**
 * True when pid is a live (not zombie) process named comm (any name when comm is undefined).
 * @param {number} pid @param {string} [comm]
 */
function isRunning(pid, comm) {
  let stat;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  const m = /^\d+ \((.*)\) (\S)/s.exec(stat);
  if (!m) return false;
  return (comm === undefined || m[1] === comm) && m[2] !== 'Z' && m[2] !== 'X';
}

/** True when pid is a live keeper (`lab.mjs __keep`, the CLI's owner process). @param {number} pid */
function isKeeper(pid) {
  if (!isRunning(pid)) return false;
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.includes(KEEP_ARG) && argv.some((a) => a.endsWith('lab.mjs'));
  } catch {
    return false;
  }
}

/** Stop daemons of a previous lab in dir, unless a live process other than us owns it. @param {string} dir */
async function stopStale(dir) {
  const old = readLabInfo(dir);
  if (!old) return;
  const running = Object.entries(old.pids ?? {}).filter(([n, pid]) => pid && isRunning(pid, n === 'pebble' ? 'pebble' : 'named'));
  if (running.length > 0 && old.ownerPid && old.ownerPid !== process.pid && isRunning(old.ownerPid)) {
    throw new LabError(
      'LAB_BUSY',
      isKeeper(old.ownerPid)
        ? `a lab started by \`lab.mjs start\` runs in ${dir}: stop it with \`node test/lab/lab.mjs stop --dir ${dir}\``
        : `the lab in ${dir} is in use by process ${old.ownerPid}`,
    );
  }
  await attachLab(old).stop();
}

/** @param {'udp' | 'tcp'} proto @param {string} ip @param {number} port */
function assertFree(proto, ip, port) {
  const busy = (/** @type {Error} */ err) =>
    new LabError(
      /** @type {NodeJS.ErrnoException} */ (err).code === 'EADDRINUSE' ? 'LAB_BUSY' : 'LAB_START',
      `${ip}:${port}/${proto} is not free (${/** @type {NodeJS.ErrnoException} */ (err).code ?? err.message}): ` +
        `another lab or server uses it (stop a demo lab with \`node test/lab/lab.mjs stop --dir <dir>\`)`,
    );
  return new Promise((resolve, reject) => {
    if (proto === 'udp') {
      const s = dgram.createSocket('udp4');
      s.once('error', (err) => (s.close(), reject(busy(err))));
      s.bind(port, ip, () => s.close(() => resolve(undefined)));
    } else {
      const s = net.createServer();
      s.once('error', (err) => reject(busy(err)));
      s.listen({ port, host: ip, exclusive: true }, () => s.close(() => resolve(undefined)));
    }
  });
}

/**
 * Make sure ip is assigned to lo (named binds only to interface addresses, although Linux routes all of
 * 127/8 to lo). Resolves true when this call added it (stop() removes it again).
 * @param {string} ip
 */
async function ensureLoopbackAddress(ip) {
  if (hasInterfaceAddress(ip)) return false;
  try {
    await execFileP(findBinary('ip', 'install the Debian package iproute2'), ['addr', 'add', `${ip}/32`, 'dev', 'lo']);
  } catch (err) {
    if (hasInterfaceAddress(ip)) return false; // added concurrently
    const msg = /** @type {{ stderr?: string }} */ (err).stderr?.trim() || String(err);
    throw new LabError(
      'LAB_START',
      `named listens only on addresses assigned to an interface, and adding ${ip} to lo failed (${msg}); ` +
        `run \`ip addr add ${ip}/32 dev lo\` as root, or use 127.0.0.1`,
    );
  }
  return true;
}

/** @param {string} ip */
async function removeLoopbackAddress(ip) {
  if (ip === '127.0.0.1' || !hasInterfaceAddress(ip)) return;
  await execFileP('ip', ['addr', 'del', `${ip}/32`, 'dev', 'lo']).catch(() => undefined);
}

/** @param {string} ip */
function hasInterfaceAddress(ip) {
  return Object.values(os.networkInterfaces()).some((list) => (list ?? []).some((a) => a.address === ip));
}

/** @param {string} name @param {string} hint @returns {string} */
function findBinary(name, hint) {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/sbin', '/usr/local/bin'];
  for (const d of dirs) {
    if (!d) continue;
    const f = path.join(d, name);
    try {
      fs.accessSync(f, fs.constants.X_OK);
      return f;
    } catch {
      // next
    }
  }
  throw new LabError('LAB_MISSING', `${name} not found in PATH or sbin directories: ${hint}`);
}

// ---------------------------------------------------------------------------------------------------------
// probes

/**
 * True when ip:53 answers an authoritative NOERROR SOA for every zone (raw UDP query).
 * @param {string} ip @param {string[]} zones
 */
async function soaAnswers(ip, zones) {
  for (const z of zones) {
    if (!(await soaOnce(ip, z))) return false;
  }
  return true;
}

/** @param {string} ip @param {string} zone @returns {Promise<boolean>} */
function soaOnce(ip, zone) {
  const id = randomBytes(2).readUInt16BE(0);
  const labels = zone.split('.').filter(Boolean);
  const qname = Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])), Buffer.from([0])]);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0000, 2); // QUERY, RD=0
  header.writeUInt16BE(1, 4);
  const msg = Buffer.concat([header, qname, Buffer.from([0, 6, 0, 1])]); // SOA IN
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    let finished = false;
    const done = (/** @type {boolean} */ ok) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      s.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 200);
    s.on('error', () => done(false)); // a connected socket gets ECONNREFUSED while nobody listens
    s.on('message', (m) => {
      if (m.length < 12 || m.readUInt16BE(0) !== id) return;
      const flags = m.readUInt16BE(2);
      const aa = (flags & 0x0400) !== 0;
      const rcode = flags & 0x000f;
      const ancount = m.readUInt16BE(6);
      done(aa && rcode === 0 && ancount > 0);
    });
    s.connect(53, ip, () => s.send(msg, (err) => err && done(false)));
  });
}

/** @param {string} url @param {string} ca */
async function pebbleAnswers(url, ca) {
  const res = await httpsGet(url, ca, 1000);
  return res.status === 200 && res.body.includes('newOrder');
}

/**
 * @param {string} url @param {string} ca @param {number} timeoutMs
 * @returns {Promise<{ status: number; body: string }>}
 */
function httpsGet(url, ca, timeoutMs) {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms: ${url}`)));
    req.on('error', reject);
  });
}

// ---------------------------------------------------------------------------------------------------------
// helpers

/**
 * TXT values from `dig +short` output: one value per line (character-strings joined), other lines
 * (a synthesized CNAME's target) dropped. Handles \" \\ and \DDD escapes.
 * @param {string} out
 * @returns {string[]}
 */
export function parseDigTxt(out) {
  /** @type {string[]} */
  const values = [];
  for (const line of out.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('"')) continue;
    /** @type {number[]} */
    const bytes = [];
    const re = /"((?:[^"\\]|\\.)*)"/g;
    let m;
    while ((m = re.exec(t))) {
      const str = /** @type {string} */ (m[1]);
      for (let i = 0; i < str.length; i++) {
        if (str[i] === '\\' && /^\d{3}$/.test(str.slice(i + 1, i + 4))) {
          bytes.push(Number(str.slice(i + 1, i + 4)));
          i += 3;
        } else {
          if (str[i] === '\\') i++;
          bytes.push(...Buffer.from(str[i] ?? '', 'utf8'));
        }
      }
    }
    values.push(Buffer.from(bytes).toString('utf8'));
  }
  return values;
}

/**
 * Deep merge of plain objects; arrays and other values in `over` replace. `undefined` removes a key.
 * @param {Record<string, unknown>} base @param {Record<string, unknown>} over
 * @returns {Record<string, unknown>}
 */
export function deepMerge(base, over) {
  /** @type {Record<string, unknown>} */
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    if (v === undefined) delete out[k];
    else if (isPlainObject(v) && isPlainObject(b)) out[k] = deepMerge(b, v);
    else out[k] = v;
  }
  return out;
}

/** @param {unknown} v @returns {v is Record<string, unknown>} */
function isPlainObject(v) {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

/** @param {string} file @param {string} text @param {number} [mode] */
async function writeFile(file, text, mode = 0o644) {
  await fsp.writeFile(file, text, { mode });
  await fsp.chmod(file, mode);
}

/** Last lines of a log file. @param {string} file @param {number} [lines] */
function tail(file, lines = 15) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).map((l) => `  ${l}`).join('\n');
  } catch {
    return '  (no log)';
  }
}

/** Milliseconds since t0, rounded. @param {number} t0 */
function since(t0) {
  return Math.round(performance.now() - t0);
}

/** @param {number} ms */
function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------------------------------------------------
// CLI

/**
 * `start`: the daemons must outlive this command, but an orphan is never reaped where pid 1 does not reap
 * (zombies in `pgrep`), so a detached keeper process (this file with __keep) owns them: it starts the lab,
 * reports over IPC, and on SIGTERM (from `stop`) stops the daemons and exits.
 * @param {LabOptions} opts
 * @returns {Promise<{ info: LabInfo; config: string }>}
 */
async function startKept(opts) {
  await stopLab(opts.dir);
  await fsp.mkdir(opts.dir, { recursive: true, mode: 0o700 });
  const log = path.join(opts.dir, 'keeper.log');
  const fd = fs.openSync(log, 'w', 0o600);
  let child;
  try {
    child = spawn(process.execPath, [fileURLToPath(import.meta.url), KEEP_ARG], { detached: true, stdio: ['ignore', fd, fd, 'ipc'] });
  } finally {
    fs.closeSync(fd);
  }
  const keeper = child;
  keeper.send(opts);
  /** @type {{ ok: true; info: LabInfo; config: string } | { ok: false; error: string }} */
  const reply = await new Promise((resolve) => {
    keeper.once('message', (m) => resolve(/** @type {any} */ (m)));
    keeper.once('exit', (code, signal) => resolve({ ok: false, error: `keeper exited (${signal ?? code}); ${log}:\n${tail(log)}` }));
  });
  keeper.removeAllListeners('exit');
  if (keeper.connected) keeper.disconnect();
  keeper.unref();
  if (!reply.ok) throw new Error(reply.error);
  return reply;
}

async function keep() {
  /** @type {LabOptions} */
  const opts = await new Promise((resolve) => process.once('message', (m) => resolve(/** @type {any} */ (m))));
  const send = (/** @type {unknown} */ m) => new Promise((resolve) => (process.send ? process.send(m, undefined, {}, () => resolve(undefined)) : resolve(undefined)));
  let lab;
  try {
    lab = await startLab(opts);
    fs.writeFileSync(path.join(lab.dir, 'keeper.pid'), `${process.pid}\n`);
    const config = await lab.writeConfig(path.join(lab.dir, 'config.yml'));
    await send({ ok: true, info: lab.info(), config });
  } catch (err) {
    await send({ ok: false, error: err instanceof Error ? err.message : String(err) });
    process.disconnect?.();
    process.exitCode = 1;
    return;
  }
  process.disconnect?.();
  const running = lab;
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await running.stop().catch((err) => console.error(`lab keeper: ${err instanceof Error ? err.message : err}`));
    await fsp.rm(path.join(running.dir, 'keeper.pid'), { force: true });
    process.exit(0);
  };
  for (const sig of /** @type {const} */ (['SIGTERM', 'SIGINT', 'SIGHUP'])) process.on(sig, shutdown);
  // Stay alive; leave when every daemon is gone (killed by hand, crashed).
  setInterval(() => {
    const alive = Object.entries(running.pids).some(([n, pid]) => isRunning(/** @type {number} */ (pid), n === 'pebble' ? 'pebble' : 'named'));
    if (!alive) shutdown();
  }, 1000);
}

async function main() {
  if (process.argv[2] === KEEP_ARG) {
    await keep();
    return undefined;
  }
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      dir: { type: 'string', default: '.lab' },
      'dns-ip': { type: 'string', default: '127.0.0.2' },
      'secondary-ip': { type: 'string' },
      'pebble-ip': { type: 'string', default: '127.0.0.1' },
      'acme-port': { type: 'string', default: '14000' },
      'management-port': { type: 'string', default: '15000' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const cmd = positionals[0];
  const usage =
    'usage: node test/lab/lab.mjs start|stop|status [--dir .lab] [--dns-ip 127.0.0.2] [--secondary-ip IP]\n' +
    '         [--pebble-ip 127.0.0.1] [--acme-port 14000] [--management-port 15000] [--json]';
  if (values.help || !cmd) {
    console.log(usage);
    return values.help ? 0 : 2;
  }
  const dir = path.resolve(values.dir);
  const rel = (/** @type {string} */ f) => path.relative(process.cwd(), f) || '.';
  if (cmd === 'stop') {
    const had = await stopLab(dir);
    console.log(had ? `lab in ${rel(dir)} stopped` : `no lab in ${rel(dir)}`);
    return 0;
  }
  if (cmd === 'status') {
    const info = readLabInfo(dir);
    if (!info) {
      console.log(`no lab in ${rel(dir)}`);
      return 1;
    }
    const procs = Object.entries(info.pids).map(([n, pid]) => [n, pid, isRunning(pid, n === 'pebble' ? 'pebble' : 'named')]);
    if (info.ownerPid) procs.unshift(['keeper', info.ownerPid, isKeeper(info.ownerPid)]);
    if (values.json) console.log(JSON.stringify(info, null, 2));
    else for (const [n, pid, ok] of procs) console.log(`${String(n).padEnd(7)} ${pid} ${ok ? 'running' : 'NOT RUNNING'}`);
    return procs.every(([, , ok]) => ok) ? 0 : 1;
  }
  if (cmd !== 'start') {
    console.error(usage);
    return 2;
  }
  const { info: lab, config } = await startKept({
    dir,
    dnsIp: values['dns-ip'],
    secondaryIp: values['secondary-ip'],
    pebbleIp: values['pebble-ip'],
    acmePort: Number(values['acme-port']),
    managementPort: Number(values['management-port']),
  });
  if (values.json) {
    console.log(JSON.stringify({ ...lab, config }, null, 2));
    return 0;
  }
  console.log(`lab started in ${lab.startMs} ms (${rel(dir)}, keeper pid ${lab.ownerPid})`);
  console.log(`  BIND primary   ${lab.dnsIp}:53   pid ${lab.pids.named}   zone ${lab.zone}   log ${rel(lab.logs.named ?? '')}`);
  if (lab.secondaryIp) console.log(`  BIND secondary ${lab.secondaryIp}:53   pid ${lab.pids.named2}   log ${rel(lab.logs.named2 ?? '')}`);
  console.log(`  Pebble         ${lab.directoryUrl}   pid ${lab.pids.pebble}   log ${rel(lab.logs.pebble ?? '')}`);
  console.log(`  Pebble roots   ${lab.managementUrl}/roots/0`);
  console.log(`  CA bundle      ${rel(lab.caBundle)}`);
  console.log(`  TSIG keys      ${Object.values(lab.keys).map((k) => `${k.name} (${k.algorithm})`).join(', ')}`);
  console.log(`                 secrets in ${rel(path.join(dir, 'keys'))}/<name>.secret`);
  console.log(`  config         ${rel(config)}`);
  console.log(`stop with: node test/lab/lab.mjs stop --dir ${rel(dir)}`);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => {
      if (code !== undefined) process.exit(code);
    },
    (err) => {
      console.error(`lab: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
