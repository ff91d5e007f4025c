/**
 * Planning, done one way for issue and renew: read each lineage (store), plan (renew/plan.ts, pure),
 * and, for renew, ask ARI where a check is due and plan again. Light: renew with nothing due decides
 * here without the lock and without loading acme-client or a DNS provider.
 */
import type { Config } from '../config/types.js';
import { ariStateAfter } from '../renew/ari.js';
import type { AriClient } from '../renew/ari-client.js';
import type { DueDecision } from '../renew/due.js';
import { readSnapshots, type LineageSnapshot } from '../renew/facts.js';
import { ariStateOf, needsWork, planRenewal, type RenewPlanItem } from '../renew/plan.js';
import type { Store, WriteOptions } from '../store/contract.js';
import { recordAri } from './record.js';
import { initialReport, type CycleReport, type LineageReport } from './report.js';
import type { Reporter } from './reporter.js';

export interface RunOptions {
  /** issue: order new and changed lineages only; renew: also those that are due. */
  mode: 'issue' | 'renew';
  force: boolean;
  /** Order every configured certificate and discard the result; live/ and the state stay as they are. */
  dryRun: boolean;
  /** With dryRun: run the deploy hooks anyway (against the unchanged live files). */
  runDeployHooks: boolean;
  /**
   * The version of each lineage when the run started, before it waited for the lock (0: none). A
   * lineage found at another version under the lock was renewed meanwhile by another run (another
   * node of a cluster): it is not ordered again, not even when forced.
   */
  seenVersions?: ReadonlyMap<string, number>;
  /**
   * The lineages this run works on, and locks (default: every configured certificate), and the
   * reports of the others, which decideQuickly found with nothing to do: they are not read again.
   * On a cluster this is what lets runs on other lineages go on at the same time.
   */
  only?: { lineages: readonly string[]; others: readonly LineageReport[] };
}

export interface Decision {
  plan: RenewPlanItem[];
  snapshots: Map<string, LineageSnapshot>;
  /** The items that get an order, in configuration order. */
  ordered: RenewPlanItem[];
  due: Map<string, DueDecision>;
  /** Per lineage, the ARI identifier a renewal replaces (RFC 9773 `replaces`). */
  replaces: Map<string, string>;
  /** A deploy that failed last time is repeated (hooks and served check) until it succeeds, without an order. */
  redeploys: RenewPlanItem[];
  /** Per ordered lineage, the version the plan was made on (0: none): the commit's fence. */
  versions: Map<string, number>;
}

/** The configured certificates the run works on (RunOptions.only), in configuration order. */
export function certificatesOf(config: Config, opts: RunOptions): Config['certificates'] {
  const only = opts.only;
  if (only === undefined) return config.certificates;
  const names = new Set(only.lineages);
  return config.certificates.filter((c) => names.has(c.name));
}

function planOf(config: Config, snapshots: ReadonlyMap<string, LineageSnapshot>, nowMs: number, opts: RunOptions): RenewPlanItem[] {
  return planRenewal(certificatesOf(config, opts), snapshots, nowMs, {
    force: opts.force || opts.dryRun,
    server: config.server,
    ...(config.renewBeforeDays === undefined ? {} : { renewBeforeDays: config.renewBeforeDays }),
  });
}

function decisionOf(plan: RenewPlanItem[], snapshots: Map<string, LineageSnapshot>, opts: RunOptions): Decision {
  const renewing = opts.mode === 'renew';
  const due = new Map<string, DueDecision>();
  if (renewing) for (const item of plan) if (item.due?.due) due.set(item.certificate.name, item.due);
  const ordered = plan.filter((item) => item.issueReason !== undefined || due.has(item.certificate.name));
  const replaces = new Map<string, string>();
  if (!opts.dryRun) for (const item of ordered) if (item.replaces !== undefined) replaces.set(item.certificate.name, item.replaces);
  const redeploys = renewing && !opts.dryRun ? plan.filter((item) => item.redeploy && !ordered.includes(item)) : [];
  const versions = new Map(ordered.map((item) => [item.certificate.name, item.snapshot.lineage?.state.version ?? 0]));
  return { plan, snapshots, ordered, due, replaces, redeploys, versions };
}

/** The report of a run that has nothing to do, or undefined when it has (pure over the snapshots). */
export function idleReport(config: Config, decision: Decision, opts: RunOptions): CycleReport | undefined {
  if (decision.ordered.length > 0 || decision.redeploys.length > 0) return undefined;
  const renewing = opts.mode === 'renew';
  const lineages = decision.plan.map((item) => initialReport(item, renewing));
  return { mode: opts.mode, dryRun: opts.dryRun, server: config.server, ordered: false, lineages, pre: [], post: [], problems: [], ok: true };
}

/** What decideQuickly found. */
export type QuickDecision =
  /** Nothing to order, no ARI check, no redeploy: the run ends here with this report. */
  | { idle: CycleReport }
  /** The run takes the lock of these lineages and decides again; `others` need nothing. */
  | { idle?: undefined; only: { lineages: string[]; others: LineageReport[] } };

/**
 * Without the lock: whether the run can end here, and otherwise which lineages it has to lock and
 * decide on again (every one when forced).
 */
export async function decideQuickly(config: Config, store: Store, nowMs: number, opts: RunOptions): Promise<QuickDecision> {
  if (opts.force || opts.dryRun) return { only: { lineages: config.certificates.map((c) => c.name), others: [] } };
  const snapshots = await readSnapshots(store, config.certificates.map((c) => c.name));
  const plan = planOf(config, snapshots, nowMs, opts);
  const busy = (item: RenewPlanItem): boolean => (opts.mode === 'renew' ? needsWork(item) : item.issueReason !== undefined);
  if (!plan.some(busy)) {
    const idle = idleReport(config, decisionOf(plan, snapshots, opts), opts);
    if (idle !== undefined) return { idle };
  }
  const renewing = opts.mode === 'renew';
  return {
    only: {
      lineages: plan.filter(busy).map((item) => item.certificate.name),
      others: plan.filter((item) => !busy(item)).map((item) => initialReport(item, renewing)),
    },
  };
}

/** A run's report with the lineages it did not work on (RunOptions.only), in configuration order. */
export function withOthers(config: Config, report: CycleReport, opts: RunOptions): CycleReport {
  const others = opts.only?.others ?? [];
  if (others.length === 0) return report;
  const byName = new Map([...others, ...report.lineages].map((l) => [l.name, l]));
  const lineages = config.certificates.flatMap((c) => byName.get(c.name) ?? []);
  return { ...report, lineages };
}

export interface DecideDeps {
  config: Config;
  store: Store;
  reporter: Reporter;
  ari?: AriClient;
  write: WriteOptions;
  now: () => number;
  random: () => number;
}

/** Under the lock: read again, plan, refresh ARI where due and plan again. */
export async function decide(deps: DecideDeps, opts: RunOptions): Promise<Decision> {
  const { config, store } = deps;
  const snapshots = await readSnapshots(store, certificatesOf(config, opts).map((c) => c.name));
  let plan = planOf(config, snapshots, deps.now(), opts);
  if (opts.mode === 'renew' && !opts.dryRun && deps.ari !== undefined && plan.some((item) => item.ariCheck)) {
    for (const item of plan.filter((i) => i.ariCheck)) {
      snapshots.set(item.certificate.name, await refreshAri(deps, deps.ari, item.snapshot));
    }
    plan = planOf(config, snapshots, deps.now(), opts);
  }
  const moved = renewedMeanwhile(opts.seenVersions, snapshots);
  if (moved.size > 0) {
    const unforced = planOf(config, snapshots, deps.now(), { ...opts, force: false, dryRun: false });
    plan = plan.map((item) => (moved.has(item.certificate.name) ? (unforced.find((u) => u.certificate.name === item.certificate.name) ?? item) : item));
  }
  return decisionOf(plan, snapshots, opts);
}

/** Lineages whose version changed between the start of the run and its decision under the lock (pure). */
export function renewedMeanwhile(seen: ReadonlyMap<string, number> | undefined, snapshots: ReadonlyMap<string, LineageSnapshot>): Set<string> {
  const moved = new Set<string>();
  if (seen === undefined) return moved;
  for (const [name, version] of seen) {
    const now = snapshots.get(name)?.lineage?.state.version ?? 0;
    if (now !== version) moved.add(name);
  }
  return moved;
}

/** Ask the CA about a lineage's certificate and store the answer; the snapshot with the new state. */
export async function refreshAri(deps: DecideDeps, ari: AriClient, snapshot: LineageSnapshot): Promise<LineageSnapshot> {
  const cert = snapshot.certificate;
  const lineage = snapshot.lineage;
  if (cert?.certId === undefined || lineage === undefined) return snapshot;
  deps.reporter.step(snapshot.name, 'ari', `asking ${lineage.state.server} for renewal information`);
  const outcome = await ari.fetch(lineage.state.server, cert.certId);
  if (outcome.kind === 'error') {
    const fallback = ariStateOf(snapshot)?.window !== undefined ? 'the window learnt earlier' : "the certificate's lifetime";
    deps.reporter.warn(snapshot.name, `no renewal information from the CA (${outcome.message}); ${fallback} decides`);
  }
  const next = ariStateAfter(ariStateOf(snapshot), cert.certId, outcome, deps.now(), deps.random);
  const state = await recordAri(deps.store, snapshot.name, next, deps.write);
  return state === undefined ? snapshot : { ...snapshot, lineage: { ...lineage, state } };
}
