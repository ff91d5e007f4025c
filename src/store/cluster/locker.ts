/**
 * One renewer at a time: a session advisory lock per scope (lineage), each on a connection of its
 * own that does nothing else but the fenced commit. PostgreSQL drops the lock with the session, so a
 * killed holder never blocks the cluster. The lock counts as lost, and `lost` aborts, when that
 * connection reports an error or ends, or when its heartbeat query fails: the holder must then stop
 * before it writes (the commit runs on this very connection, so it cannot succeed without the lock).
 */
import type { Client } from 'pg';
import type { ClusterConfig } from '../../config/types.js';
import { GxitError } from '../../errors.js';
import type { AcquireOptions, Lock, Locker, LockHolderInfo } from '../contract.js';
import { lockLostError } from '../contract.js';
import { connect, databaseError, databaseName, type ClusterSecrets } from './connect.js';
import { runQuery } from './query.js';
import { LOCK_NAMESPACE } from './schema.js';

/** A held lock and the connection it lives on (for the fenced commit). */
export interface HeldLock extends Lock {
  readonly scope: string;
  readonly client: Client;
  /** Throws LOCK_LOST when the lock is gone: the fence checked right before COMMIT. */
  assertHeld(what: string): void;
}

export interface ClusterLockerOptions {
  heartbeatMs?: number;
  pollMs?: number;
}

export interface ClusterLocker extends Locker {
  acquire(scope: string, options: AcquireOptions): Promise<HeldLock>;
  /** The lock this process holds for the scope, if any. */
  held(scope: string): HeldLock | undefined;
  releaseAll(): Promise<void>;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

function interrupted(signal: AbortSignal): unknown {
  return signal.reason ?? new GxitError('INTERRUPTED', 'interrupted while waiting for the cluster lock');
}

export function clusterLocker(config: ClusterConfig, secrets: ClusterSecrets, options: ClusterLockerOptions = {}): ClusterLocker {
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  const pollMs = options.pollMs ?? 200;
  const holding = new Map<string, HeldLock>();
  const db = databaseName(config);

  async function holderOf(client: Client, scope: string): Promise<LockHolderInfo | undefined> {
    // application_name carries the holder's node ("gxit-cert web1 lock").
    const found = await runQuery<{ pid: number; application_name: string; backend_start: Date }>(
      client,
      `SELECT a.pid, a.application_name, a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
       WHERE l.locktype = 'advisory' AND l.classid = $1::oid AND l.objid = hashtext($2)::oid AND l.granted LIMIT 1`,
      [LOCK_NAMESPACE, scope],
    );
    const row = found.rows[0];
    if (row === undefined) return undefined;
    const node = /^gxit-cert (\S+)/.exec(row.application_name)?.[1];
    return { pid: row.pid, ...(node === undefined ? {} : { hostname: node }), since: row.backend_start.toISOString() };
  }

  return {
    held: (scope) => holding.get(scope),
    async releaseAll() {
      await Promise.all([...holding.values()].map((lock) => lock.release()));
    },
    async acquire(scope, opts) {
      if (holding.has(scope)) throw new GxitError('INTERNAL', `the cluster lock for ${scope} is already held by this process`, { subject: scope });
      const lost = new AbortController();
      let released = false;
      const markLost = (why: unknown): void => {
        if (!lost.signal.aborted) lost.abort(why);
      };
      const client = await connect(config, secrets, { purpose: 'lock' }, (error) => markLost(error));
      client.on('end', () => {
        if (!released) markLost(new Error('the lock connection ended'));
      });
      const fail = async (error: unknown): Promise<never> => {
        released = true;
        await client.end().catch(() => undefined);
        throw error;
      };

      const started = Date.now();
      let told = false;
      for (;;) {
        if (opts.signal?.aborted) return fail(interrupted(opts.signal));
        let got: boolean;
        try {
          const result = await runQuery<{ ok: boolean }>(client, 'SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [LOCK_NAMESPACE, scope]);
          got = result.rows[0]?.ok === true;
        } catch (error) {
          return fail(databaseError(config, `taking the cluster lock for ${scope}`, error));
        }
        if (got) break;
        const holder = await holderOf(client, scope).catch(() => undefined);
        if (Date.now() - started >= opts.waitMs) {
          const who = holder === undefined ? 'another run' : `node ${holder.hostname ?? '?'} (backend pid ${holder.pid ?? '?'})`;
          return fail(
            new GxitError('LOCKED', `${scope}: the cluster lock in ${db} is held by ${who}`, {
              subject: scope,
              fix: 'wait for that run to finish; a holder that dies loses the lock with its database session',
            }),
          );
        }
        if (!told) {
          told = true;
          opts.onWait?.(holder);
        }
        await sleep(pollMs, opts.signal);
      }

      // The heartbeat notices a silently dead connection long before TCP keepalives would.
      let beating = false;
      const heartbeat = setInterval(() => {
        if (beating || released || lost.signal.aborted) return;
        beating = true;
        runQuery(client, 'SELECT 1')
          .catch((error: unknown) => markLost(error))
          .finally(() => {
            beating = false;
          });
      }, heartbeatMs);
      heartbeat.unref();

      const lock: HeldLock = {
        scope,
        client,
        lost: lost.signal,
        assertHeld(what) {
          if (lost.signal.aborted || released) throw lockLostError(what);
        },
        async release() {
          if (released) return;
          released = true;
          clearInterval(heartbeat);
          holding.delete(scope);
          if (!lost.signal.aborted) await runQuery(client, 'SELECT pg_advisory_unlock($1, hashtext($2))', [LOCK_NAMESPACE, scope]).catch(() => undefined);
          // Ending the session drops the lock in any case.
          await client.end().catch(() => undefined);
        },
      };
      holding.set(scope, lock);
      return lock;
    },
  };
}
