/**
 * Following the cluster on this node (sync, watch): bring a lineage's local files up to the
 * cluster's version, then run the local deploy hooks and the served check, and report to the
 * database what this node now deploys and serves. A deploy that failed is repeated on the next
 * sync even when the files are current.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve as resolvePath } from 'node:path';
import type { CertificateConfig, Config } from '../config/types.js';
import { GxitError, messageOf } from '../errors.js';
import type { HookPhase } from '../hooks/env.js';
import { runPhase } from '../hooks/phase.js';
import { describeHookFailure, type HookRun } from '../hooks/run.js';
import { describeServedFailure, verifyServed, type ServedCheck } from '../hooks/served.js';
import { pullLineage } from '../store/cluster/pull.js';
import { selectNodeState } from '../store/cluster/rows.js';
import type { OpenedClusterStore } from '../store/cluster/store.js';

export interface FollowDeps {
  config: Config;
  opened: OpenedClusterStore;
  parentEnv: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  servedDeadlineMs?: number;
  onHookOutput?: (phase: HookPhase, label: string, text: string) => void;
}

export type FollowStatus = 'current' | 'synced' | 'redeployed' | 'absent' | 'failed';

export interface FollowReport {
  name: string;
  domains: string[];
  status: FollowStatus;
  /** The version this node had before, and has now. */
  from?: number;
  to?: number;
  hooks: HookRun[];
  served: ServedCheck[];
  problems: string[];
  error?: GxitError;
}

const SERVED_DEADLINE_MS = 10_000;

export async function followLineage(deps: FollowDeps, certificate: CertificateConfig): Promise<FollowReport> {
  const { opened } = deps;
  const { name } = certificate;
  const report: FollowReport = { name, domains: certificate.domains, status: 'current', hooks: [], served: [], problems: [] };
  let pulled;
  try {
    pulled = await pullLineage(opened, name);
  } catch (error) {
    report.status = 'failed';
    report.error = error instanceof GxitError ? error : new GxitError('INTERNAL', messageOf(error), { cause: error });
    return report;
  }
  if (pulled.from !== undefined) report.from = pulled.from;
  if (pulled.to === undefined) {
    report.status = 'absent';
    return report;
  }
  report.to = pulled.to;
  report.domains = pulled.domains ?? certificate.domains;
  if (!pulled.changed) {
    const mine = await selectNodeState(opened.db, opened.cluster.node, name).catch(() => undefined);
    const failedBefore = mine !== undefined && mine.deployedVersion === pulled.to && mine.deployOk === false;
    if (!failedBefore) return report;
    report.status = 'redeployed';
  } else {
    report.status = 'synced';
  }
  await deploy(deps, report, pulled.to);
  return report;
}

async function deploy(deps: FollowDeps, report: FollowReport, version: number): Promise<void> {
  const { config, opened } = deps;
  const hooks = config.hooks;
  const live = opened.store.livePaths(report.name);
  if (hooks !== undefined && hooks.deploy.length > 0) {
    const runs = await runPhase({
      hooks: hooks.deploy,
      facts: { phase: 'deploy', dryRun: false, lineage: { name: report.name, domains: report.domains, live, version } },
      parentEnv: deps.parentEnv,
      cwd: dirname(resolvePath(config.source)),
      timeoutMs: hooks.timeoutMs,
      ...(deps.signal === undefined ? {} : { signal: deps.signal }),
      ...(deps.onHookOutput === undefined ? {} : { onOutput: (label: string, text: string) => deps.onHookOutput?.('deploy', label, text) }),
    });
    report.hooks.push(...runs);
    report.problems.push(...runs.filter((r) => !r.ok).map((r) => describeHookFailure(r, hooks.timeoutMs)));
  }
  const cert = new X509Certificate(await readFile(live.cert));
  const expected = { fingerprint256: cert.fingerprint256, serial: cert.serialNumber };
  const servers = config.verifyServed ?? [];
  if (servers.length > 0 && report.problems.length === 0) {
    report.served = await verifyServed(servers, report.domains, expected, { deadlineMs: deps.servedDeadlineMs ?? SERVED_DEADLINE_MS });
    report.problems.push(...report.served.filter((c) => !c.ok).map((c) => describeServedFailure(c, expected)));
  }
  const servedSerial = report.served.length > 0 && report.served.every((c) => c.ok) ? cert.serialNumber : report.served.find((c) => !c.ok)?.servedSerial;
  const firstProblem = report.problems[0];
  await opened
    .reportNode({
      lineage: report.name,
      deployedVersion: version,
      deployOk: firstProblem === undefined,
      deployedAt: new Date().toISOString(),
      ...(servedSerial === undefined ? {} : { servedSerial }),
      ...(firstProblem === undefined ? {} : { lastError: firstProblem }),
    })
    .catch((error: unknown) => report.problems.push(`could not report to the cluster: ${messageOf(error)}`));
}

/** One line for people. */
export function followLine(r: FollowReport, node: string): string {
  switch (r.status) {
    case 'current':
      return `${r.name}: current: this node (${node}) has version ${r.to}`;
    case 'synced':
      return `${r.name}: synced version ${r.to} to this node (${node})${r.from === undefined ? '' : `, was version ${r.from}`}`;
    case 'redeployed':
      return `${r.name}: deployed version ${r.to} again on this node (${node}); its last deploy had failed`;
    case 'absent':
      return `${r.name}: the cluster has no certificate yet (a renewer runs gxit-cert issue)`;
    case 'failed':
      return `${r.name}: error: ${r.error?.message ?? 'failed'}${r.error?.fix ? ` (${r.error.fix})` : ''}`;
  }
}
