/** Writes of what renewal remembers (renew/record.ts): read again, merge, write, fenced by the lock. */
import type { RenewalAriState } from '../renew/ari.js';
import { runRecordOf, type RenewalState, type RunRecord } from '../renew/record.js';
import type { LineageState, Store, WriteOptions } from '../store/contract.js';

/** Merge `patch` into the lineage's run record. The caller holds the lock. */
export async function recordRun(store: Store, name: string, patch: RunRecord, options: WriteOptions = {}): Promise<void> {
  const lineage = await store.readLineage(name);
  if (lineage === undefined) return;
  const state: RenewalState = { ...lineage.state, runs: { ...runRecordOf(lineage.state), ...patch } };
  await store.writeLineageState(state, options);
}

/** Replace the lineage's ARI state. The caller holds the lock. */
export async function recordAri(store: Store, name: string, ari: RenewalAriState, options: WriteOptions = {}): Promise<LineageState | undefined> {
  const lineage = await store.readLineage(name);
  if (lineage === undefined) return undefined;
  const state: RenewalState = { ...lineage.state, ari };
  await store.writeLineageState(state, options);
  return state;
}

/** A dry run that worked: the lineage's failed last run no longer stands (no new version is stored). */
export async function clearFailure(store: Store, name: string, at: string, options: WriteOptions = {}): Promise<void> {
  const lineage = await store.readLineage(name);
  if (lineage === undefined || lineage.state.lastRun?.ok !== false) return;
  await store.writeLineageState({ ...lineage.state, lastRun: { at, ok: true } }, options);
}
