/**
 * What renewal remembers per lineage beyond the store's `lastRun`: when it last succeeded and failed
 * (for monitoring, e.g. a node-exporter textfile) and how the last deploy went. Kept under `runs` in
 * renewal/<name>.json; the store keeps keys it does not know, and commits merge over them.
 */
import type { LineageState } from '../store/contract.js';
import type { RenewalAriState } from './ari.js';

export interface DeployRecord {
  /** ISO 8601. */
  at: string;
  /** The version the hooks deployed. */
  version: number;
  ok: boolean;
  /** The first problem (a failed hook, a server still serving the old certificate). */
  error?: string;
}

export interface RunRecord {
  lastSuccessAt?: string;
  lastFailureAt?: string;
  deploy?: DeployRecord;
}

/** The lineage state as renewal reads and writes it. */
export interface RenewalState extends LineageState {
  ari?: RenewalAriState;
  runs?: RunRecord;
}

export function runRecordOf(state: LineageState): RunRecord {
  const runs = (state as RenewalState).runs;
  return typeof runs === 'object' && runs !== null ? runs : {};
}

