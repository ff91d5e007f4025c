/**
 * The renewal plan (pure): for each configured certificate, whether an order is needed and why, or
 * whether the CA's renewal information has to be asked first. Orders for new and changed lineages
 * are the issue plan's; renewal adds "due" for current ones.
 */
import type { CertificateConfig } from '../config/types.js';
import { planIssuance, type LineageFacts, type PlanReason } from './issue-plan.js';
import { sameDirectoryUrl } from '../store/layout.js';
import { ariCheckDue, replacesFor, type RenewalAriState } from './ari.js';
import { decideDue, type DueDecision } from './due.js';
import { runRecordOf } from './record.js';
import type { LineageSnapshot } from './facts.js';

export interface RenewPlanItem {
  certificate: CertificateConfig;
  snapshot: LineageSnapshot;
  /** An order is needed for an issue reason: new, names or key type or CA changed, forced. */
  issueReason?: PlanReason;
  /** For a current lineage with a readable certificate: the due decision. */
  due?: DueDecision;
  /** The CA's renewal information should be fetched before deciding. */
  ariCheck: boolean;
  /** ARI identifier of the certificate a renewal replaces, where the CA offers ARI. */
  replaces?: string;
  /** The deploy of the live version failed last time (a hook, the served check): deploy it again. */
  redeploy: boolean;
}

export interface RenewPlanOptions {
  force: boolean;
  server: string;
  renewBeforeDays?: number;
}

export function ariStateOf(snapshot: LineageSnapshot): RenewalAriState | undefined {
  return snapshot.lineage?.state.ari as RenewalAriState | undefined;
}

export function planRenewal(
  certificates: readonly CertificateConfig[],
  snapshots: ReadonlyMap<string, LineageSnapshot>,
  nowMs: number,
  opts: RenewPlanOptions,
): RenewPlanItem[] {
  const facts = new Map<string, LineageFacts>();
  for (const [name, snapshot] of snapshots) {
    const state = snapshot.lineage?.state;
    if (state !== undefined) {
      const revoked = state.revoked !== undefined && state.revoked.version === snapshot.lineage?.liveVersion;
      facts.set(name, {
        domains: state.domains,
        keyType: state.keyType,
        server: state.server,
        ...(revoked ? { revoked } : {}),
        ...(state.profile === undefined ? {} : { profile: state.profile }),
      });
    }
  }
  const issuePlan = planIssuance([...certificates], facts, { force: opts.force, server: opts.server });
  return issuePlan.map(({ certificate, reason }): RenewPlanItem => {
    const snapshot = snapshots.get(certificate.name) ?? { name: certificate.name };
    const cert = snapshot.certificate;
    const ari = ariStateOf(snapshot);
    const sameCa = snapshot.lineage !== undefined && sameDirectoryUrl(snapshot.lineage.state.server, certificate.server ?? opts.server);
    // `replaces` names the certificate a renewal succeeds: only for the same names at the same CA.
    const replaces = sameCa && (reason === undefined || reason === 'forced') ? replacesFor(ari, cert?.certId) : undefined;
    const deploy = snapshot.lineage === undefined ? undefined : runRecordOf(snapshot.lineage.state).deploy;
    const redeploy = deploy?.ok === false && deploy.version === snapshot.lineage?.liveVersion;
    const item: RenewPlanItem = { certificate, snapshot, ariCheck: false, redeploy, ...(replaces === undefined ? {} : { replaces }) };
    if (reason !== undefined) return { ...item, issueReason: reason };
    if (cert === undefined || snapshot.problem !== undefined) {
      // A lineage whose live files are broken (health.ts) is repaired by a new order, by issue as well as renew.
      const detail = snapshot.problem ?? 'the live certificate is missing';
      return { ...item, issueReason: 'broken', due: { due: true, basis: 'expired', dueAtMs: nowMs, detail } };
    }
    const due = decideDue(cert, ari, nowMs, opts.renewBeforeDays === undefined ? {} : { renewBeforeDays: opts.renewBeforeDays });
    return { ...item, due, ariCheck: sameCa && ariCheckDue(ari, cert.certId, nowMs, cert.notAfterMs) };
  });
}

/** Whether the item needs an order now. */
export function needsOrder(item: RenewPlanItem): boolean {
  return item.issueReason !== undefined || item.due?.due === true;
}

/** Whether renew has anything to do for the item: an order, an ARI check or a deploy to repeat. */
export function needsWork(item: RenewPlanItem): boolean {
  return needsOrder(item) || item.ariCheck || item.redeploy;
}
