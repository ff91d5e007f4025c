/**
 * Following the cluster: bring this node's state_dir up to the database's current version of a
 * lineage, writing every version it lacks (the same numbers as everywhere) and switching live/ to
 * the newest. Runs under the node's own state lock, so a `watch` and a `sync` on one node never
 * write at once. Reads only: the database is never changed here.
 */
import { acquireLock } from '../lock.js';
import { archiveLocalVersion, localVersion, writeLocalVersion } from './local.js';
import type { OpenedClusterStore } from './store.js';
import * as rows from './rows.js';
import { databaseError } from './connect.js';
import { GxitError } from '../../errors.js';

export interface PullResult {
  name: string;
  /** The version this node served before (undefined: none). */
  from: number | undefined;
  /** The cluster's current version (undefined: the cluster has no such lineage yet). */
  to: number | undefined;
  /** live/ was switched. */
  changed: boolean;
  domains?: string[];
}

/** The cluster's row of the lineage and this node's version of it. */
async function readBoth(opened: OpenedClusterStore, name: string) {
  const row = await guarded(opened, `reading lineage ${name}`, () => rows.selectLineage(opened.db, name));
  return { row, before: await localVersion(opened.fs, opened.stateDir, name) };
}

/** What a pull would do, read only (sync --dry-run): this node's version and the cluster's. */
export async function peekLineage(opened: OpenedClusterStore, name: string): Promise<Omit<PullResult, 'changed'>> {
  const { row, before } = await readBoth(opened, name);
  return row === undefined ? { name, from: before, to: undefined } : { name, from: before, to: row.currentVersion, domains: row.state.domains };
}

export async function pullLineage(opened: OpenedClusterStore, name: string): Promise<PullResult> {
  const { fs, stateDir, db, secrets } = opened;
  const { row, before } = await readBoth(opened, name);
  if (row === undefined) return { name, from: before, to: undefined, changed: false };
  if (before !== undefined && before >= row.currentVersion) return { name, from: before, to: row.currentVersion, changed: false, domains: row.state.domains };

  const lock = await acquireLock(stateDir, { waitMs: 60_000, staleMs: 120_000 });
  try {
    const from = await localVersion(fs, stateDir, name);
    if (from !== undefined && from >= row.currentVersion) return { name, from, to: row.currentVersion, changed: false, domains: row.state.domains };
    // Versions committed while this node was away are archived too, so version numbers agree everywhere.
    for (let version = (from ?? 0) + 1; version < row.currentVersion; version++) {
      const files = await guarded(opened, `reading ${name} version ${version}`, () => rows.selectVersion(db, secrets.key, name, version));
      if (files !== undefined) await archiveLocalVersion(fs, stateDir, name, version, files);
    }
    const files = await guarded(opened, `reading ${name} version ${row.currentVersion}`, () => rows.selectVersion(db, secrets.key, name, row.currentVersion));
    if (files === undefined) {
      throw new GxitError('CLUSTER_DB', `${opened.database}: lineage ${name} is at version ${row.currentVersion}, but that version is missing`, {
        subject: name,
        fix: 'restore the versions table from a backup; then run gxit-cert sync',
      });
    }
    const changed = await writeLocalVersion(fs, stateDir, row.state, row.currentVersion, files);
    return { name, from, to: row.currentVersion, changed, domains: row.state.domains };
  } finally {
    await lock.release();
  }
}

async function guarded<T>(opened: OpenedClusterStore, what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw databaseError(opened.cluster, what, error);
  }
}
