/**
 * `gxit-cert watch`: the follower as a service. It LISTENs for the commits of the cluster and syncs
 * the lineage named in each notification at once; on every (re)connect and every 10 minutes it
 * reconciles every configured certificate (a notification sent while it was away is not lost: the
 * versions are). A lost connection is retried with backoff; the local files keep being served
 * meanwhile. SIGTERM/SIGINT stop it after the sync in progress.
 */
import type { Client, Notification } from 'pg';
import type { Config } from '../config/types.js';
import type { OpenedClusterStore } from '../store/cluster/store.js';
import { followLineage, type FollowReport } from './cluster-follow.js';
import { loadCommandConfig } from './command-context.js';
import { hookOutputPrinter } from './lineage-output.js';
import type { CommonOptions } from './main.js';
import { EXIT_OK, formatError, reportCommandError } from './output.js';
import { followLines, requireCluster } from './sync-command.js';
import { SyncQueue } from './sync-queue.js';

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

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

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
  const [{ openClusterStore }, { connect, databaseError }, { CHANNEL }, { localVersion }] = await Promise.all([
    import('../store/cluster/store.js'),
    import('../store/cluster/connect.js'),
    import('../store/cluster/rows.js'),
    import('../store/cluster/local.js'),
  ]);
  let backoff: number | undefined;

  while (!stop.aborted) {
    let opened: OpenedClusterStore | undefined;
    let listener: Client | undefined;
    const broken = new AbortController();
    try {
      opened = await openClusterStore({ stateDir: config.stateDir, cluster: config.cluster });
      const store = opened;
      listener = await connect(config.cluster, opened.secrets, { purpose: 'watch' }, (error) => broken.abort(error));
      listener.on('end', () => broken.abort(new Error('the connection ended')));
      store.db.on('error', (error: Error) => broken.abort(error));

      const report = (r: FollowReport): void => {
        if (r.status === 'current' && !opts.verbose) return;
        for (const line of followLines(r, node)) err.write(`${line}\n`);
      };
      const queue = new SyncQueue(
        async (name) => {
          const certificate = config.certificates.find((c) => c.name === name);
          if (certificate === undefined) return;
          const r = await followLineage({ config, opened: store, parentEnv: process.env, signal: stop, ...(onHookOutput === undefined ? {} : { onHookOutput }) }, certificate);
          report(r);
          // The database (or this node's files) failed: reconnect, with backoff.
          if (r.status === 'failed') broken.abort(r.error);
        },
        stop,
        (name, error) => broken.abort(error instanceof Error ? error : new Error(`${name}: ${String(error)}`)),
      );
      const enqueue = (names: Iterable<string>): void => queue.add(names);

      listener.on('notification', (message: Notification) => {
        const notified = notifiedLineage(message.payload, configured);
        if (notified === undefined) return;
        // A version this node already has (its own commit, a repeated notification) needs no database read.
        void localVersion(store.fs, store.stateDir, notified.name)
          .catch(() => undefined)
          .then((local) => {
            if (local === undefined || notified.version === undefined || local < notified.version) enqueue([notified.name]);
          });
      });
      await listener.query(`LISTEN ${CHANNEL}`);
      err.write(`watch: node ${node} listening on ${opened.database}; reconciling ${configured.size} certificate(s)\n`);
      backoff = undefined;
      enqueue(configured);
      const timer = setInterval(() => enqueue(configured), reconcileMs);
      try {
        await new Promise<void>((resolve) => {
          if (stop.aborted || broken.signal.aborted) return resolve();
          stop.addEventListener('abort', () => resolve(), { once: true });
          broken.signal.addEventListener('abort', () => resolve(), { once: true });
        });
      } finally {
        clearInterval(timer);
        await queue.idle();
      }
      if (broken.signal.aborted && !stop.aborted) throw databaseError(config.cluster, 'the connection', broken.signal.reason);
    } catch (error) {
      if (stop.aborted) break;
      backoff = nextBackoff(backoff);
      err.write(`watch: ${formatError(error).replace(/^error: /, '')}; retrying in ${(backoff / 1000).toFixed(1)} s\n`);
      await sleep(backoff, stop);
    } finally {
      // A connection that broke half-way may never confirm its end: do not let it hold the loop.
      await bounded(listener?.end());
      await bounded(opened?.close());
    }
  }
  err.write(`watch: node ${node} stopped\n`);
}
