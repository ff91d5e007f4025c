import { describe, expect, test } from 'vitest';
import { clusterLines, clusterPrometheus, clusterStatus, LAG_LIMIT_MS } from '../../../src/renew/cluster-status.js';

const NOW = Date.parse('2026-12-03T10:00:00Z');
const at = (msAgo: number): string => new Date(NOW - msAgo).toISOString();
const v = (msAgo: number) => [{ name: 'g.example.org', version: 3, committedAt: at(msAgo), serial: 'AA03' }];
const node = (name: string, deployedVersion: number | undefined, extra: { deployOk?: boolean; lastError?: string } = {}) => ({
  node: name,
  lineage: 'g.example.org',
  updatedAt: at(0),
  ...(deployedVersion === undefined ? {} : { deployedVersion }),
  ...extra,
});

describe('cluster status', () => {
  test.each([
    { name: 'every node current', versionAgo: LAG_LIMIT_MS * 2, nodes: [node('web1', 3), node('web2', 3)], healthy: [true, true] },
    { name: 'a node behind a fresh version is catching up, not lagging', versionAgo: LAG_LIMIT_MS - 1000, nodes: [node('web1', 3), node('web2', 2)], healthy: [true, true] },
    { name: 'a node behind for more than 15 minutes lags', versionAgo: LAG_LIMIT_MS + 1000, nodes: [node('web1', 3), node('web2', 2)], healthy: [true, false] },
    { name: 'a node that never deployed lags too', versionAgo: LAG_LIMIT_MS + 1000, nodes: [node('web1', undefined)], healthy: [false] },
    { name: 'a failed deploy is unhealthy at once', versionAgo: 0, nodes: [node('web1', 3, { deployOk: false, lastError: 'reload-nginx failed' })], healthy: [false] },
  ])('$name', ({ versionAgo, nodes, healthy }) => {
    const [lineage] = clusterStatus(v(versionAgo), nodes, NOW);
    expect(lineage?.nodes.map((n) => n.healthy)).toEqual(healthy);
    expect(lineage?.healthy).toBe(healthy.every(Boolean));
  });

  test('lines and node-exporter samples name every node', () => {
    const status = clusterStatus(v(LAG_LIMIT_MS + 1000), [node('web1', 3), node('web2', 2), node('web3', 3, { deployOk: false, lastError: 'nginx -t failed' })], NOW);
    const lines = clusterLines(status);
    expect(lines[0]).toBe('g.example.org: cluster version 3 (serial AA03, committed 2026-12-03T09:44:59.000Z) - NODES NOT CURRENT');
    expect(lines[2]).toContain('node web2: version 2, served serial not checked, LAGGING');
    expect(lines[3]).toContain('deploy FAILED: nginx -t failed');
    const text = clusterPrometheus(status);
    expect(text).toContain('gxit_cert_cluster_version{name="g.example.org"} 3');
    expect(text).toContain('gxit_cert_node_healthy{name="g.example.org",node="web2"} 0');
    expect(text).toContain('gxit_cert_node_deployed_version{name="g.example.org",node="web1"} 3');
  });
});
