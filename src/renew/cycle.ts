/**
 * One issue/renew run under the state lock: decide (re-reading the state, asking ARI where a check is
 * due), place the orders through the issue flow, and run the hooks around them:
 *
 *   plan -> [ARI checks] -> pre hooks -> per lineage: order -> deploy hooks -> served check
 *                                                     (failed: on_failure hooks)
 *        -> post hooks (only when orders were placed)
 *
 * The certificate stays whatever a hook does; hook and served-check failures are reported as
 * problems of the lineage, so the command exits non-zero.
 */
import type * as Acme from 'acme-client';
import { dirname, resolve as resolvePath } from 'node:path';
import { LETSENCRYPT_DIRECTORY, LETSENCRYPT_STAGING_DIRECTORY, type Config, type HookCommand, type HooksConfig } from '../config/types.js';
import type { DnsProvider } from '../dns/provider.js';
import type { QueryFn } from '../dns/resolver.js';
import { GxitError, messageOf } from '../errors.js';
import type { HookFacts, HookLineage, HookPhase } from '../hooks/env.js';
import { runPhase } from '../hooks/phase.js';
import { describeHookFailure, type HookRun } from '../hooks/run.js';
import { describeServedFailure, verifyServed } from '../hooks/served.js';
import { interrupted } from '../issue/abort.js';
import type { Reporter } from '../issue/reporter.js';
import { issueAll, type IssueStore, type LineageResult } from '../issue/run.js';
import { issueStore } from '../issue/store-adapter.js';
import type { Store } from '../store/index.js';
import { ariStateAfter } from './ari.js';
import type { AriClient } from './ari-client.js';
import type { DueDecision } from './due.js';
import { readSnapshot, readSnapshots, type LineageSnapshot } from './facts.js';
import { ariStateOf, planRenewal } from './plan.js';
import { recordAri, recordRun } from './record.js';
import { initialReport, type CycleReport, type LineageReport } from './report.js';

export type { CycleReport, LineageReport, LineageStatus } from './report.js';

/** The heavy side, loaded only when an order is placed. */
export interface OrderingDeps {
  acme: typeof Acme;
  provider: DnsProvider;
  query: QueryFn;
}

export interface CycleDeps {
  config: Config;
  store: Store;
  reporter: Reporter;
  /** Loads acme-client and the DNS provider for the configuration the orders use. */
  ordering: (config: Config) => Promise<OrderingDeps>;
  /** ARI over HTTP; without it no renewal information is fetched. */
  ari?: AriClient;
  signal?: AbortSignal;
  /** gxit-cert's environment: hooks get only what hooks/env.ts lets through. */
  parentEnv: NodeJS.ProcessEnv;
  now?: () => number;
  random?: () => number;
  /** How long the served-certificate check retries a server that still serves the old certificate. */
  servedDeadlineMs?: number;
  onHookOutput?: (phase: HookPhase, label: string, text: string) => void;
}

export interface CycleOptions {
  /** issue: order new and changed lineages only; renew: also those that are due. */
  mode: 'issue' | 'renew';
  force: boolean;
  /** Order every configured certificate and discard the result; live/ and the state stay as they are. */
  dryRun: boolean;
  /** With dryRun: run the deploy hooks anyway (against the unchanged live files). */
  runDeployHooks: boolean;
}

const NO_HOOKS: HooksConfig = { pre: [], deploy: [], post: [], onFailure: [], timeoutMs: 120_000 };
const SERVED_DEADLINE_MS = 10_000;

/** Where a dry run orders: certbot's convention, Let's Encrypt's staging CA instead of production. */
export function dryRunServer(server: string): string {
  return server === LETSENCRYPT_DIRECTORY ? LETSENCRYPT_STAGING_DIRECTORY : server;
}

/** Runs one cycle. The caller holds the state lock. */
export async function runCycle(deps: CycleDeps, opts: CycleOptions): Promise<CycleReport> {
  const { config, store, reporter } = deps;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const hooks = config.hooks ?? NO_HOOKS;
  const hookCwd = dirname(resolvePath(config.source));
  const renewing = opts.mode === 'renew';
  const planOptions = {
    force: opts.force || opts.dryRun,
    server: config.server,
    ...(config.renewBeforeDays === undefined ? {} : { renewBeforeDays: config.renewBeforeDays }),
  };

  // Decide again under the lock: another run may have renewed while this one waited.
  const snapshots = await readSnapshots(store, config.certificates.map((c) => c.name));
  let plan = planRenewal(config.certificates, snapshots, now(), planOptions);
  if (renewing && !opts.dryRun && deps.ari !== undefined && plan.some((item) => item.ariCheck)) {
    for (const item of plan.filter((i) => i.ariCheck)) {
      snapshots.set(item.certificate.name, await refreshAri(deps, deps.ari, item.snapshot, now(), random));
    }
    plan = planRenewal(config.certificates, snapshots, now(), planOptions);
  }

  const due = new Map<string, DueDecision>();
  if (renewing) for (const item of plan) if (item.due?.due) due.set(item.certificate.name, item.due);
  const ordered = plan.filter((item) => item.issueReason !== undefined || due.has(item.certificate.name));
  const replaces = new Map<string, string>();
  if (!opts.dryRun) for (const item of ordered) if (item.replaces !== undefined) replaces.set(item.certificate.name, item.replaces);

  // A deploy that failed last time is repeated (hooks and served check) until it succeeds, without an order.
  const redeploys = renewing && !opts.dryRun ? plan.filter((item) => item.redeploy && !ordered.includes(item)) : [];

  const reports = new Map<string, LineageReport>(plan.map((item) => [item.certificate.name, initialReport(item, renewing)]));
  const report = (pre: HookRun[], post: HookRun[], problems: string[], server: string): CycleReport => {
    const lineages = [...reports.values()];
    const ok = problems.length === 0 && lineages.every((l) => l.status !== 'failed' && l.problems.length === 0);
    return { mode: opts.mode, dryRun: opts.dryRun, server, ordered: ordered.length > 0, lineages, pre, post, problems, ok };
  };
  if (ordered.length === 0 && redeploys.length === 0) return report([], [], [], config.server);

  const orderConfig: Config = opts.dryRun ? { ...config, server: dryRunServer(config.server) } : config;
  const phase = (hookList: readonly HookCommand[], facts: HookFacts, stopOnFailure = false): Promise<HookRun[]> =>
    runPhase({
      hooks: hookList,
      facts,
      parentEnv: deps.parentEnv,
      cwd: hookCwd,
      timeoutMs: hooks.timeoutMs,
      stopOnFailure,
      ...(deps.signal === undefined ? {} : { signal: deps.signal }),
      onStart: (label) => reporter.step(facts.lineage?.name ?? '*', 'hook', `running ${facts.phase.replace('_', '-')} hook ${label}`),
      ...(deps.onHookOutput === undefined ? {} : { onOutput: (label: string, text: string) => deps.onHookOutput?.(facts.phase, label, text) }),
    });
  const failureOf = (run: HookRun): string => describeHookFailure(run, hooks.timeoutMs);
  const hookLineage = (name: string, domains: string[], version: number | undefined): HookLineage => ({
    name,
    domains,
    live: store.livePaths(name),
    ...(version === undefined ? {} : { version }),
  });

  const pre: HookRun[] = [];
  const runProblems: string[] = [];
  const baseStore = issueStore(store);
  const handled = new Set<string>();

  /** Runs bookkeeping whose failure must not hide the result: it becomes a warning. */
  const keeper = (name: string) => async (what: string, work: () => Promise<unknown>): Promise<void> => {
    try {
      await work();
    } catch (error) {
      reporter.warn(name, `${what}: ${messageOf(error)}`);
    }
  };

  /** Deploy hooks, then the served check; the outcome is recorded for status and a later redeploy. */
  const deploy = async (entry: LineageReport, version: number | undefined): Promise<void> => {
    const keep = keeper(entry.name);
    const at = new Date(now()).toISOString();
    let deployed: { ok: boolean; error?: string } | undefined;
    if (hooks.deploy.length > 0) {
      const runs = await phase(hooks.deploy, { phase: 'deploy', dryRun: false, lineage: hookLineage(entry.name, entry.domains, version) });
      entry.hooks.push(...runs);
      const failures = runs.filter((r) => !r.ok).map(failureOf);
      entry.problems.push(...failures);
      deployed = failures.length === 0 ? { ok: true } : { ok: false, error: failures[0] as string };
    }
    const servers = config.verifyServed ?? [];
    const cert = servers.length > 0 && deployed?.ok !== false ? (await readSnapshot(store, entry.name)).certificate : undefined;
    if (cert !== undefined) {
      reporter.step(entry.name, 'verify', `checking that ${servers.length} server(s) serve the new certificate`);
      const expected = { fingerprint256: cert.fingerprint256, serial: cert.serial };
      entry.served = await verifyServed(servers, entry.domains, expected, { deadlineMs: deps.servedDeadlineMs ?? SERVED_DEADLINE_MS });
      const failures = entry.served.filter((c) => !c.ok).map((c) => describeServedFailure(c, expected));
      entry.problems.push(...failures);
      deployed = failures.length === 0 ? (deployed ?? { ok: true }) : { ok: false, error: failures[0] as string };
    }
    if (version !== undefined && (deployed !== undefined || entry.status === 'redeployed')) {
      const outcome = deployed ?? { ok: true };
      const record = { at, version, ok: outcome.ok, ...(outcome.error === undefined ? {} : { error: outcome.error }) };
      await keep('could not record the deploy', () => recordRun(store, entry.name, { deploy: record }));
    }
  };

  const afterOrder = async (result: LineageResult): Promise<void> => {
    handled.add(result.name);
    const entry = reports.get(result.name);
    if (entry === undefined) return;
    const before = snapshots.get(result.name);
    entry.result = result;
    if (result.reason !== undefined) entry.reason = result.reason;
    const at = new Date(now()).toISOString();
    const keep = keeper(result.name);

    if (result.status === 'failed') {
      entry.status = 'failed';
      if (!opts.dryRun) await keep('could not record the failure', () => recordRun(store, result.name, { lastFailureAt: at }));
      if (hooks.onFailure.length > 0) {
        const lineage = hookLineage(result.name, result.domains, before?.lineage?.liveVersion);
        const runs = await phase(hooks.onFailure, { phase: 'on_failure', dryRun: opts.dryRun, lineage, error: result.error?.message ?? 'failed' });
        entry.hooks.push(...runs);
        entry.problems.push(...runs.filter((r) => !r.ok).map(failureOf));
      }
      return;
    }
    if (result.status !== 'issued') return;

    if (opts.dryRun) {
      entry.status = 'dry-run';
      if (opts.runDeployHooks && hooks.deploy.length > 0) {
        const lineage = hookLineage(result.name, result.domains, before?.lineage?.liveVersion);
        const runs = await phase(hooks.deploy, { phase: 'deploy', dryRun: true, lineage });
        entry.hooks.push(...runs);
        entry.problems.push(...runs.filter((r) => !r.ok).map(failureOf));
      }
      return;
    }

    entry.status = before?.lineage === undefined ? 'issued' : 'renewed';
    await keep('could not record the success', () => recordRun(store, result.name, { lastSuccessAt: at }));
    await deploy(entry, result.certificate?.version);
    const fresh = await readSnapshot(store, result.name);
    // RFC 9773 §4.3: ask for the new certificate's renewal information right after issuance.
    if (deps.ari !== undefined && fresh.lineage !== undefined) {
      const ari = deps.ari;
      await keep('could not fetch renewal information', () => refreshAri(deps, ari, fresh, now(), random));
    }
  };

  if (ordered.length > 0) {
    // The directory's renewalInfo URL is needed right after issuance: learn it while the order runs.
    if (deps.ari !== undefined && !opts.dryRun) deps.ari.renewalInfoUrl(orderConfig.server).catch(() => undefined);
    try {
      const ordering = await deps.ordering(orderConfig);
      await issueAll(
        {
          config: orderConfig,
          acme: ordering.acme,
          provider: ordering.provider,
          query: ordering.query,
          store: opts.dryRun ? dryRunStore(baseStore, store) : baseStore,
          reporter,
          ...(deps.signal === undefined ? {} : { signal: deps.signal }),
          now,
        },
        {
          force: planOptions.force,
          due,
          replaces,
          beforeFirstOrder: async () => {
            if (hooks.pre.length === 0) return;
            const planned = ordered.map((item) => item.certificate.name);
            pre.push(...(await phase(hooks.pre, { phase: 'pre', dryRun: opts.dryRun, planned }, true)));
            const failed = pre.find((r) => !r.ok);
            if (failed !== undefined) {
              throw new GxitError('HOOK_FAILED', `${failureOf(failed)}; no order was placed`, {
                subject: failed.label,
                fix: 'fix the pre hook (run it by hand to see its output), then run again',
              });
            }
          },
          afterOrder,
        },
      );
    } catch (error) {
      // A configuration problem (ca_bundle, provider section) is the command's error, exit code 2.
      if (error instanceof GxitError && error.kind !== 'operational') throw error;
      // Loading the ordering side or opening the account failed: every lineage still waiting fails with it.
      const failure = error instanceof GxitError ? error : new GxitError('INTERNAL', messageOf(error), { cause: error });
      for (const item of ordered) {
        const { name, domains } = item.certificate;
        if (handled.has(name)) continue;
        if (!opts.dryRun) await baseStore.recordFailure?.(name, failure).catch(() => undefined);
        const reason = item.issueReason ?? 'due';
        await afterOrder({ name, domains, status: 'failed', reason, error: failure, durationMs: 0 });
      }
    }
  }

  if (deps.signal?.aborted) {
    // Interrupted: the lineages the run did not get to are not renewed.
    for (const item of ordered) {
      const entry = reports.get(item.certificate.name);
      if (entry === undefined || handled.has(entry.name)) continue;
      entry.status = 'failed';
      entry.result = { name: entry.name, domains: entry.domains, status: 'failed', reason: item.issueReason ?? 'due', error: interrupted(), durationMs: 0 };
    }
  }

  for (const item of redeploys) {
    if (deps.signal?.aborted) break;
    const entry = reports.get(item.certificate.name);
    if (entry === undefined) continue;
    entry.status = 'redeployed';
    await deploy(entry, item.snapshot.lineage?.liveVersion);
  }

  const post: HookRun[] = [];
  if (ordered.length > 0 && hooks.post.length > 0) {
    const lineages = [...reports.values()];
    const renewed = lineages
      .filter((l) => l.status === 'issued' || l.status === 'renewed' || l.status === 'dry-run')
      .map((l) => hookLineage(l.name, l.domains, l.result?.certificate?.version));
    const failed = lineages.filter((l) => l.status === 'failed').map((l) => ({ name: l.name, domains: l.domains }));
    post.push(...(await phase(hooks.post, { phase: 'post', dryRun: opts.dryRun, renewed, failed })));
    runProblems.push(...post.filter((r) => !r.ok).map(failureOf));
  }
  return report(pre, post, runProblems, orderConfig.server);
}

/** Ask the CA about a lineage's certificate and store the answer; the snapshot with the new state. */
async function refreshAri(deps: CycleDeps, ari: AriClient, snapshot: LineageSnapshot, nowMs: number, random: () => number): Promise<LineageSnapshot> {
  const cert = snapshot.certificate;
  const lineage = snapshot.lineage;
  if (cert?.certId === undefined || lineage === undefined) return snapshot;
  deps.reporter.step(snapshot.name, 'ari', `asking ${lineage.state.server} for renewal information`);
  const outcome = await ari.fetch(lineage.state.server, cert.certId);
  if (outcome.kind === 'error') {
    const fallback = ariStateOf(snapshot)?.window !== undefined ? 'the window learnt earlier' : "the certificate's lifetime";
    deps.reporter.warn(snapshot.name, `no renewal information from the CA (${outcome.message}); ${fallback} decides`);
  }
  const state = await recordAri(deps.store, snapshot.name, ariStateAfter(ariStateOf(snapshot), cert.certId, outcome, nowMs, random));
  return state === undefined ? snapshot : { ...snapshot, lineage: { ...lineage, state } };
}

/** A dry run stores nothing: no new version, no recorded failure. */
function dryRunStore(base: IssueStore, store: Store): IssueStore {
  return {
    loadAccount: (url) => base.loadAccount(url),
    saveAccountKey: (url, pem) => base.saveAccountKey(url, pem),
    saveAccountUrl: (url, accountUrl, email) => base.saveAccountUrl(url, accountUrl, email),
    lineageFacts: (name) => base.lineageFacts(name),
    async commitCertificate(certificate) {
      const lineage = await store.readLineage(certificate.name);
      return { version: lineage?.liveVersion ?? 0, liveDir: store.livePaths(certificate.name).dir };
    },
  };
}
