/** Type declarations for lab.mjs (the BIND + Pebble lab on loopback). Keep in step with the JSDoc there. */

/** The lab zone. */
export declare const LAB_ZONE: 'example.org';

/** TSIG keys of every lab: name without the trailing dot -> BIND algorithm name ('hmac-sha512', ...). */
export declare const LAB_KEYS: Readonly<Record<LabKeyName, string>>;

/** The only name the `limited.` key may update (TXT only). */
export declare const LIMITED_NAME: '_acme-challenge.other.example.org';

export type LabKeyName =
  | 'certbot-training'
  | 'key-md5'
  | 'key-sha1'
  | 'key-sha224'
  | 'key-sha256'
  | 'key-sha384'
  | 'key-sha512'
  | 'limited'
  /** May update any record type anywhere: for tests that reshape the zone (CNAME, CAA, A). */
  | 'lab-admin';

/** A zone added to the lab servers besides example.org. The lab writes $TTL, SOA and NS itself. */
export interface ExtraZone {
  /** Zone name, e.g. 'other.test' (trailing dot optional). */
  name: string;
  /** Zone-file lines after SOA/NS, relative to the zone origin, e.g. 'www A 127.0.0.1'. */
  records: string;
}

export interface LabKey {
  /** Key name with the trailing dot, e.g. 'certbot-training.'. */
  name: string;
  /** BIND algorithm name: 'hmac-md5', 'hmac-sha1', ..., 'hmac-sha512'. */
  algorithm: string;
  /** Base64 secret. */
  secret: string;
  /** <dir>/keys/<name without dot>.secret (mode 0600, the base64 secret and a newline). */
  secretFile: string;
}

export type DaemonName = 'named' | 'named2' | 'pebble';

/** The daemons are children of the calling process and get SIGTERM when it exits (stop() is still the clean way). */
export interface LabOptions {
  /** Everything goes here (created, mode 0700). A lab left here by a dead process is stopped first. */
  dir: string;
  /** BIND primary, port 53. Default 127.0.0.2. Added to `lo` when missing (named binds to interface addresses only). */
  dnsIp?: string;
  /** When set, a BIND secondary on this address (port 53) transfers every zone from the primary (NOTIFY + AXFR/IXFR). */
  secondaryIp?: string;
  /** Pebble's address. Default 127.0.0.1. */
  pebbleIp?: string;
  /** Pebble ACME port. Default 14000. */
  acmePort?: number;
  /** Pebble management port (roots, intermediates). Default 15000. */
  managementPort?: number;
  /** More zones on the same servers; every key but `limited.` may update TXT there. */
  zones?: ExtraZone[];
  /** The primary's notify-delay in seconds: the secondary lags about this long behind each update (default 0: ~10 ms). */
  notifyDelay?: number;
  /** Pebble's PEBBLE_* environment on top of PEBBLE_VA_NOSLEEP=1, PEBBLE_AUTHZREUSE=0 (inherited PEBBLE_* vars are dropped), e.g. { PEBBLE_WFE_NONCEREJECT: '0' }. */
  pebbleEnv?: Record<string, string>;
  /** Where Pebble looks up TXT records ("IP:PORT"); default the lab's own named (a validating resolver, say). */
  pebbleDnsServer?: string;
  /** Deep-merged over the "pebble" object of pebble.json, e.g. { certificateValidityPeriod: 7776000 }. */
  pebbleConfig?: Record<string, unknown>;
  /** Remove <dir>/state on start (default true: a new Pebble knows no old accounts). */
  resetState?: boolean;
}

/** The plain (structured-cloneable) data of a running lab: what globalSetup provides to tests. */
export interface LabInfo {
  dir: string;
  dnsIp: string;
  secondaryIp?: string;
  pebbleIp: string;
  acmePort: number;
  managementPort: number;
  /** https://<pebbleIp>:<acmePort>/dir */
  directoryUrl: string;
  /** https://<pebbleIp>:<managementPort> */
  managementUrl: string;
  /** <dir>/ca.pem: the CA of Pebble's HTTPS certificate (the tool's ca_bundle). Not Pebble's issuing root. */
  caBundle: string;
  zone: 'example.org';
  /** example.org and the extra zones. */
  zones: string[];
  keys: Record<LabKeyName, LabKey>;
  pids: Partial<Record<DaemonName, number>>;
  logs: Partial<Record<DaemonName, string>>;
  /** The process the daemons are children of (the test runner, or the CLI's keeper); they get SIGTERM when it exits. */
  ownerPid: number;
  /** Loopback addresses this lab added to `lo` (removed by stop()). */
  addedAddresses: string[];
  /** Milliseconds startLab took, and when each part was ready (ms since the call). */
  startMs: number;
  timings?: Record<string, number>;
}

export interface Lab extends LabInfo {
  /** A copy of the plain data (for vitest's provide, JSON). */
  info(): LabInfo;
  /** PEM of Pebble's issuing root (GET <managementUrl>/roots/0). Changes with every Pebble start. */
  pebbleRoots(): Promise<string>;
  /** The gxit-cert config for this lab as an object, `overrides` deep-merged (arrays replace, undefined deletes). */
  configObject(overrides?: Record<string, unknown>): Record<string, unknown>;
  /** Writes that config as YAML (mode 0600); resolves to the absolute path. */
  writeConfig(path: string, overrides?: Record<string, unknown>): Promise<string>;
  /** TXT values at `name` (character-strings joined) from the primary, or from `server`; a synthesized CNAME is dropped. */
  txt(name: string, server?: string): Promise<string[]>;
  /** SIGTERM (SIGKILL after 5 s) to every daemon, waits until they are gone, removes added addresses. */
  stop(): Promise<void>;
}

export declare class LabError extends Error {
  /** 'LAB_BUSY': address/port or dir in use; 'LAB_MISSING': named/pebble/openssl missing; 'LAB_START': a daemon failed. */
  readonly code: 'LAB_BUSY' | 'LAB_MISSING' | 'LAB_START';
  constructor(code: string, message: string);
}

/** Starts BIND (+ secondary) and Pebble; resolves when all answer. */
export declare function startLab(options: LabOptions): Promise<Lab>;

/** A Lab with methods for the plain data of a running lab (e.g. `attachLab(inject('lab'))` in a test). */
export declare function attachLab(info: LabInfo): Lab;

/** <dir>/lab.json of a running lab, or undefined. */
export declare function readLabInfo(dir: string): LabInfo | undefined;

/** Stops the lab recorded in <dir>/lab.json; false when there was none. */
export declare function stopLab(dir: string): Promise<boolean>;

/** The gxit-cert config object for a lab (what writeConfig writes without overrides). */
export declare function baseConfig(info: Pick<LabInfo, 'dir' | 'dnsIp' | 'directoryUrl' | 'caBundle' | 'keys'>): Record<string, unknown>;

/** TXT values from `dig +short` output (quoted lines only, character-strings joined, escapes decoded). */
export declare function parseDigTxt(out: string): string[];

/** Deep merge of plain objects; arrays and scalars in `over` replace, undefined deletes. */
export declare function pebbleConfigFor(
  where: { dir: string; pebbleIp: string; acmePort: number; managementPort: number },
  overrides?: Record<string, unknown>,
): { pebble: Record<string, unknown> };
export declare function pebbleEnvironment(extra?: Record<string, string>): NodeJS.ProcessEnv;
export declare function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown>;
