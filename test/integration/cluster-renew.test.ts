/**
 * The cluster with real orders (Pebble, BIND): three nodes with their own state_dir and nginx on one
 * PostgreSQL. Node 1 issues, the others sync; forced renewals started on all three at once give one
 * new version, served everywhere; a renewer killed mid-order or whose lock session is terminated
 * leaves the next run free to finish, with gap-free version numbers; with the database down, renew
 * fails with one line naming it while every nginx keeps serving.
 */
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile, readlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli, txtEverywhere } from './helpers.js';
import { makeNode, serveNode, startClusterLab, startWatch, type ClusterLab, type Node, type Watch } from './cluster-helpers.js';
import { namesFor, waitFor } from './renew-helpers.js';

const PG_HOST = '127.0.65.1';
const NGINX_HOSTS = ['127.0.65.11', '127.0.65.12', '127.0.65.13'];
const DB = 'renew';
const names = namesFor('clr');

describe('a cluster of three nodes renewing one certificate', { timeout: 180_000 }, () => {
  let cl: ClusterLab;
  let nodes: Node[];
  const watches: Watch[] = [];
  const versions = async (): Promise<string> => (await cl.pg.sql(DB, `SELECT string_agg(version::text, ',' ORDER BY version) FROM gxit_cert.versions`)).trim();
  const currentSerial = async (): Promise<string> =>
    (await cl.pg.sql(DB, 'SELECT v.serial FROM gxit_cert.versions v JOIN gxit_cert.lineages l ON l.name = v.lineage AND l.current_version = v.version')).trim();
  const servedEverywhere = async (serial: string): Promise<boolean> => {
    for (const node of nodes) if ((await node.served(names.base).catch(() => '')) !== serial) return false;
    return true;
  };
  const lockHeldBy = async (node: string): Promise<boolean> =>
    (
      await cl.pg.sql(DB, `SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'gxit-cert ${node} lock'`)
    ).trim() !== '0';

  beforeAll(async () => {
    cl = await startClusterLab(PG_HOST, DB);
    nodes = await Promise.all(['web1', 'web2', 'web3'].map((n) => makeNode(cl, n, names)));
  });
  afterAll(async () => {
    const stopped = await Promise.allSettled(watches.map((w) => w.stop()));
    for (const n of nodes ?? []) await n.nginx?.stop();
    await cl?.stop();
    for (const s of stopped) if (s.status === 'rejected') throw s.reason;
  });

  it('node 1 issues, nodes 2 and 3 sync the same version, and every nginx serves it', async () => {
    const issued = await runCli(['issue', '--config', nodes[0]!.config]);
    expect(issued.code, issued.stderr).toBe(0);
    expect(issued.stderr).toContain('issued version 1');
    for (const node of nodes.slice(1)) {
      const run = await runCli(['sync', '--config', node.config]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toContain(`synced version 1 to this node (${node.name})`);
    }
    for (const [i, node] of nodes.entries()) await serveNode(node, NGINX_HOSTS[i]!, names);
    expect(await servedEverywhere(await currentSerial())).toBe(true);
    expect(await versions()).toBe('1');
  });

  it('forced renewals started on all three nodes at once give exactly one new version, served by every node', async () => {
    for (const node of nodes) watches.push(startWatch(node));
    await waitFor('three watches listening', () => watches.every((w) => w.output().includes('listening')), 20_000);

    const runs = await Promise.all(nodes.map((node) => runCli(['renew', '--force', '--config', node.config, '--json'], { timeoutMs: 120_000 })));
    for (const run of runs) expect(run.code, run.stdout + run.stderr).toBe(0);
    const statuses = runs.map((run) => JSON.parse(run.stdout).results[0].status as string);
    expect(statuses.filter((s) => s === 'renewed')).toHaveLength(1);
    expect(await versions()).toBe('1,2');
    const serial = await currentSerial();
    await waitFor('every nginx serving version 2', () => servedEverywhere(serial), 30_000);

    // status: the cluster's version, and each node's deployed version and served serial.
    let nodesSeen: string[] = [];
    const expected = ['web1', 'web2', 'web3'].map((n) => `${n}:2:${serial}`);
    await waitFor('every node reporting version 2 as served', async () => {
      const status = await runCli(['status', '--config', nodes[2]!.config, '--json']);
      const cluster = JSON.parse(status.stdout).cluster;
      nodesSeen = cluster.lineages[0].nodes.map((n: { node: string; deployedVersion?: number; servedSerial?: string }) => `${n.node}:${n.deployedVersion}:${n.servedSerial}`);
      return status.code === 0 && JSON.stringify(nodesSeen) === JSON.stringify(expected);
    }, 30_000).catch(() => expect(nodesSeen).toEqual(expected));
  });

  it('a renewer killed with SIGKILL mid-order leaves the next run free to finish; versions stay gap-free', async () => {
    for (const delayMs of [0, 400]) {
      const before = await versions();
      const child = spawn(process.execPath, [CLI, 'renew', '--force', '--config', nodes[0]!.config], { stdio: 'ignore' });
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await waitFor('web1 holding the cluster lock', () => lockHeldBy('web1'), 30_000);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      child.kill('SIGKILL');
      await exited;
      // Its session went with it, and the lock with the session.
      await waitFor('the lock of the killed run released', async () => !(await lockHeldBy('web1')), 30_000);

      const next = await runCli(['renew', '--force', '--config', nodes[1]!.config, '--json'], { timeoutMs: 120_000 });
      expect(next.code, next.stdout + next.stderr).toBe(0);
      const list = (await versions()).split(',').map(Number);
      expect(list).toEqual(list.map((_, i) => i + 1));
      expect(list.length).toBeGreaterThan(before.split(',').length);
    }
    // The killed runs' TXT records are in web1's journal: its next run removes them.
    const cleanup = await runCli(['renew', '--force', '--config', nodes[0]!.config], { timeoutMs: 120_000 });
    expect(cleanup.code, cleanup.stderr).toBe(0);
    for (const name of names.challenges) expect(await txtEverywhere(name)).toEqual([]);
    await waitFor('every nginx serving the newest version', async () => servedEverywhere(await currentSerial()), 30_000);
  });

  it('a run whose lock session is terminated before the commit commits nothing; the next run does', async () => {
    const terminate = `psql -X -q -At -h ${PG_HOST} -p ${cl.pg.port} -U postgres -d ${DB} -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'gxit-cert web2 lock'"`;
    await nodes[1]!.rewrite({ hooks: { pre: [terminate], deploy: [] }, verify_served: [] });
    const before = await versions();
    const run = await runCli(['renew', '--force', '--config', nodes[1]!.config], { timeoutMs: 120_000 });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/lock was lost/);
    expect(await versions()).toBe(before);
    for (const name of names.challenges) expect(await txtEverywhere(name)).toEqual([]);

    await nodes[1]!.rewrite({ hooks: { deploy: [] }, verify_served: [] });
    const again = await runCli(['renew', '--force', '--config', nodes[1]!.config], { timeoutMs: 120_000 });
    expect(again.code, again.stderr).toBe(0);
    expect(await versions()).toBe(`${before},${Number(before.split(',').pop()) + 1}`);
    await waitFor('every nginx serving the newest version', async () => servedEverywhere(await currentSerial()), 30_000);
  });

  it('a lock session terminated inside the commit transaction: the issued certificate is discarded', async () => {
    // The session is killed after the order, while the commit transaction runs (before COMMIT).
    await cl.pg.sql(
      DB,
      `CREATE FUNCTION public.kill_committer() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$;
       CREATE TRIGGER kill_committer BEFORE INSERT ON gxit_cert.versions FOR EACH ROW EXECUTE FUNCTION public.kill_committer();`,
    );
    const before = await versions();
    const liveBefore = await cl.pg.sql(DB, 'SELECT current_version FROM gxit_cert.lineages');
    try {
      const run = await runCli(['renew', '--force', '--config', nodes[1]!.config, '--json'], { timeoutMs: 120_000 });
      expect(run.code, run.stdout + run.stderr).toBe(1);
      const result = JSON.parse(run.stdout).results[0];
      expect(result.status).toBe('failed');
      expect(result.error).toMatchObject({ code: 'LOCK_LOST' });
      expect(await versions()).toBe(before);
      expect(await cl.pg.sql(DB, 'SELECT current_version FROM gxit_cert.lineages')).toBe(liveBefore);
      for (const name of names.challenges) expect(await txtEverywhere(name)).toEqual([]);
    } finally {
      await cl.pg.sql(DB, 'DROP TRIGGER kill_committer ON gxit_cert.versions; DROP FUNCTION public.kill_committer()');
    }
  });

  it('renew with nothing due reads the cluster, loading pg but none of the ordering modules', async () => {
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await runCli(['renew', '--config', nodes[0]!.config]));
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toMatch(new RegExp(`^${names.base.replace(/\./g, '\\.')}: not due: `));
    }
    // Under the load of the parallel test files; the figure for a quiet machine is in docs/cluster.md.
    expect(Math.min(...runs.map((r) => r.ms))).toBeLessThan(3000);
    const loader = path.join(path.dirname(fileURLToPath(import.meta.url)), 'renew-trace-loader.mjs');
    const traced = await runCli(['renew', '--config', nodes[0]!.config], { env: { NODE_OPTIONS: `--no-warnings --experimental-loader=${loader}` } });
    expect(traced.code, traced.stderr).toBe(0);
    const loaded = traced.stderr.split('\n').filter((l) => l.startsWith('LOAD '));
    expect(loaded.some((l) => l.includes('/node_modules/pg/'))).toBe(true);
    // The provider descriptors are the configuration's sections; no DNS code, no provider implementation.
    const descriptorOnly = /\/dist\/dns\/providers\/((registry|descriptor)\.js|[^/]+\/(descriptor|section|key-file)\.js)$/;
    expect(loaded.filter((l) => /node_modules\/(acme-client|@aws-sdk|dns2|cron|node-forge)\/|\/dist\/(acme|dns)\//.test(l) && !descriptorOnly.test(l))).toEqual([]);
  });

  it('a follower (renewer: false) never orders: its renew syncs, its issue is refused', async () => {
    // Its dns: section names a TSIG key file that does not exist: a follower reads none of its secrets.
    const missingKey = path.join(cl.dir, 'no-such-tsig.key');
    await nodes[2]!.rewrite({ cluster: { renewer: false }, hooks: { deploy: [] }, verify_served: [], dns: { rfc2136: { secret_file: missingKey } } });
    expect(await readFile(nodes[2]!.config, 'utf8')).toContain(missingKey);
    const renew = await runCli(['renew', '--force', '--config', nodes[2]!.config]);
    expect(renew.code, renew.stderr).toBe(0);
    expect(renew.stderr).toMatch(/current: this node \(web3\) has version \d+/);
    const issue = await runCli(['issue', '--force', '--config', nodes[2]!.config]);
    expect(issue.code).toBe(2);
    expect(issue.stderr).toContain('node web3 is not a renewer');
  });

  it('a follower without dns: and without any DNS secret syncs what the renewer issued, follows with watch, shows status', async () => {
    // A fresh node: empty state_dir, no dns: section, so no TSIG key file or variable anywhere in its configuration.
    const follower = await makeNode(cl, 'follow1', names, { dns: undefined });
    await follower.rewrite({ cluster: { renewer: false } });
    const text = await readFile(follower.config, 'utf8');
    expect(text).not.toMatch(/^dns:/m);
    expect(text).not.toMatch(/rfc2136|secret/);
    const env: NodeJS.ProcessEnv = { GXIT_CERT_TSIG_SECRET: undefined };
    const liveVersion = async (): Promise<string> => (await readlink(path.join(follower.stateDir, 'live', names.base, 'cert.pem'))).replace(/^.*cert(\d+)\.pem$/, '$1');
    const current = async (): Promise<string> => (await cl.pg.sql(DB, 'SELECT current_version FROM gxit_cert.lineages')).trim();

    // A dry run (sync --dry-run, or renew --dry-run on a follower) says what a sync would write, and writes nothing.
    const clusterVersion = Number(await current());
    const dry = await runCli(['renew', '--dry-run', '--config', follower.config], { env });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toBe(`${names.base}: dry run: a sync would write version ${clusterVersion} to this node (follow1), and run its deploy hooks; nothing was written\n`);
    const dryJson = await runCli(['sync', '--dry-run', '--json', '--config', follower.config], { env });
    expect(JSON.parse(dryJson.stdout)).toMatchObject({ ok: true, dryRun: true, node: 'follow1', results: [{ name: names.base, status: 'would-sync', version: clusterVersion }] });
    await expect(readlink(path.join(follower.stateDir, 'live', names.base, 'cert.pem'))).rejects.toMatchObject({ code: 'ENOENT' });

    const sync = await runCli(['sync', '--config', follower.config, '--json'], { env });
    expect(sync.code, sync.stdout + sync.stderr).toBe(0);
    const version = Number(await current());
    expect(JSON.parse(sync.stdout)).toMatchObject({ ok: true, node: 'follow1', results: [{ name: names.base, status: 'synced', version }] });
    expect(await liveVersion()).toBe(String(version));
    const serial = new X509Certificate(await readFile(path.join(follower.stateDir, 'live', names.base, 'cert.pem'))).serialNumber;
    expect(serial).toBe(await currentSerial());

    // renew on a follower syncs: current now.
    const renew = await runCli(['renew', '--config', follower.config], { env });
    expect(renew.code, renew.stderr).toBe(0);
    expect(renew.stderr).toContain(`${names.base}: current: this node (follow1) has version ${version}`);

    // status, --json and --prometheus: the lineage, the cluster's version and this node's.
    const prometheus = path.join(follower.dir, 'gxit.prom');
    const status = await runCli(['status', '--config', follower.config, '--json', '--prometheus', prometheus], { env });
    expect(status.code, status.stdout + status.stderr).toBe(0);
    const doc = JSON.parse(status.stdout);
    expect(doc).toMatchObject({ ok: true, lineages: [{ name: names.base, version }], dnsLeftovers: [] });
    expect(doc.cluster.lineages[0].version).toBe(version);
    expect(doc.cluster.lineages[0].nodes).toContainEqual(expect.objectContaining({ node: 'follow1', deployedVersion: version }));
    expect(await readFile(prometheus, 'utf8')).toContain(`gxit_cert_node_deployed_version{name="${names.base}",node="follow1"} ${version}`);
    const plain = await runCli(['status', '--config', follower.config], { env });
    expect(plain.code, plain.stdout + plain.stderr).toBe(0);
    expect(plain.stdout).toContain(`${names.base}: cluster version ${version}`);
    expect(plain.stdout).toMatch(/node follow1: version \d+/);

    // What needs DNS refuses with one line naming the node, exit 2, no stack trace.
    for (const args of [['check-dns'], ['acme-dns', 'register'], ['issue', '--force']]) {
      const run = await runCli([...args, '--config', follower.config], { env });
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(2);
      const lines = run.stderr.trim().split('\n');
      expect(lines, args.join(' ')).toHaveLength(1);
      expect(lines[0]).toMatch(/^error: node follow1 is not a renewer \(cluster\.renewer: false in .*config\.yml\)/);
      expect(run.stdout).toBe('');
    }
    const checkDns = await runCli(['check-dns', '--config', follower.config], { env });
    expect(checkDns.stderr).toContain('check-dns needs the DNS provider and its secrets, which a follower does not load (run gxit-cert check-dns on a renewer node');

    // watch on the follower takes the next version a renewer commits.
    const watch = startWatch(follower);
    watches.push(watch);
    await waitFor('the follower watch listening', () => watch.output().includes('listening'), 20_000);
    const renewed = await runCli(['renew', '--force', '--config', nodes[0]!.config], { timeoutMs: 120_000 });
    expect(renewed.code, renewed.stderr).toBe(0);
    const next = await current();
    expect(Number(next)).toBe(version + 1);
    await waitFor('the follower holding the new version', async () => (await liveVersion().catch(() => '')) === next, 30_000);
    expect(watch.output()).toContain(`${names.base}: synced version ${next} to this node (follow1)`);
    expect(await watch.stop()).toBe(0);

    // revoke needs the CA and the cluster's account, not DNS: it works here, and a renewer's next renew replaces the certificate.
    const revoked = await runCli(['revoke', names.base, '--config', follower.config], { env });
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stderr).toContain(`${names.base}: still configured: the next renew on a renewer node orders a new certificate`);
    const replaced = await runCli(['renew', '--config', nodes[0]!.config], { timeoutMs: 120_000 });
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(Number(await current())).toBe(Number(next) + 1);
  });

  it('with the database down, renew exits 1 with one line naming it, and every nginx keeps serving', async () => {
    const serial = await currentSerial();
    await waitFor('every nginx serving the newest version', () => servedEverywhere(serial), 30_000);
    await cl.pg.pause();
    try {
      for (const args of [['renew'], ['renew', '--force']]) {
        const run = await runCli([...args, '--config', nodes[0]!.config]);
        expect(run.code).toBe(1);
        const lines = run.stderr.trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(new RegExp(`^error: cluster database ${PG_HOST.replace(/\./g, '\\.')}:\\d+/${DB}: connecting failed`));
      }
      expect(await servedEverywhere(serial)).toBe(true);
    } finally {
      await cl.pg.resume();
    }
  });

  it('runs on different lineages go on side by side: one waits in its pre hook, the other renews', async () => {
    const other = namesFor('clr2');
    const gate = path.join(cl.dir, 'gate');
    const web4 = await makeNode(cl, 'web4', other);
    await web4.rewrite({ hooks: { pre: [`while [ ! -e ${gate} ]; do sleep 0.05; done`] } });
    const blocked = runCli(['issue', '--config', web4.config], { timeoutMs: 120_000 });
    await waitFor('web4 holding the lock of its lineage', () => lockHeldBy('web4'), 30_000);

    // The lock of another lineage does not stop this renewal (one cluster-wide lock would).
    const renewed = await runCli(['renew', '--force', '--config', nodes[0]!.config, '--json'], { timeoutMs: 120_000 });
    expect(renewed.code, renewed.stdout + renewed.stderr).toBe(0);
    expect(JSON.parse(renewed.stdout).results[0].status).toBe('renewed');
    expect(await lockHeldBy('web4')).toBe(true);

    await writeFile(gate, '');
    const issued = await blocked;
    expect(issued.code, issued.stderr).toBe(0);
    expect(issued.stderr).toContain(`${other.base}: issued version 1`);
    for (const name of [...names.challenges, ...other.challenges]) expect(await txtEverywhere(name)).toEqual([]);
  });
});
