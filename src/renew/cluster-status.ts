/**
 * What `status` says about the cluster, as pure functions of what the database holds: per lineage the
 * cluster's current version, and per node the version it deployed, the serial it serves and its last
 * error. A node is unhealthy when it failed its deploy, or when it still lags behind a version that
 * was committed more than 15 minutes ago (a watch that stopped, a node that cannot reach the database).
 */
export const LAG_LIMIT_MS = 15 * 60_000;

export interface ClusterVersionFact {
  name: string;
  version: number;
  /** ISO 8601. */
  committedAt: string;
  serial: string;
}

export interface NodeFact {
  node: string;
  lineage: string;
  deployedVersion?: number;
  servedSerial?: string;
  deployOk?: boolean;
  lastError?: string;
  /** ISO 8601: when the node last reported. */
  updatedAt: string;
}

export interface NodeStatus extends NodeFact {
  /** Behind the cluster's version for longer than the limit. */
  lagging: boolean;
  healthy: boolean;
}

export interface ClusterLineageStatus {
  name: string;
  version: number;
  committedAt: string;
  serial: string;
  nodes: NodeStatus[];
  healthy: boolean;
}

export function clusterStatus(versions: readonly ClusterVersionFact[], nodes: readonly NodeFact[], nowMs: number): ClusterLineageStatus[] {
  return versions.map((v) => {
    const committedMs = Date.parse(v.committedAt);
    const overdue = Number.isFinite(committedMs) && nowMs - committedMs > LAG_LIMIT_MS;
    const mine = nodes
      .filter((n) => n.lineage === v.name)
      .map((n): NodeStatus => {
        const behind = n.deployedVersion === undefined || n.deployedVersion < v.version;
        const lagging = behind && overdue;
        return { ...n, lagging, healthy: !lagging && n.deployOk !== false };
      });
    return { ...v, nodes: mine, healthy: mine.every((n) => n.healthy) };
  });
}

export function clusterLines(lineages: readonly ClusterLineageStatus[]): string[] {
  const lines: string[] = [];
  for (const l of lineages) {
    lines.push(`${l.name}: cluster version ${l.version} (serial ${l.serial}, committed ${l.committedAt})${l.healthy ? '' : ' - NODES NOT CURRENT'}`);
    for (const n of l.nodes) {
      const state = n.deployOk === false ? `deploy FAILED: ${n.lastError ?? '?'}` : n.lagging ? 'LAGGING' : n.deployedVersion === l.version ? 'ok' : 'catching up';
      const served = n.servedSerial === undefined ? 'served serial not checked' : `serves ${n.servedSerial}`;
      lines.push(`  node ${n.node}: version ${n.deployedVersion ?? 'none'}, ${served}, ${state} (reported ${n.updatedAt})`);
    }
  }
  return lines;
}

/** Node-exporter samples per lineage and node. */
export function clusterPrometheus(lineages: readonly ClusterLineageStatus[]): string {
  const label = (value: string): string => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  const lines = [
    '# HELP gxit_cert_cluster_version The cluster\'s current certificate version of the lineage.',
    '# TYPE gxit_cert_cluster_version gauge',
    ...lineages.map((l) => `gxit_cert_cluster_version{name="${label(l.name)}"} ${l.version}`),
    '# HELP gxit_cert_node_deployed_version The version a node deployed.',
    '# TYPE gxit_cert_node_deployed_version gauge',
    ...lineages.flatMap((l) => l.nodes.map((n) => `gxit_cert_node_deployed_version{name="${label(l.name)}",node="${label(n.node)}"} ${n.deployedVersion ?? 0}`)),
    '# HELP gxit_cert_node_healthy 0 when the node failed its deploy or lags behind the cluster for more than 15 minutes.',
    '# TYPE gxit_cert_node_healthy gauge',
    ...lineages.flatMap((l) => l.nodes.map((n) => `gxit_cert_node_healthy{name="${label(l.name)}",node="${label(n.node)}"} ${n.healthy ? 1 : 0}`)),
  ];
  return lineages.length === 0 ? '' : `${lines.join('\n')}\n`;
}
