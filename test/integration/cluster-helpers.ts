/** Helpers of the cluster tests: a PostgreSQL, nodes with their own state_dir, config and nginx, `watch` processes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ClusterConfig } from '../../src/config/types.js';
import { openClusterStore, type OpenedClusterStore } from '../../src/store/cluster/store.js';
import type { CertificateFiles } from '../../src/store/contract.js';
import { makeCertificate } from '../unit/renew/certs.js';
import { startPostgres, type Postgres } from '../lab/postgres.mjs';
import { CLI, lab } from './helpers.js';
import { freePort, HOOKS_DIR, servedCertificate, startNginx, type Names, type Nginx } from './renew-helpers.js';

export interface ClusterLab {
  dir: string;
  pg: Postgres;
  database: string;
  keyFile: string;
  stop(): Promise<void>;
}

export async function startClusterLab(host: string, database: string): Promise<ClusterLab> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gxit-cl-'));
  const keyFile = path.join(dir, 'cluster.key');
  await writeFile(keyFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  const pg = await startPostgres(host, await freePort(host));
  await pg.createDatabase(database);
  return {
    dir,
    pg,
    database,
    keyFile,
    async stop() {
      await pg.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface Node {
  name: string;
  dir: string;
  config: string;
  stateDir: string;
  nginx?: Nginx;
  /** Rewrite this node's config with more keys (same state_dir, certificate and cluster section). */
  rewrite(overrides?: Record<string, unknown>): Promise<string>;
  /** The serial this node's nginx serves for the name. */
  served(sni: string): Promise<string>;
}

export async function makeNode(cl: ClusterLab, name: string, names: Names, overrides: Record<string, unknown> = {}): Promise<Node> {
  const dir = path.join(cl.dir, name);
  await mkdir(dir, { recursive: true });
  const stateDir = path.join(dir, 'state');
  const config = path.join(dir, 'config.yml');
  const base = {
    state_dir: stateDir,
    certificates: [{ name: names.base, domains: names.domains }],
    cluster: { database: cl.pg.uri(cl.database), node: name, key_file: cl.keyFile },
  };
  const node: Node = {
    name,
    dir,
    config,
    stateDir,
    rewrite: (more = {}) => lab().writeConfig(config, { ...base, ...overrides, ...more, cluster: { ...base.cluster, ...((more.cluster as object | undefined) ?? {}) } }),
    async served(sni) {
      if (node.nginx === undefined) throw new Error(`${name} has no nginx`);
      return (await servedCertificate(node.nginx.host, node.nginx.port, sni)).serialNumber;
    },
  };
  await node.rewrite();
  return node;
}

/** nginx for the node (its live files must exist), and the reload hook + served check in its config. */
export async function serveNode(node: Node, host: string, names: Names): Promise<Nginx> {
  const nginx = await startNginx(node.dir, host, path.join(node.stateDir, 'live', names.base), names.domains);
  node.nginx = nginx;
  await node.rewrite({
    hooks: { deploy: [[path.join(HOOKS_DIR, 'reload-nginx'), '--conf', nginx.conf]] },
    verify_served: [`${nginx.host}:${nginx.port}`],
  });
  return nginx;
}

/** A store of the cluster opened directly, as a renewer would (for seeding versions without a CA). */
export async function seeder(cl: ClusterLab, name = 'seed'): Promise<OpenedClusterStore> {
  const cluster: ClusterConfig = { database: cl.pg.uri(cl.database), node: name, renewer: true, keyFile: cl.keyFile };
  return openClusterStore({ stateDir: path.join(cl.dir, name), cluster });
}

/** Commits a new self-signed version of the lineage through the cluster store; returns its serial (hex, upper case). */
export async function commitVersion(store: OpenedClusterStore, names: Names, serialHex: string): Promise<{ version: number; serial: string }> {
  const { certPem, keyPem } = makeCertificate({ serialHex, commonName: names.base, sans: names.domains });
  // A self-signed certificate is its own chain; fullchain is cert + chain, as the live-file health check demands.
  const files: CertificateFiles = { certPem, chainPem: certPem, fullchainPem: certPem + certPem, privkeyPem: keyPem };
  const lock = await store.locker.acquire(names.base, { waitMs: 30_000 });
  try {
    const result = await store.store.commit(names.base, files, { domains: names.domains, keyType: 'rsa-2048', server: lab().directoryUrl }, { fence: lock.lost });
    return { version: result.version, serial: serialHex.toUpperCase() };
  } finally {
    await lock.release();
  }
}

export interface Watch {
  child: ChildProcess;
  /** Everything it printed on stderr so far. */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** A watch stops within this long of SIGTERM (it finishes the sync in progress), or the test fails. */
const WATCH_STOP_MS = 20_000;

export function startWatch(node: Node, extra: string[] = []): Watch {
  const child = spawn(process.execPath, [CLI, 'watch', '--config', node.config, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => stderr,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), WATCH_STOP_MS);
      });
      const outcome = await Promise.race([exited, late]);
      clearTimeout(timer);
      if (outcome !== 'late') return outcome;
      child.kill('SIGKILL');
      await exited;
      throw new Error(`watch of ${node.name} did not stop within ${WATCH_STOP_MS} ms of ${signal}; its output:\n${stderr}`);
    },
  };
}
