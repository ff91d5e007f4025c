/**
 * The versions of a certbot lineage (pure): which archive versions are complete, which one live/
 * points at, and whether a version's key belongs to its certificate.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { basename } from 'node:path';
import type { KeyType } from '../config/types.js';
import { keyTypeOfPem } from './key-type.js';

export const CERTBOT_KINDS = ['cert', 'privkey', 'chain', 'fullchain'] as const;
export type CertbotKind = (typeof CERTBOT_KINDS)[number];

/** The version of an archive file name such as "fullchain12.pem" for `kind`, or undefined. */
export function versionOfFile(fileName: string, kind: CertbotKind): number | undefined {
  const m = new RegExp(`^${kind}([1-9][0-9]{0,8})\\.pem$`).exec(fileName);
  return m ? Number(m[1]) : undefined;
}

/** Versions of which all four files are in the archive directory listing, ascending. */
export function completeVersions(fileNames: readonly string[]): number[] {
  const counts = new Map<number, number>();
  for (const fileName of fileNames) {
    for (const kind of CERTBOT_KINDS) {
      const v = versionOfFile(fileName, kind);
      if (v !== undefined) counts.set(v, (counts.get(v) ?? 0) + 1);
    }
  }
  return [...counts].filter(([, n]) => n === CERTBOT_KINDS.length).map(([v]) => v).sort((a, b) => a - b);
}

/** All versions that have at least one file, ascending. */
export function anyVersions(fileNames: readonly string[]): number[] {
  const seen = new Set<number>();
  for (const fileName of fileNames) for (const kind of CERTBOT_KINDS) {
    const v = versionOfFile(fileName, kind);
    if (v !== undefined) seen.add(v);
  }
  return [...seen].sort((a, b) => a - b);
}

export type LiveResolution = { ok: true; version: number; mixed: boolean } | { ok: false; reason: string };

/**
 * The version live/ stands for. `targets` are the link targets of live/<name>/<kind>.pem (undefined:
 * missing or not a link). All four normally agree; after an interrupted certbot run they may not,
 * and then the newest complete version among them is taken.
 */
export function resolveLive(
  name: string,
  targets: Partial<Record<CertbotKind, string>>,
  complete: readonly number[],
): LiveResolution {
  const versions: number[] = [];
  for (const kind of CERTBOT_KINDS) {
    const target = targets[kind];
    if (target === undefined) return { ok: false, reason: `live/${name}/${kind}.pem is missing or not a symbolic link` };
    const v = versionOfFile(basename(target), kind);
    if (v === undefined || !target.includes(`archive/${name}/`)) {
      return { ok: false, reason: `live/${name}/${kind}.pem points to ${target}, not into archive/${name}/` };
    }
    versions.push(v);
  }
  const mixed = new Set(versions).size > 1;
  const candidates = [...new Set(versions)].filter((v) => complete.includes(v)).sort((a, b) => b - a);
  const version = candidates[0];
  if (version === undefined) return { ok: false, reason: `live/${name} points to version ${versions.join('/')}, which is not complete in archive/${name}/` };
  return { ok: true, version, mixed };
}

export interface VersionFacts {
  domains: string[];
  serial: string;
  notAfter: string;
  keyType: KeyType | undefined;
  keyTypeProblem?: string;
}

export type VersionCheck = { ok: true; facts: VersionFacts } | { ok: false; reason: string };

export function checkVersion(files: Record<CertbotKind, string>): VersionCheck {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(files.cert);
  } catch {
    return { ok: false, reason: 'cert is not a readable certificate' };
  }
  let publicMatches: boolean;
  try {
    publicMatches = cert.checkPrivateKey(createPrivateKey(files.privkey));
  } catch {
    return { ok: false, reason: 'privkey is not a readable private key' };
  }
  if (!publicMatches) return { ok: false, reason: 'privkey does not belong to cert' };
  const firstOfFullchain = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(files.fullchain)?.[0];
  if (firstOfFullchain === undefined || new X509Certificate(firstOfFullchain).fingerprint256 !== cert.fingerprint256) {
    return { ok: false, reason: 'fullchain does not start with cert' };
  }
  if (!files.chain.includes('-----BEGIN CERTIFICATE-----')) return { ok: false, reason: 'chain holds no certificate' };
  const key = keyTypeOfPem(files.privkey);
  return {
    ok: true,
    facts: {
      domains: domainsOf(cert),
      serial: cert.serialNumber.toLowerCase(),
      notAfter: new Date(cert.validTo).toISOString(),
      keyType: key.ok ? key.keyType : undefined,
      ...(key.ok ? {} : { keyTypeProblem: key.reason }),
    },
  };
}

/** The DNS names of the certificate, the common name first (certbot's order: the first -d). */
function domainsOf(cert: X509Certificate): string[] {
  const sans = (cert.subjectAltName ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4).toLowerCase());
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1]?.toLowerCase();
  if (cn !== undefined && sans.includes(cn)) return [cn, ...sans.filter((s) => s !== cn)];
  return sans.length > 0 ? sans : cn === undefined ? [] : [cn];
}
