/**
 * One issue/renew run: lock -> decide -> pre hooks -> per lineage: order, then deploy hooks and the
 * served check (failed: on_failure hooks) -> redeploys -> post hooks -> report.
 *
 * The certificate stays whatever a hook does; hook and served-check failures are reported as
 * problems of the lineage, so the command exits non-zero. Losing the lock aborts the run's signal:
 * the order in progress stops and cleans up, and no store write starts after that.
 */
import { dirname, resolve as resolvePath } from 'node:path';
import { accountKeyOf, caOf, withCa, type CaSettings } from '../config/ca.js';
import { LETSENCRYPT_DIRECTORY, LETSENCRYPT_STAGING_DIRECTORY, type CertificateConfig, type HookCommand, type HooksConfig, type RenewerConfig } from '../config/types.js';
import { DEFAULT_HOOK_TIMEOUT_SECONDS } from '../config/renewal.js';
import type { DnsProvider } from '../dns/provider.js';
import { GxitError, messageOf } from '../errors.js';
import type { HookFacts, HookLineage, HookPhase } from '../hooks/env.js';
import { runPhase } from '../hooks/phase.js';
import { describeHookFailure, type HookRun } from '../hooks/run.js';
import { describeServedFailure, verifyServed } from '../hooks/served.js';
import type { OrderSession } from '../acme/session.js';
import type { AriClient } from '../renew/ari-client.js';
import { readSnapshot } from '../renew/facts.js';
import { lockLineages, type LockHolderInfo, type Locker, type Store, type WriteOptions } from '../store/contract.js';
import { abortError, anySignal } from './abort.js';
import { certificatesOf, decide, refreshAri, idleReport, withOthers, type Decision, type DecideDeps, type RunOptions } from './decide.js';
import { dryRunStore, lineageStore, type LineageStore } from './lineage-store.js';
import { orderLineage, type ChallengeDns, type LineageResult } from './order.js';
import { journaled, sweepLeftovers } from './journal.js';
import { clearFailure, recordRun } from './record.js';
import { initialReport, type CycleReport, type LineageReport } from './report.js';
import type { Reporter } from './reporter.js';

export type { CycleReport, LineageReport, LineageStatus } from './report.js';
export type { RunOptions } from './decide.js';

/** The heavy side of a run, loaded only when an order is placed (ordering.ts). */
export interface Ordering {
  session: OrderSession;
  provider: DnsProvider;
  dns: ChallengeDns;
}

export interface RunDeps {
  /** Only a renewer orders (a follower's renew syncs instead: src/cli/renew-command.ts). */
  config: RenewerConfig;
  store: Store;
  locker: Locker;
  reporter: Reporter;
  /** Loads the ACME session and the DNS provider for the CA the orders go to. */
  ordering: (config: RenewerConfig, store: LineageStore) => Promise<Ordering>;
  /** ARI over HTTP; without it no renewal information is fetched. */
  ari?: AriClient;
  /** Aborted by SIGINT/SIGTERM. */
  signal: AbortSignal;
  /** gxit-cert's environment: hooks get only what hooks/env.ts lets through. */
  parentEnv: NodeJS.ProcessEnv;
  now?: () => number;
  random?: () => number;
  /** How long the served-certificate check retries a server that still serves the old certificate. */
  servedDeadlineMs?: number;
  /** How long to wait for another run's lock; default 15 minutes. */
  lockWaitMs?: number;
  onLockWait?: (holder: LockHolderInfo | undefined) => void;
  onHookOutput?: (phase: HookPhase, label: string, text: string) => void;
  cleanupTimeoutMs?: number;
  /**
   * The configured DNS provider alone, for removing what earlier runs left in the journal before
   * anything else; without it leftovers are only reported.
   */
  leftoverProvider?: () => Promise<DnsProvider>;
}

const NO_HOOKS: HooksConfig = { pre: [], deploy: [], post: [], onFailure: [], timeoutMs: DEFAULT_HOOK_TIMEOUT_SECONDS * 1000 };
const SERVED_DEADLINE_MS = 10_000;
const LOCK_WAIT_MS = 15 * 60_000;

/** Where a dry run orders: certbot's convention, Let's Encrypt's staging CA instead of production. */
export function dryRunServer(server: string): string {
  return server === LETSENCRYPT_DIRECTORY ? LETSENCRYPT_STAGING_DIRECTORY : server;
}

/** Runs issue or renew under the lock of its lineages (the whole store's on the file store). */
export async function runOrders(deps: RunDeps, opts: RunOptions): Promise<CycleReport> {
  const names = certificatesOf(deps.config, opts).map((c) => c.name);
  const lock = await lockLineages(deps.locker, names, {
    signal: deps.signal,
    waitMs: deps.lockWaitMs ?? LOCK_WAIT_MS,
    ...(deps.onLockWait === undefined ? {} : { onWait: deps.onLockWait }),
  });
  try {
    const run = new RunState(deps, opts, anySignal([deps.signal, lock.lost]), { fence: lock.lost });
    return withOthers(deps.config, await run.execute(), opts);
  } finally {
    await lock.release();
  }
}

/** One run's state, with each stage of the flow as a method. */
class RunState {
  readonly now: () => number;
  readonly random: () => number;
  readonly hooks: HooksConfig;
  readonly hookCwd: string;
  readonly renewing: boolean;
  readonly orderConfig: RenewerConfig;
  readonly reports = new Map<string, LineageReport>();
  readonly handled = new Set<string>();
  readonly pre: HookRun[] = [];
  readonly post: HookRun[] = [];
  readonly runProblems: string[] = [];
  decision: Decision | undefined;

  constructor(
    readonly deps: RunDeps,
    readonly opts: RunOptions,
    /** Interrupts and the lock's `lost`. */
    readonly signal: AbortSignal,
    readonly write: WriteOptions,
  ) {
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.hooks = deps.config.hooks ?? NO_HOOKS;
    this.hookCwd = dirname(resolvePath(deps.config.source));
    this.renewing = opts.mode === 'renew';
    this.orderConfig = opts.dryRun ? { ...deps.config, server: dryRunServer(deps.config.server) } : deps.config;
  }

  async execute(): Promise<CycleReport> {
    await this.sweep();
    // Decide again under the lock: another run may have renewed while this one waited.
    const decision = await decide(this.decideDeps(), this.opts);
    this.decision = decision;
    const idle = idleReport(this.deps.config, decision, this.opts);
    if (idle !== undefined) return idle;
    for (const item of decision.plan) this.reports.set(item.certificate.name, initialReport(item, this.renewing));
    if (decision.ordered.length > 0) await this.orderAll(decision);
    if (this.signal.aborted) this.markNotReached(decision);
    await this.redeployAll(decision);
    if (decision.ordered.length > 0) await this.postHooks();
    if (!this.opts.dryRun) await this.notify(decision);
    return this.report();
  }

  /** First of all, under the lock: remove the TXT values earlier runs left behind (journal.ts). */
  async sweep(): Promise<void> {
    const journal = this.deps.store.journal;
    if (journal === undefined) return;
    const load = this.deps.leftoverProvider;
    await this.keep('*', 'could not remove the TXT records earlier runs left behind', () =>
      sweepLeftovers({
        journal,
        provider: load ?? (() => Promise.reject(new GxitError('INTERNAL', 'no provider to remove them with'))),
        signal: this.signal,
        reporter: this.deps.reporter,
        ...(this.deps.cleanupTimeoutMs === undefined ? {} : { timeoutMs: this.deps.cleanupTimeoutMs }),
      }),
    );
  }

  /** notify: one message per failure/renewal/expiry; one that cannot be sent is a warning only. */
  async notify(decision: Decision): Promise<void> {
    const config = this.deps.config.notify;
    if (config === undefined) return;
    const { localHost, notificationsFor, sendNotifications } = await import('../hooks/notify.js');
    const outcomes = [...this.reports.values()].map((entry) => {
      const snapshot = decision.snapshots.get(entry.name);
      const issuedNotAfter = entry.result?.certificate?.notAfter;
      const liveNotAfter = snapshot?.certificate === undefined ? undefined : new Date(snapshot.certificate.notAfterMs).toISOString();
      const expiry = entry.status === 'issued' || entry.status === 'renewed' ? issuedNotAfter : liveNotAfter;
      const status = entry.status === 'failed' || entry.status === 'issued' || entry.status === 'renewed' || entry.status === 'current' ? entry.status : ('other' as const);
      const error = entry.result?.error?.message;
      return { name: entry.name, domains: entry.domains, status, ...(error === undefined ? {} : { error }), ...(expiry === undefined ? {} : { expiry }) };
    });
    const notifications = notificationsFor(outcomes, config.on, { mode: this.opts.mode, nowMs: this.now(), host: localHost() });
    if (notifications.length === 0) return;
    const problems = await sendNotifications(config, notifications);
    for (const problem of problems) this.deps.reporter.warn('*', problem);
  }

  decideDeps(): DecideDeps {
    const { config, store, reporter, ari } = this.deps;
    return { config, store, reporter, ...(ari === undefined ? {} : { ari }), write: this.write, now: this.now, random: this.random };
  }

  report(): CycleReport {
    const lineages = [...this.reports.values()];
    const ok = this.runProblems.length === 0 && lineages.every((l) => l.status !== 'failed' && l.problems.length === 0);
    const ordered = (this.decision?.ordered.length ?? 0) > 0;
    return { mode: this.opts.mode, dryRun: this.opts.dryRun, server: this.orderConfig.server, ordered, lineages, pre: this.pre, post: this.post, problems: this.runProblems, ok };
  }

  phase(hookList: readonly HookCommand[], facts: HookFacts, stopOnFailure = false): Promise<HookRun[]> {
    const { reporter, onHookOutput } = this.deps;
    return runPhase({
      hooks: hookList,
      facts,
      parentEnv: this.deps.parentEnv,
      cwd: this.hookCwd,
      timeoutMs: this.hooks.timeoutMs,
      stopOnFailure,
      signal: this.signal,
      onStart: (label) => reporter.step(facts.lineage?.name ?? '*', 'hook', `running ${facts.phase.replace('_', '-')} hook ${label}`),
      ...(onHookOutput === undefined ? {} : { onOutput: (label: string, text: string) => onHookOutput(facts.phase, label, text) }),
    });
  }

  failureOf(run: HookRun): string {
    return describeHookFailure(run, this.hooks.timeoutMs);
  }

  hookLineage(name: string, domains: string[], version: number | undefined): HookLineage {
    return { name, domains, live: this.deps.store.livePaths(name), ...(version === undefined ? {} : { version }) };
  }

  /** Bookkeeping whose failure must not hide the result: it becomes a warning. */
  async keep(name: string, what: string, work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.deps.reporter.warn(name, `${what}: ${messageOf(error)}`);
    }
  }

  /** Pre hooks once, then each ordered lineage in turn; one failure does not stop the rest. */
  async orderAll(decision: Decision): Promise<void> {
    const base = lineageStore(this.deps.store, { ...this.write, expectedVersions: decision.versions, now: () => new Date(this.now()) });
    const store = this.opts.dryRun ? dryRunStore(base, this.deps.store) : base;
    // The directory's renewalInfo URL is needed right after issuance: learn it while the order runs.
    if (this.deps.ari !== undefined && !this.opts.dryRun) this.deps.ari.renewalInfoUrl(this.orderConfig.server).catch(() => undefined);
    // One ordering (ACME session and account) per CA and EAB kid; the first is loaded before the pre
    // hooks so a configuration problem fails the command before anything runs.
    const orderings = new Map<string, Promise<Ordering>>();
    // Every TXT value goes through the DNS journal first (journal.ts), when the store keeps one.
    const journal = this.deps.store.journal;
    const journalContext = journal === undefined ? undefined : { journal, command: this.opts.mode, write: this.write, now: () => new Date(this.now()) };
    const orderingFor = (ca: CaSettings): Promise<Ordering> => {
      const key = accountKeyOf(ca);
      let found = orderings.get(key);
      if (found === undefined) {
        found = this.deps.ordering(withCa(this.orderConfig, ca), store).then((o) =>
          journalContext === undefined ? o : { ...o, provider: journaled(o.provider, journalContext) },
        );
        orderings.set(key, found);
      }
      return found;
    };
    const first = decision.ordered[0];
    if (first !== undefined) {
      try {
        await orderingFor(this.caFor(first.certificate));
      } catch (error) {
        // A configuration problem (ca_bundle, provider section) is the command's error, exit code 2.
        if (error instanceof GxitError && error.kind !== 'operational') throw error;
        await this.failRemaining(decision, store, asGxit(error));
        return;
      }
    }
    const refused = await this.preHooks(decision);
    for (const item of decision.ordered) {
      const { name, domains } = item.certificate;
      const reason = item.issueReason ?? 'due';
      const ca = this.caFor(item.certificate);
      let result: LineageResult;
      let ordering: Ordering | undefined;
      let failure = refused;
      if (failure === undefined) {
        try {
          ordering = await orderingFor(ca);
        } catch (error) {
          failure = asGxit(error);
        }
      }
      if (failure !== undefined || ordering === undefined) {
        const error = failure ?? new GxitError('INTERNAL', `no ordering for ${name}`);
        result = { name, domains, status: 'failed', reason, error, durationMs: 0 };
        await store.recordFailure(name, error).catch(() => undefined);
      } else {
        result = await orderLineage(
          item.certificate,
          reason,
          {
            ...ordering,
            store,
            reporter: this.deps.reporter,
            signal: this.signal,
            server: ca.server,
            now: this.now,
            ...(this.deps.cleanupTimeoutMs === undefined ? {} : { cleanupTimeoutMs: this.deps.cleanupTimeoutMs }),
            journaled: journal !== undefined,
          },
          decision.replaces.get(name),
        );
      }
      await this.afterOrder(result);
      if (this.signal.aborted) break;
    }
  }

  /** The CA a certificate is ordered from (a dry run's staging instead of Let's Encrypt production). */
  caFor(certificate: CertificateConfig): CaSettings {
    const ca = caOf(this.deps.config, certificate);
    return this.opts.dryRun ? { ...ca, server: dryRunServer(ca.server) } : ca;
  }

  /** The pre hooks; the error every order fails with when one of them fails (no order is placed then). */
  async preHooks(decision: Decision): Promise<GxitError | undefined> {
    if (this.hooks.pre.length === 0) return undefined;
    const planned = decision.ordered.map((item) => item.certificate.name);
    this.pre.push(...(await this.phase(this.hooks.pre, { phase: 'pre', dryRun: this.opts.dryRun, planned }, true)));
    const failed = this.pre.find((r) => !r.ok);
    if (failed === undefined) return undefined;
    return new GxitError('HOOK_FAILED', `${this.failureOf(failed)}; no order was placed`, {
      subject: failed.label,
      fix: 'fix the pre hook (run it by hand to see its output), then run again',
    });
  }

  /** Loading the ordering side failed: every lineage still waiting fails with it. */
  async failRemaining(decision: Decision, store: LineageStore, failure: GxitError): Promise<void> {
    for (const item of decision.ordered) {
      const { name, domains } = item.certificate;
      if (this.handled.has(name)) continue;
      await store.recordFailure(name, failure).catch(() => undefined);
      await this.afterOrder({ name, domains, status: 'failed', reason: item.issueReason ?? 'due', error: failure, durationMs: 0 });
    }
  }

  /** Record the outcome, then deploy (issued) or run the on_failure hooks (failed). */
  async afterOrder(result: LineageResult): Promise<void> {
    this.handled.add(result.name);
    const entry = this.reports.get(result.name);
    if (entry === undefined) return;
    const before = this.decision?.snapshots.get(result.name);
    entry.result = result;
    if (result.reason !== undefined) entry.reason = result.reason;
    const at = new Date(this.now()).toISOString();
    const liveVersion = before?.lineage?.liveVersion;

    if (result.status === 'failed') {
      entry.status = 'failed';
      if (!this.opts.dryRun) await this.keep(result.name, 'could not record the failure', () => recordRun(this.deps.store, result.name, { lastFailureAt: at }, this.write));
      if (this.hooks.onFailure.length > 0) {
        const lineage = this.hookLineage(result.name, result.domains, liveVersion);
        const runs = await this.phase(this.hooks.onFailure, { phase: 'on_failure', dryRun: this.opts.dryRun, lineage, error: result.error?.message ?? 'failed' });
        entry.hooks.push(...runs);
        entry.problems.push(...runs.filter((r) => !r.ok).map((r) => this.failureOf(r)));
      }
      return;
    }
    if (result.status !== 'issued') return;

    if (this.opts.dryRun) {
      entry.status = 'dry-run';
      // A successful run of any kind clears an earlier failure (status stops warning about it).
      await this.keep(result.name, 'could not record the success', () => clearFailure(this.deps.store, result.name, at, this.write));
      if (this.opts.runDeployHooks && this.hooks.deploy.length > 0) {
        const lineage = this.hookLineage(result.name, result.domains, liveVersion);
        const runs = await this.phase(this.hooks.deploy, { phase: 'deploy', dryRun: true, lineage });
        entry.hooks.push(...runs);
        entry.problems.push(...runs.filter((r) => !r.ok).map((r) => this.failureOf(r)));
      }
      return;
    }

    entry.status = before?.lineage === undefined ? 'issued' : 'renewed';
    await this.keep(result.name, 'could not record the success', () => recordRun(this.deps.store, result.name, { lastSuccessAt: at }, this.write));
    await this.deploy(entry, result.certificate?.version);
    await this.ariAfterIssue(result.name);
  }

  /** RFC 9773 §4.3: ask for the new certificate's renewal information right after issuance. */
  async ariAfterIssue(name: string): Promise<void> {
    const ari = this.deps.ari;
    if (ari === undefined) return;
    const fresh = await readSnapshot(this.deps.store, name);
    if (fresh.lineage === undefined) return;
    await this.keep(name, 'could not fetch renewal information', () => refreshAri(this.decideDeps(), ari, fresh));
  }

  /** Deploy hooks, then the served check; the outcome is recorded for status and a later redeploy. */
  async deploy(entry: LineageReport, version: number | undefined): Promise<void> {
    const at = new Date(this.now()).toISOString();
    let deployed: { ok: boolean; error?: string } | undefined;
    if (this.hooks.deploy.length > 0) {
      const runs = await this.phase(this.hooks.deploy, { phase: 'deploy', dryRun: false, lineage: this.hookLineage(entry.name, entry.domains, version) });
      entry.hooks.push(...runs);
      const failures = runs.filter((r) => !r.ok).map((r) => this.failureOf(r));
      entry.problems.push(...failures);
      deployed = failures.length === 0 ? { ok: true } : { ok: false, error: failures[0] as string };
    }
    const servers = this.deps.config.verifyServed ?? [];
    const cert = servers.length > 0 && deployed?.ok !== false ? (await readSnapshot(this.deps.store, entry.name)).certificate : undefined;
    if (cert !== undefined) {
      this.deps.reporter.step(entry.name, 'verify', `checking that ${servers.length} server(s) serve the new certificate`);
      const expected = { fingerprint256: cert.fingerprint256, serial: cert.serial };
      entry.served = await verifyServed(servers, entry.domains, expected, { deadlineMs: this.deps.servedDeadlineMs ?? SERVED_DEADLINE_MS });
      const failures = entry.served.filter((c) => !c.ok).map((c) => describeServedFailure(c, expected));
      entry.problems.push(...failures);
      deployed = failures.length === 0 ? (deployed ?? { ok: true }) : { ok: false, error: failures[0] as string };
    }
    if (version !== undefined && (deployed !== undefined || entry.status === 'redeployed')) {
      const outcome = deployed ?? { ok: true };
      const record = { at, version, ok: outcome.ok, ...(outcome.error === undefined ? {} : { error: outcome.error }) };
      await this.keep(entry.name, 'could not record the deploy', () => recordRun(this.deps.store, entry.name, { deploy: record }, this.write));
    }
  }

  /** Interrupted: the lineages the run did not get to are not renewed. */
  markNotReached(decision: Decision): void {
    const error = abortError(this.signal);
    for (const item of decision.ordered) {
      const entry = this.reports.get(item.certificate.name);
      if (entry === undefined || this.handled.has(entry.name)) continue;
      entry.status = 'failed';
      entry.result = { name: entry.name, domains: entry.domains, status: 'failed', reason: item.issueReason ?? 'due', error, durationMs: 0 };
    }
  }

  async redeployAll(decision: Decision): Promise<void> {
    for (const item of decision.redeploys) {
      if (this.signal.aborted) break;
      const entry = this.reports.get(item.certificate.name);
      if (entry === undefined) continue;
      entry.status = 'redeployed';
      await this.deploy(entry, item.snapshot.lineage?.liveVersion);
    }
  }

  async postHooks(): Promise<void> {
    if (this.hooks.post.length === 0) return;
    const lineages = [...this.reports.values()];
    const renewed = lineages
      .filter((l) => l.status === 'issued' || l.status === 'renewed' || l.status === 'dry-run')
      .map((l) => this.hookLineage(l.name, l.domains, l.result?.certificate?.version));
    const failed = lineages.filter((l) => l.status === 'failed').map((l) => ({ name: l.name, domains: l.domains }));
    this.post.push(...(await this.phase(this.hooks.post, { phase: 'post', dryRun: this.opts.dryRun, renewed, failed })));
    this.runProblems.push(...this.post.filter((r) => !r.ok).map((r) => this.failureOf(r)));
  }
}

function asGxit(error: unknown): GxitError {
  return error instanceof GxitError ? error : new GxitError('INTERNAL', messageOf(error), { cause: error });
}
