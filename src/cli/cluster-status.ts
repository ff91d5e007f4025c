/** The cluster part of `status`: read from the database (lazily loaded), rendered by renew/cluster-status.ts. */
import type { Config } from '../config/types.js';
import { clusterLines, clusterPrometheus, clusterStatus, type ClusterLineageStatus } from '../renew/cluster-status.js';

export interface ClusterSection {
  ok: boolean;
  database: string;
  lineages: ClusterLineageStatus[];
  lines: string[];
  prometheus: string;
}

export async function clusterSection(config: Config, nowMs: number): Promise<ClusterSection | undefined> {
  if (config.cluster === undefined) return undefined;
  const [{ openClusterStore }, rows] = await Promise.all([import('../store/cluster/store.js'), import('../store/cluster/rows.js')]);
  const opened = await openClusterStore({ stateDir: config.stateDir, cluster: config.cluster });
  try {
    const [versions, nodes] = await Promise.all([rows.selectCurrentVersions(opened.db), rows.selectNodeStates(opened.db)]);
    const lineages = clusterStatus(versions, nodes, nowMs);
    return {
      ok: lineages.every((l) => l.healthy),
      database: opened.database,
      lineages,
      lines: clusterLines(lineages),
      prometheus: clusterPrometheus(lineages),
    };
  } finally {
    await opened.close();
  }
}
