/**
 * `gxit-cert watch`: the follower as a service. It LISTENs for the commits of the cluster and syncs
 * the lineage named in each notification at once; on every (re)connect and every 10 minutes it
 * reconciles every configured certificate (a notification sent while it was away is not lost: the
 * versions are). A lost connection is retried with backoff; the local files keep being served
 * meanwhile. SIGTERM/SIGINT stop it after the sync in progress.
 */
import type { Client } from 'pg';
import type { Config } from '../config/types.js';
import { pause } from '../timers.js';
import type { OpenedClusterStore } from '../store/cluster/store.js';
import { followLineage, type FollowReport } from './cluster-follow.js';
import { loadCommandConfig } from './command-context.js';
import { hookOutputPrinter } from './lineage-output.js';
import type { CommonOptions } from './main.js';
import { EXIT_OK, formatError, reportCommandError } from './output.js';
import { followLines, requireCluster } from './sync-command.js';
import { watchSession } from './watch-session.js';

export interface WatchOptions extends CommonOptions {
  /** Seconds between full reconciles (default 600). */
  reconcileInterval?: string;
}

const RECONCILE_MS = 10 * 60_000;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 30_000;

/** The next wait after a failed (re)connect: doubling, capped (pure). */
export function nextBackoff(previousMs: number | undefined): number {
  return previousMs === undefined ? BACKOFF_MIN_MS : Math.min(BACKOFF_MAX_MS, previousMs * 2);
}

/** The lineage (and version) a notification names, if it is one of ours (the payload carries ids only). */
export function notifiedLineage(payload: string | undefined, configured: ReadonlySet<string>): { name: string; version?: number } | undefined {
  if (payload === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(payload);
    if (typeof value !== 'object' || value === null || !('lineage' in value)) return undefined;
    const { lineage: name, version } = value as { lineage: unknown; version?: unknown };
    if (typeof name !== 'string' || !configured.has(name)) return undefined;
    return typeof version === 'number' && Number.isInteger(version) ? { name, version } : { name };
  } catch {
    return undefined;
  }
}

const CLOSE_MS = 5_000;

async function bounded(closing: Promise<void> | undefined): Promise<void> {
  if (closing === undefined) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closing.catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_MS)))]);
  clearTimeout(timer);
}

export async function runWatch(opts: WatchOptions): Promise<number> {
  const warnings: string[] = [];
  try {
    const config = await loadCommandConfig(opts.config, opts, warnings);
    requireCluster(config, 'watch');
    const reconcileMs = opts.reconcileInterval === undefined ? RECONCILE_MS : Math.max(1, Number(opts.reconcileInterval)) * 1000;
    const { listenForInterrupts } = await import('./signals.js');
    const interrupts = listenForInterrupts();
    try {
      await watchLoop(config, opts, reconcileMs, interrupts.signal);
    } finally {
      interrupts.stop();
    }
    return EXIT_OK;
  } catch (error) {
    return reportCommandError(error, opts, warnings);
  }
}

async function watchLoop(config: Config & { cluster: NonNullable<Config['cluster']> }, opts: WatchOptions, reconcileMs: number, stop: AbortSignal): Promise<void> {
  const err = process.stderr;
  const node = config.cluster.node;
  const configured = new Set(config.certificates.map((c) => c.name));
  const onHookOutput = hookOutputPrinter(opts);
  const report = (r: FollowReport): void => {
    if (r.status === 'current' && !opts.verbose) return;
    for (const line of followLines(r, node)) err.write(`${line}\n`);
  };
  const [{ openClusterStore }, { connect, databaseError }, { CHANNEL }, { localVersion }, { runQuery }] = await Promise.all([
    import('../store/cluster/store.js'),
    import('../store/cluster/connect.js'),
    import('../store/cluster/rows.js'),
    import('../store/cluster/local.js'),
    import('../store/cluster/query.js'),
  ]);
  let backoff: number | undefined;

  while (!stop.aborted) {
    let opened: OpenedClusterStore | undefined;
    let listener: Client | undefined;
    try {
      opened = await openClusterStore({ stateDir: config.stateDir, cluster: config.cluster });
      const store = opened;
      // Its failures reach the session's own error listener (connect keeps one that swallows them).
      const listening = await connect(config.cluster, opened.secrets, { purpose: 'watch' });
      listener = listening;
      // Built once per connection: a sync allocates as little as it can (docs/cluster.md, "Memory of watch").
      const followDeps = { config, opened: store, parentEnv: process.env, signal: stop, ...(onHookOutput === undefined ? {} : { onHookOutput }) };
      const failure = await watchSession({
        listener: listening,
        listen: () => runQuery(listening, `LISTEN ${CHANNEL}`),
        watched: [store.db],
        configured,
        notified: (payload) => notifiedLineage(payload, configured),
        localVersion: (name) => localVersion(store.fs, store.stateDir, name),
        async sync(name) {
          const certificate = config.certificates.find((c) => c.name === name);
          if (certificate === undefined) return undefined;
          const r = await followLineage(followDeps, certificate);
          report(r);
          // The database (or this node's files) failed: reconnect, with backoff.
          return r.status === 'failed' ? (r.error ?? new Error(`${name}: the sync failed`)) : undefined;
        },
        reconcileMs,
        stop,
        onListening() {
          err.write(`watch: node ${node} listening on ${store.database}; reconciling ${configured.size} certificate(s)\n`);
          backoff = undefined;
        },
      });
      if (failure !== undefined && !stop.aborted) throw databaseError(config.cluster, 'the connection', failure);
    } catch (error) {
      if (stop.aborted) break;
      backoff = nextBackoff(backoff);
      err.write(`watch: ${formatError(error).replace(/^error: /, '')}; retrying in ${(backoff / 1000).toFixed(1)} s\n`);
      await pause(backoff, stop);
    } finally {
      // A connection that broke half-way may never confirm its end: do not let it hold the loop.
      await bounded(listener?.end());
      await bounded(opened?.close());
    }
  }
  err.write(`watch: node ${node} stopped\n`);
}
