/**
 * Following the cluster: three nodes with their own state_dir and nginx take the versions a renewer
 * commits, by `sync` and by `watch`; a watch that was down catches up; with the database down,
 * `sync` fails with one line naming it and every nginx keeps serving.
 */
import { readlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenedClusterStore } from '../../src/store/cluster/store.js';
import { runCli } from './helpers.js';
import { commitVersion, makeNode, seeder, serveNode, startClusterLab, startWatch, type ClusterLab, type Node, type Watch } from './cluster-helpers.js';
import { namesFor, waitFor } from './renew-helpers.js';

const TRACE_CONNECTIONS = fileURLToPath(new URL('./trace-connections.mjs', import.meta.url));

const PG_HOST = '127.0.63.1';
const NGINX_HOSTS = ['127.0.63.11', '127.0.63.12', '127.0.63.13'];
const names = namesFor('clf');

describe('cluster nodes follow the committed versions', { timeout: 120_000 }, () => {
  let cl: ClusterLab;
  let renewer: OpenedClusterStore;
  let nodes: Node[];
  const watches: Watch[] = [];
  let latest = '';
  const servedEverywhere = async (serial: string): Promise<boolean> => {
    for (const node of nodes) if ((await node.served(names.base).catch(() => '')) !== serial) return false;
    return true;
  };

  beforeAll(async () => {
    cl = await startClusterLab(PG_HOST, 'follow');
    renewer = await seeder(cl);
    nodes = await Promise.all(['web1', 'web2', 'web3'].map((n) => makeNode(cl, n, names)));
  });
  afterAll(async () => {
    const stopped = await Promise.allSettled(watches.map((w) => w.stop()));
    for (const n of nodes ?? []) await n.nginx?.stop();
    await renewer?.close();
    await cl?.stop();
    for (const s of stopped) if (s.status === 'rejected') throw s.reason;
  });

  it('sync writes the cluster version on every node with the same version number', async () => {
    const before = await runCli(['sync', '--config', nodes[0]!.config]);
    expect(before.code, before.stderr).toBe(0);
    expect(before.stderr).toContain(`${names.base}: the cluster has no certificate yet`);

    const v1 = await commitVersion(renewer, names, '0d01');
    expect(v1.version).toBe(1);
    for (const node of nodes) {
      const run = await runCli(['sync', '--config', node.config, '--json']);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      const doc = JSON.parse(run.stdout);
      expect(doc).toMatchObject({ ok: true, node: node.name, results: [{ name: names.base, status: 'synced', version: 1 }] });
      expect(await readlink(path.join(node.stateDir, 'live', names.base, 'fullchain.pem'))).toBe(`../../archive/${names.base}/fullchain1.pem`);
    }
    // Again: nothing to do.
    const again = await runCli(['sync', '--config', nodes[1]!.config]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`${names.base}: current: this node (web2) has version 1`);

    for (const [i, node] of nodes.entries()) await serveNode(node, NGINX_HOSTS[i]!, names);
    expect(await servedEverywhere(v1.serial)).toBe(true);
  });

  it('watch syncs each new version on every node at once, reloads nginx and reports the node state', async () => {
    for (const node of nodes) watches.push(startWatch(node));
    await waitFor('three watches listening', () => watches.every((w) => w.output().includes('listening')), 20_000);

    const v2 = await commitVersion(renewer, names, '0d02');
    expect(v2.version).toBe(2);
    await waitFor('every nginx serving version 2', () => servedEverywhere(v2.serial), 30_000);
    const expected = ['web1', 'web2', 'web3'].map((n) => `${n}:2:true:${v2.serial}\n`).join('');
    let rows = '';
    await waitFor('every node reporting version 2', async () => {
      rows = await cl.pg.sql('follow', `SELECT node || ':' || deployed_version || ':' || deploy_ok || ':' || coalesce(served_serial, '-') FROM gxit_cert.nodes WHERE node LIKE 'web%' ORDER BY node`);
      return rows === expected;
    }, 20_000).catch(() => expect(rows).toBe(expected));
    for (const w of watches) expect(w.output()).toContain(`${names.base}: synced version 2`);

    const status = await runCli(['status', '--config', nodes[0]!.config, '--json']);
    expect(status.code, status.stdout + status.stderr).toBe(0);
    const cluster = JSON.parse(status.stdout).cluster;
    expect(cluster).toMatchObject({ ok: true, lineages: [{ name: names.base, version: 2, serial: v2.serial, healthy: true }] });
    // The seeding renewer is a node of the cluster too (its files follow its own commits).
    expect(cluster.lineages[0].nodes.map((n: { node: string; deployedVersion: number; servedSerial?: string }) => `${n.node}:${n.deployedVersion}:${n.servedSerial ?? '-'}`)).toEqual(
      ['seed:2:-', ...['web1', 'web2', 'web3'].map((n) => `${n}:2:${v2.serial}`)],
    );
  });

  it('a watch that was down catches up when it starts again, and across a database restart', async () => {
    const third = watches[2]!;
    expect(await third.stop()).toBe(0);
    expect(third.output()).toContain('watch: node web3 stopped');

    const v3 = await commitVersion(renewer, names, '0d03');
    await waitFor('web1 and web2 serving version 3', async () => (await nodes[0]!.served(names.base)) === v3.serial && (await nodes[1]!.served(names.base)) === v3.serial, 30_000);
    expect(await nodes[2]!.served(names.base)).not.toBe(v3.serial);
    // Behind for a moment only: catching up, healthy. Behind a version older than 15 minutes: exit 1.
    const fresh = await runCli(['status', '--config', nodes[0]!.config]);
    expect(fresh.code, fresh.stdout).toBe(0);
    expect(fresh.stdout).toMatch(/node web3: version 2, serves 0D02, catching up/);
    await cl.pg.sql('follow', "UPDATE gxit_cert.versions SET created_at = now() - interval '20 minutes' WHERE version = 3");
    const lagging = await runCli(['status', '--config', nodes[0]!.config], { env: { NODE_OPTIONS: `--import=${TRACE_CONNECTIONS}` } });
    expect(lagging.code).toBe(1);
    expect(lagging.stdout).toContain(`${names.base}: cluster version 3`);
    expect(lagging.stdout).toMatch(/node web3: version 2, serves 0D02, LAGGING/);
    // One database connection for the lineages and the cluster section alike.
    expect(lagging.stderr.match(/^CONNECT .*$/gm)).toEqual([`CONNECT ${PG_HOST}:${cl.pg.port}`]);

    const restarted = startWatch(nodes[2]!);
    watches[2] = restarted;
    await waitFor('web3 serving version 3 after its restart', async () => (await nodes[2]!.served(names.base)) === v3.serial, 30_000);
    await waitFor('status healthy again', async () => (await runCli(['status', '--config', nodes[0]!.config])).code === 0, 30_000);

    // The database goes away and comes back: every watch reconnects and hears the next commit.
    await renewer.close();
    await cl.pg.pause();
    await waitFor('every watch noticing the outage', () => watches.every((w) => /watch: .*retrying in/.test(w.output())), 30_000);
    await cl.pg.resume();
    await waitFor('every watch listening again', () => watches.every((w) => (w.output().match(/listening on/g) ?? []).length >= 2), 60_000);
    renewer = await seeder(cl);
    const v4 = await commitVersion(renewer, names, '0d04');
    expect(v4.version).toBe(4);
    latest = v4.serial;
    await waitFor('every nginx serving version 4', () => servedEverywhere(v4.serial), 30_000);
  });

  it('with the database down, sync exits 1 with one line naming it, and every nginx keeps serving', async () => {
    // A reload's old worker may answer for a moment: wait until every node settled on the newest version.
    await waitFor('every nginx serving the newest version', () => servedEverywhere(latest), 30_000);
    await renewer.close();
    await cl.pg.pause();
    try {
      const run = await runCli(['sync', '--config', nodes[1]!.config]);
      expect(run.code).toBe(1);
      const lines = run.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^error: cluster database ${PG_HOST.replace(/\./g, '\\.')}:\\d+/follow: connecting failed: ECONNREFUSED`));
      expect(lines[0]).toContain('nginx keeps serving');
      for (const node of nodes) expect(await node.served(names.base)).toBe(latest);
    } finally {
      await cl.pg.resume();
      renewer = await seeder(cl);
    }
  });
});
