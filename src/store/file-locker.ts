/**
 * The file store's Locker: every scope maps to the one state-dir lock (lock.ts). Its `lost` signal
 * aborts when the heartbeat finds the lock file replaced or removed, or cannot refresh it in time.
 */
import type { AcquireOptions, Lock, Locker } from './contract.js';
import { acquireLock, type LockOptions } from './lock.js';

export interface FileLockerOptions {
  /** A heartbeat older than this marks the lock stale; default 120 s. */
  staleMs?: number;
  heartbeatMs?: number;
  pollMs?: number;
  now?: () => number;
}

export function fileLocker(stateDir: string, options: FileLockerOptions = {}): Locker {
  return {
    async acquire(_scope: string, acquire: AcquireOptions): Promise<Lock> {
      const lockOptions: LockOptions = {
        waitMs: acquire.waitMs,
        staleMs: options.staleMs ?? 120_000,
        ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
        ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
        ...(options.now === undefined ? {} : { now: options.now }),
        ...(acquire.signal === undefined ? {} : { signal: acquire.signal }),
        onWait: ({ holder }) =>
          acquire.onWait?.(
            holder === undefined ? undefined : { pid: holder.pid, hostname: holder.hostname, since: holder.acquiredAt },
          ),
      };
      const lock = await acquireLock(stateDir, lockOptions);
      return { lost: lock.lost, release: () => lock.release() };
    },
  };
}
