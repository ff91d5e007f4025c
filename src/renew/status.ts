/**
 * What `status` reports per lineage, and the node-exporter textfile, as pure functions of the
 * lineage snapshots, the configuration and the clock.
 */
import type { CertificateConfig } from '../config/types.js';
import type { RenewalAriState } from './ari.js';
import { decideDue, type DueDecision } from './due.js';
import type { LineageSnapshot } from './facts.js';
import { ariStateOf } from './plan.js';
import { runRecordOf, type DeployRecord } from './record.js';

export interface LineageStatusEntry {
  name: string;
  /** In the configuration (renewed by renew), or only in the state directory. */
  configured: boolean;
  /** Issued at least once (renewal/<name>.json exists). */
  issued: boolean;
  domains: string[];
  version?: number;
  serial?: string;
  issuer?: string;
  notBefore?: string;
  notAfter?: string;
  /** Whole days until notAfter (negative once expired). */
  daysLeft?: number;
  expired: boolean;
  due?: { due: boolean; basis: DueDecision['basis']; dueAt: string; detail: string };
  ari?: RenewalAriState;
  lastRun?: { at: string; ok: boolean; error?: string };
  lastSuccessAt?: string;
  lastFailureAt?: string;
  deploy?: DeployRecord;
  /** The live certificate was revoked (gxit-cert revoke). */
  revoked?: { at: string; reason: string; serial: string };
  /** The live certificate cannot be read. */
  problem?: string;
  /**
   * False when a monitor should alert: expired, broken live certificate, failed deploy, or due and
   * its last renewal attempt failed. A failed run of a certificate that is not due (a forced or dry
   * run) is only a warning: the certificate in use is fine and renew tries again in time.
   */
  healthy: boolean;
  /** Worth a look, but not an alert. */
  warnings: string[];
}

const DAY = 86_400_000;

export function lineageStatus(
  snapshot: LineageSnapshot,
  certificate: CertificateConfig | undefined,
  nowMs: number,
  opts: { renewBeforeDays?: number } = {},
): LineageStatusEntry {
  const state = snapshot.lineage?.state;
  const cert = snapshot.certificate;
  const runs = state === undefined ? {} : runRecordOf(state);
  const lastRun = state?.lastRun;
  const lastSuccessAt = runs.lastSuccessAt ?? state?.history?.at(-1)?.at ?? (lastRun?.ok ? lastRun.at : undefined);
  const lastFailureAt = runs.lastFailureAt ?? (lastRun?.ok === false ? lastRun.at : undefined);
  const expired = cert !== undefined && nowMs >= cert.notAfterMs;
  const revoked = state?.revoked !== undefined && state.revoked.version === snapshot.lineage?.liveVersion ? state.revoked : undefined;
  const ari = state === undefined ? undefined : ariStateOf(snapshot);
  const decision = cert === undefined ? undefined : decideDue(cert, ari, nowMs, opts);
  const entry: LineageStatusEntry = {
    name: snapshot.name,
    configured: certificate !== undefined,
    issued: state !== undefined,
    domains: state?.domains ?? certificate?.domains ?? [],
    ...(snapshot.lineage?.liveVersion === undefined ? {} : { version: snapshot.lineage.liveVersion }),
    ...(cert === undefined
      ? {}
      : {
          serial: cert.serial,
          issuer: cert.issuer,
          notBefore: new Date(cert.notBeforeMs).toISOString(),
          notAfter: new Date(cert.notAfterMs).toISOString(),
          daysLeft: Math.floor((cert.notAfterMs - nowMs) / DAY),
        }),
    expired,
    ...(decision === undefined
      ? {}
      : { due: { due: decision.due, basis: decision.basis, dueAt: new Date(decision.dueAtMs).toISOString(), detail: decision.detail } }),
    ...(ari === undefined ? {} : { ari }),
    ...(lastRun === undefined ? {} : { lastRun }),
    ...(lastSuccessAt === undefined ? {} : { lastSuccessAt }),
    ...(lastFailureAt === undefined ? {} : { lastFailureAt }),
    ...(runs.deploy === undefined ? {} : { deploy: runs.deploy }),
 ...(revoked === undefined ? {} : { revoked: { at: revoked.at, reason: revoked.reason, serial: revoked.serial } }),
    ...(snapshot.problem === undefined ? {} : { problem: snapshot.problem }),
    healthy: true,
    warnings: [],
  };
  const failedRun = lastRun?.ok === false;
  const due = decision?.due ?? true;
  entry.healthy = revoked === undefined && !expired && !(failedRun && due) && snapshot.problem === undefined && runs.deploy?.ok !== false;
  if (failedRun && !due) {
    entry.warnings.push(`the last run (${lastRun.at}) failed: ${lastRun.error ?? '?'}; the certificate is not due, renew tries again before it is`);
  }
  return entry;
}

/** The one-word state shown first on each line. */
export function stateWord(entry: LineageStatusEntry): string {
  if (!entry.issued) return 'not issued';
  if (entry.problem !== undefined) return 'broken';
  if (entry.revoked !== undefined) return 'REVOKED';
  if (entry.expired) return 'EXPIRED';
  if (entry.lastRun?.ok === false && entry.due?.due !== false) return 'FAILED';
  if (entry.deploy?.ok === false) return 'NOT DEPLOYED';
  if (entry.due?.due) return 'due';
  return 'ok';
}

/** The node-exporter textfile (Prometheus text format 0.0.4). */
export function prometheusText(entries: readonly LineageStatusEntry[]): string {
  const metrics: { name: string; help: string; value: (e: LineageStatusEntry) => number | undefined }[] = [
    { name: 'gxit_cert_expiry_timestamp_seconds', help: 'When the live certificate expires (notAfter), seconds since the epoch.', value: (e) => seconds(e.notAfter) },
    { name: 'gxit_cert_last_success_timestamp_seconds', help: 'When a certificate was last issued or renewed for the lineage.', value: (e) => seconds(e.lastSuccessAt) },
    { name: 'gxit_cert_last_failure_timestamp_seconds', help: 'When an issuance or renewal of the lineage last failed.', value: (e) => seconds(e.lastFailureAt) },
    { name: 'gxit_cert_last_run_success', help: '1 when the last issuance or renewal run of the lineage succeeded, 0 when it failed.', value: (e) => (e.lastRun === undefined ? undefined : e.lastRun.ok ? 1 : 0) },
    { name: 'gxit_cert_deploy_success', help: '1 when the deploy hooks and served-certificate check of the newest certificate succeeded, 0 when not.', value: (e) => (e.deploy === undefined ? undefined : e.deploy.ok ? 1 : 0) },
    { name: 'gxit_cert_due', help: '1 when the lineage is due for renewal.', value: (e) => (e.due === undefined ? undefined : e.due.due ? 1 : 0) },
    { name: 'gxit_cert_healthy', help: '0 when the lineage is revoked, expired, due and its last run failed, its deploy failed or its live certificate is unreadable.', value: (e) => (e.issued ? (e.healthy ? 1 : 0) : undefined) },
  ];
  const lines: string[] = [];
  for (const metric of metrics) {
    const samples = entries.flatMap((e) => {
      const value = metric.value(e);
      return value === undefined ? [] : [`${metric.name}{name="${escapeLabel(e.name)}"} ${value}`];
    });
    if (samples.length === 0) continue;
    lines.push(`# HELP ${metric.name} ${metric.help}`, `# TYPE ${metric.name} gauge`, ...samples);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

function seconds(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : undefined;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
