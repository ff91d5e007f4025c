/**
 * What renewal decisions are made from: each lineage's stored state and its live certificate, read
 * from the state directory without contacting anyone (node:crypto only, so `renew` with nothing due
 * stays fast).
 */
import { X509Certificate } from 'node:crypto';
import { messageOf } from '../errors.js';
import type { Store, StoredLineage } from '../store/contract.js';
import { ariCertId } from './cert-id.js';
import { liveFileProblems } from './health.js';

export interface LiveCertificate {
  /** Hex, as node:crypto prints it. */
  serial: string;
  /** The issuer's common name (or the whole issuer name when it has none). */
  issuer: string;
  notBeforeMs: number;
  notAfterMs: number;
  fingerprint256: string;
  sans: string[];
  /** ARI certificate identifier; undefined without an AKI. */
  certId?: string;
}

export interface LineageSnapshot {
  name: string;
  /** Undefined when the state directory has no lineage of this name. */
  lineage?: StoredLineage;
  /** The live certificate (store.readLive). */
  certificate?: LiveCertificate;
  /** Why the live files are not fit to serve (missing link, unreadable, unparsable or mismatched file: health.ts). */
  problem?: string;
}

export function sansOf(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4));
}

export function describeCertificate(pem: string | Buffer): LiveCertificate {
  const x509 = new X509Certificate(pem);
  const certId = ariCertId(x509.raw);
  return {
    serial: x509.serialNumber,
    issuer: commonName(x509.issuer),
    notBeforeMs: Date.parse(x509.validFrom),
    notAfterMs: Date.parse(x509.validTo),
    fingerprint256: x509.fingerprint256,
    sans: sansOf(x509),
    ...(certId === undefined ? {} : { certId }),
  };
}

function commonName(distinguishedName: string): string {
  const lines = distinguishedName.split('\n');
  const cn = lines.find((line) => line.startsWith('CN='));
  return cn === undefined ? lines.join(', ') : cn.slice(3);
}

export async function readSnapshot(store: Store, name: string): Promise<LineageSnapshot> {
  const lineage = await store.readLineage(name);
  if (lineage === undefined) return { name };
  const where = store.livePaths(name).cert;
  try {
    const live = await store.readLive(name);
    if (live === undefined) return { name, lineage, problem: `cannot read ${where}: no live certificate` };
    const problems = liveFileProblems(live);
    if (problems.length > 0) return { name, lineage, problem: `${store.livePaths(name).dir}: ${problems.join('; ')}` };
    return { name, lineage, certificate: describeCertificate(live.certPem) };
  } catch (error) {
    return { name, lineage, problem: `cannot read ${where}: ${messageOf(error)}` };
  }
}

/** Snapshots of the given lineages, by name. */
export async function readSnapshots(store: Store, names: readonly string[]): Promise<Map<string, LineageSnapshot>> {
  const snapshots = await Promise.all(names.map((name) => readSnapshot(store, name)));
  return new Map(snapshots.map((s) => [s.name, s]));
}
