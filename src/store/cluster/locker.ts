/**
 * One renewer at a time per lineage: a session advisory lock per scope (lineage), on a connection of
 * its own that does nothing else but the fenced commit. A run takes the locks of the lineages it
 * works on (acquireLineages) together with a shared hold of the global scope, so runs on different
 * lineages go on side by side while an account change or a removal (GLOBAL_SCOPE, exclusive) waits
 * for all of them. PostgreSQL drops the locks with the session, so a killed holder never blocks the
 * cluster. The lock counts as lost, and `lost` aborts, when that
 * connection reports an error or ends, or when its heartbeat query fails: the holder must then stop
 * before it writes (the commit runs on this very connection, so it cannot succeed without the lock).
 */
import type { Client } from 'pg';
import type { ClusterConfig } from '../../config/types.js';
import { GxitError } from '../../errors.js';
import { pause } from '../../timers.js';
import type { AcquireOptions, Lock, Locker, LockHolderInfo } from '../contract.js';
import { GLOBAL_SCOPE, lockLostError } from '../contract.js';
import { connect, databaseError, databaseName, type ClusterSecrets } from './connect.js';
import { runQuery } from './query.js';
import { LOCK_NAMESPACE } from './schema.js';

/** A held lock and the connection it lives on (for the fenced commit). */
export interface HeldLock extends Lock {
  /** The scopes this lock holds exclusively (one scope, or a run's lineages). */
  readonly scopes: readonly string[];
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
  acquireLineages(names: readonly string[], options: AcquireOptions): Promise<HeldLock>;
  /** The lock this process holds for the scope, if any. */
  held(scope: string): HeldLock | undefined;
  releaseAll(): Promise<void>;
}

function interrupted(signal: AbortSignal): unknown {
  return signal.reason ?? new GxitError('INTERRUPTED', 'interrupted while waiting for the cluster lock');
}

/** One advisory lock of a Lock: its scope, and whether it is held shared (the global scope during a run). */
interface LockKey {
  scope: string;
  shared: boolean;
}

/** The keys of a run on these lineages: the global scope shared, then each lineage once, sorted. */
export function lineageKeys(names: readonly string[]): LockKey[] {
  const lineages = [...new Set(names)].sort().map((scope) => ({ scope, shared: false }));
  return [{ scope: GLOBAL_SCOPE, shared: true }, ...lineages];
}

const tryLock = (key: LockKey): string => (key.shared ? 'pg_try_advisory_lock_shared' : 'pg_try_advisory_lock');
const unlock = (key: LockKey): string => (key.shared ? 'pg_advisory_unlock_shared' : 'pg_advisory_unlock');

export function clusterLocker(config: ClusterConfig, secrets: ClusterSecrets, options: ClusterLockerOptions = {}): ClusterLocker {
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  const pollMs = options.pollMs ?? 200;
  const holding = new Map<string, HeldLock>();
  const db = databaseName(config);

  async function holderOf(client: Client, scope: string): Promise<LockHolderInfo | undefined> {
    // application_name carries the holder's node ("gxit-cert web1 lock"). Another session only: a
    // shared hold of our own does not count.
    const found = await runQuery<{ pid: number; application_name: string; backend_start: Date }>(
      client,
      `SELECT a.pid, a.application_name, a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
       WHERE l.locktype = 'advisory' AND l.classid = $1::oid AND l.objid = hashtext($2)::oid AND l.granted
         AND l.pid <> pg_backend_pid() LIMIT 1`,
      [LOCK_NAMESPACE, scope],
    );
    const row = found.rows[0];
    if (row === undefined) return undefined;
    const node = /^gxit-cert (\S+)/.exec(row.application_name)?.[1];
    return { pid: row.pid, ...(node === undefined ? {} : { hostname: node }), since: row.backend_start.toISOString() };
  }

  /** Takes every key or none: the first key another session holds, undefined when all were taken. */
  async function tryAll(client: Client, keys: readonly LockKey[]): Promise<LockKey | undefined> {
    const taken: LockKey[] = [];
    for (const key of keys) {
      const result = await runQuery<{ ok: boolean }>(client, `SELECT ${tryLock(key)}($1, hashtext($2)) AS ok`, [LOCK_NAMESPACE, key.scope]);
      if (result.rows[0]?.ok !== true) {
        // Nothing is held while waiting, so two runs that want overlapping lineages cannot deadlock.
        for (const held of taken.reverse()) await runQuery(client, `SELECT ${unlock(held)}($1, hashtext($2))`, [LOCK_NAMESPACE, held.scope]);
        return key;
      }
      taken.push(key);
    }
    return undefined;
  }

  async function lockKeys(keys: readonly LockKey[], opts: AcquireOptions): Promise<HeldLock> {
    const scopes = keys.filter((k) => !k.shared).map((k) => k.scope);
    const label = scopes.length === 0 ? GLOBAL_SCOPE : scopes.join(', ');
    for (const scope of scopes) {
      if (holding.has(scope)) throw new GxitError('INTERNAL', `the cluster lock for ${scope} is already held by this process`, { subject: scope });
    }
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
      let busy: LockKey | undefined;
      try {
        busy = await tryAll(client, keys);
      } catch (error) {
        return fail(databaseError(config, `taking the cluster lock for ${label}`, error));
      }
      if (busy === undefined) break;
      const holder = await holderOf(client, busy.scope).catch(() => undefined);
      if (Date.now() - started >= opts.waitMs) {
        const who = holder === undefined ? 'another run' : `node ${holder.hostname ?? '?'} (backend pid ${holder.pid ?? '?'})`;
        const what = busy.shared ? `${GLOBAL_SCOPE} (an account change or a removal)` : busy.scope;
        return fail(
          new GxitError('LOCKED', `${what}: the cluster lock in ${db} is held by ${who}`, {
            subject: busy.scope,
            fix: 'wait for that run to finish; a holder that dies loses the lock with its database session',
          }),
        );
      }
      if (!told) {
        told = true;
        opts.onWait?.(holder);
      }
      await pause(pollMs, opts.signal);
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
      scopes,
      client,
      lost: lost.signal,
      assertHeld(what) {
        if (lost.signal.aborted || released) throw lockLostError(what);
      },
      async release() {
        if (released) return;
        released = true;
        clearInterval(heartbeat);
        for (const scope of scopes) holding.delete(scope);
        // Ending the session drops every lock it holds, whatever the unlock calls did.
        if (!lost.signal.aborted) await runQuery(client, 'SELECT pg_advisory_unlock_all()').catch(() => undefined);
        await client.end().catch(() => undefined);
      },
    };
    for (const scope of scopes) holding.set(scope, lock);
    return lock;
  }

  return {
    held: (scope) => holding.get(scope),
    async releaseAll() {
      await Promise.all([...new Set(holding.values())].map((lock) => lock.release()));
    },
    acquire: (scope, opts) => lockKeys([{ scope, shared: false }], opts),
    acquireLineages: (names, opts) => lockKeys(lineageKeys(names), opts),
  };
}
