/** The cluster part of `status`: read from the database (lazily loaded), rendered by renew/cluster-status.ts. */
import type { OpenedClusterStore } from '../store/cluster/store.js';
import { clusterLines, clusterPrometheus, clusterStatus, type ClusterLineageStatus } from '../renew/cluster-status.js';

export interface ClusterSection {
  ok: boolean;
  database: string;
  lineages: ClusterLineageStatus[];
  lines: string[];
  prometheus: string;
}

/** Read on the connection of the store `status` opened already: one database session for the whole command. */
export async function clusterSection(opened: OpenedClusterStore, nowMs: number): Promise<ClusterSection> {
  const rows = await import('../store/cluster/rows.js');
  // One statement after the other: a pg client runs them in turn anyway.
  const versions = await rows.selectCurrentVersions(opened.db);
  const nodes = await rows.selectNodeStates(opened.db);
  const lineages = clusterStatus(versions, nodes, nowMs);
  return {
    ok: lineages.every((l) => l.healthy),
    database: opened.database,
    lineages,
    lines: clusterLines(lineages),
    prometheus: clusterPrometheus(lineages),
  };
}
