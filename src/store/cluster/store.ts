/**
 * The cluster store: the Store and Locker of the contract, on PostgreSQL. The database holds the
 * truth (lineages, every version with its key encrypted, the shared account, ARI state, what each
 * node deployed); each node keeps its own copy in state_dir for nginx (local.ts). A commit is fenced
 * (rows.ts) and runs on the connection that holds the lineage's advisory lock (locker.ts), so a run
 * whose lock was lost cannot commit: its certificate is discarded.
 */
import { X509Certificate } from 'node:crypto';
import type { Client } from 'pg';
import type { ClusterConfig } from '../../config/types.js';
import { GxitError, messageOf } from '../../errors.js';
import { nodeFs, type StoreFs } from '../fs.js';
import { checkLineageName, livePaths } from '../layout.js';
import {
  GLOBAL_SCOPE,
  lockLostError,
  StoreConflictError,
  type CertificateFiles,
  type CommitOptions,
  type CommitResult,
  type OpenedStore,
  type Store,
} from '../contract.js';
import { mergeCommitState, type CommitState, type LineageState } from '../state.js';
import { connect, databaseError, databaseName, readClusterSecrets, type ClusterSecrets } from './connect.js';
import { writeLocalVersion } from './local.js';
import { clusterLocker, type ClusterLocker, type ClusterLockerOptions, type HeldLock } from './locker.js';
import * as rows from './rows.js';
import { migrate, SCHEMA } from './schema.js';
import { createStore } from '../store.js';
import { fileJournal } from '../journal.js';

export interface ClusterStoreDeps {
  fs?: StoreFs;
  now?: () => Date;
  locker?: ClusterLockerOptions;
  /** Connection timeout; a database that does not answer fails the command after this long. */
  connectTimeoutMs?: number;
}

/** What the cluster commands (sync, watch, status) need beyond the contract. */
export interface OpenedClusterStore extends OpenedStore {
  store: Store;
  locker: ClusterLocker;
  cluster: ClusterConfig;
  stateDir: string;
  secrets: ClusterSecrets;
  fs: StoreFs;
  /** The shared connection for reads and unfenced writes. */
  db: Client;
  /** "db.example.org:5432/gxit_cert", for messages. */
  database: string;
  /** Record what this node has of a lineage (after a sync or a deploy). */
  reportNode(state: Omit<rows.NodeState, 'node' | 'updatedAt'>): Promise<void>;
}

/** The renew module's per-run record (runs.deploy) describes this node, not the cluster: it goes to the nodes table. */
interface DeployRecordLike {
  version?: unknown;
  ok?: unknown;
  error?: unknown;
  at?: unknown;
}

function splitDeploy(state: LineageState): { shared: LineageState; deploy?: DeployRecordLike } {
  const runs = (state as { runs?: unknown }).runs;
  if (typeof runs !== 'object' || runs === null || !('deploy' in runs)) return { shared: state };
  const { deploy, ...rest } = runs as { deploy?: DeployRecordLike } & Record<string, unknown>;
  return { shared: { ...state, runs: rest } as LineageState, ...(deploy === undefined ? {} : { deploy }) };
}

/** Where this node keeps its copy, and the cluster section of its configuration. */
export interface ClusterSettings {
  stateDir: string;
  cluster: ClusterConfig;
  /** The deploy includes the served check (verify_served): a successful deploy proves the serial served. */
  servedCheck?: boolean;
}

/** An account as messages name it: its directory, and its EAB key identifier when it has one. */
function accountName(directoryUrl: string, eabKid: string): string {
  return eabKid === '' ? `directory ${directoryUrl}` : `directory ${directoryUrl}, EAB key ${eabKid}`;
}

export async function openClusterStore(config: ClusterSettings, deps: ClusterStoreDeps = {}): Promise<OpenedClusterStore> {
  const cluster = config.cluster;
  const fs = deps.fs ?? nodeFs;
  const now = deps.now ?? (() => new Date());
  const database = databaseName(cluster);
  const secrets = await readClusterSecrets(cluster);
  let broken: Error | undefined;
  const db = await connect(cluster, secrets, { purpose: 'store', ...(deps.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: deps.connectTimeoutMs }) }, (error) => {
    broken = error;
  });
  const guard = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
    try {
      if (broken !== undefined) throw broken;
      return await work();
    } catch (error) {
      throw databaseError(cluster, what, error);
    }
  };
  try {
    await guard('creating or migrating the schema', () => migrate(db, database));
  } catch (error) {
    await db.end().catch(() => undefined);
    throw error;
  }
  const locker = clusterLocker(cluster, secrets, deps.locker);

  const reportNode = (state: Omit<rows.NodeState, 'node' | 'updatedAt'>): Promise<void> =>
    guard(`recording the state of node ${cluster.node}`, () => rows.upsertNodeState(db, { ...state, node: cluster.node }));

  const commitOn = async (lock: HeldLock, name: string, files: CertificateFiles, update: CommitState, options: CommitOptions): Promise<CommitResult> => {
    const what = `the commit of ${name}`;
    const fenced = (): void => {
      lock.assertHeld(what);
      if (options.fence?.aborted) throw lockLostError(what);
    };
    fenced();
    let outcome: rows.CommitOutcome;
    let state: LineageState;
    try {
      const previous = await rows.selectLineage(lock.client, name);
      const expected = options.expectedVersion ?? previous?.currentVersion ?? 0;
      const cert = new X509Certificate(files.certPem);
      state = splitDeploy(mergeCommitState(name, previous?.state, update, expected + 1, now())).shared;
      outcome = await rows.commitVersion(
        lock.client,
        secrets.key,
        { name, expected, files, state, serial: cert.serialNumber, notAfter: new Date(cert.validTo).toISOString(), node: cluster.node },
        fenced,
      );
      if (!outcome.ok) throw new StoreConflictError(name, expected, outcome.currentVersion < 0 ? expected : outcome.currentVersion);
    } catch (error) {
      if (error instanceof GxitError) throw error;
      // The lock's session died under the transaction: nothing was committed, the certificate is discarded.
      if (lock.lost.aborted) throw lockLostError(what);
      throw databaseError(cluster, what, error);
    }
    const version = outcome.version;
    // Committed in the cluster: this node's files follow at once; the others sync on the notification.
    try {
      await writeLocalVersion(fs, config.stateDir, state, version, files);
    } catch (error) {
      throw new GxitError('STORE_IO', `version ${version} of ${name} is committed in ${database}, but this node's files could not be written: ${messageOf(error)}`, {
        subject: livePaths(config.stateDir, name).dir,
        fix: 'fix the cause (disk space, permissions) and run gxit-cert sync',
        cause: error,
      });
    }
    await reportNode({ lineage: name, deployedVersion: version }).catch(() => undefined);
    return { version, state: { ...state, version } };
  };

  const store: Store = {
    // The DNS journal is per node: this host's TXT values, kept in its own state_dir like the file store's.
    journal: fileJournal(fs, config.stateDir),
    readAccount: (directoryUrl, eabKid) =>
      guard(`reading the account for ${directoryUrl}`, async () => {
        const found = await rows.selectAccount(db, secrets.key, directoryUrl, eabKid ?? '');
        if (found === undefined) return undefined;
        return { directoryUrl, keyPem: found.keyPem, ...(found.meta === undefined ? {} : { meta: found.meta }) };
      }),
    async writeAccountKey(directoryUrl, pem, options) {
      if (options?.fence?.aborted) throw lockLostError(`storing the account key for ${directoryUrl}`);
      const kid = options?.eabKid ?? '';
      const inserted = await guard(`storing the account key for ${directoryUrl}`, () => rows.insertAccountKey(db, secrets.key, directoryUrl, pem, kid));
      if (!inserted) {
        throw new GxitError('STORE_IO', `an account key for ${accountName(directoryUrl, kid)} already exists in ${database}`, {
          subject: directoryUrl,
          fix: 'Reuse the stored key (another node registered it first); run again.',
        });
      }
    },
    async writeAccountUrl(directoryUrl, account, options) {
      if (options?.fence?.aborted) throw lockLostError(`recording the account URL for ${directoryUrl}`);
      const kid = account.eabKid ?? '';
      const createdAt = await guard(`recording the account URL for ${directoryUrl}`, () => rows.updateAccountUrl(db, directoryUrl, account.url, account.email, kid));
      if (createdAt === undefined) {
        throw new GxitError('INTERNAL', `no account key for ${accountName(directoryUrl, kid)} in ${database} to record the URL with`, { subject: directoryUrl });
      }
      return {
        url: account.url,
        directoryUrl,
        createdAt: createdAt.toISOString(),
        ...(account.email === undefined ? {} : { email: account.email }),
        ...(kid === '' ? {} : { eabKid: kid }),
      };
    },
    async stageAccountKey(directoryUrl, pem, options) {
      if (options?.fence?.aborted) throw lockLostError(`staging the next account key for ${directoryUrl}`);
      const kid = options?.eabKid ?? '';
      const staged = await guard(`staging the next account key for ${directoryUrl}`, () => rows.stageAccountKey(db, secrets.key, directoryUrl, pem, kid));
      if (!staged) {
        throw new GxitError('STORE_IO', `cannot stage a new key for ${accountName(directoryUrl, kid)} in ${database}: no such account, or an earlier key rollover did not finish`, {
          subject: directoryUrl,
          fix: 'register the account first, or finish the earlier rollover (gxit-cert account rollover) before starting another',
        });
      }
    },
    async promoteAccountKey(directoryUrl, options) {
      if (options?.fence?.aborted) throw lockLostError(`promoting the next account key for ${directoryUrl}`);
      const kid = options?.eabKid ?? '';
      const promoted = await guard(`promoting the next account key for ${directoryUrl}`, () => rows.promoteAccountKey(db, directoryUrl, kid));
      if (!promoted) {
        throw new GxitError('STORE_IO', `no staged key for ${accountName(directoryUrl, kid)} in ${database} to promote`, {
          subject: directoryUrl,
          fix: 'stage the next key first (gxit-cert account rollover)',
        });
      }
    },
    accountLocation: (directoryUrl, eabKid) => `the accounts table of ${database} (${accountName(directoryUrl, eabKid ?? '')})`,

    async removeLineage(name, options) {
      checkLineageName(name);
      if (options?.fence?.aborted) throw lockLostError(`removing lineage ${name}`);
      const id = await guard(`removing lineage ${name}`, () => rows.removeLineage(db, name, cluster.node));
      if (id === undefined) return undefined;
      // This node's own copy goes too (with the file store's backup); other nodes keep theirs.
      await createStore(config.stateDir, { fs }).removeLineage(name).catch(() => undefined);
      return { backup: `row ${id} of ${SCHEMA}.removed_lineages in ${database}` };
    },

    async readLineage(name) {
      checkLineageName(name);
      const row = await guard(`reading lineage ${name}`, () => rows.selectLineage(db, name));
      return row === undefined ? undefined : { state: row.state, liveVersion: row.currentVersion };
    },
    listLineages: () => guard('listing the lineages', async () => (await rows.selectLineages(db)).map((r) => r.name)),
    async readLive(name) {
      checkLineageName(name);
      return guard(`reading the live version of ${name}`, async () => {
        const row = await rows.selectLineage(db, name);
        return row === undefined ? undefined : rows.selectVersion(db, secrets.key, name, row.currentVersion);
      });
    },
    livePaths: (name) => {
      checkLineageName(name);
      return livePaths(config.stateDir, name);
    },

    async commit(name, files, update, options = {}) {
      checkLineageName(name);
      const what = `the commit of ${name}`;
      if (options.fence?.aborted) throw lockLostError(what);
      // The commit runs on the connection of the caller's lock; a caller without one gets the lineage's
      // lock for this commit only (LOCKED when another run holds it).
      const held = locker.held(name) ?? locker.held(GLOBAL_SCOPE);
      const lock = held ?? (await locker.acquire(name, { waitMs: 0 }));
      try {
        return await commitOn(lock, name, files, update, options);
      } finally {
        if (held === undefined) await lock.release();
      }
    },

    async writeLineageState(state, options) {
      checkLineageName(state.name);
      if (options?.fence?.aborted) throw lockLostError(`writing the state of ${state.name}`);
      const { shared, deploy } = splitDeploy(state);
      await guard(`writing the state of ${state.name}`, () => rows.updateLineageState(db, shared));
      if (deploy !== undefined && typeof deploy.version === 'number') {
        const deployedVersion = deploy.version;
        const servedSerial =
          config.servedCheck === true && deploy.ok === true
            ? await guard(`reading ${state.name} version ${deployedVersion}`, () => rows.selectSerial(db, state.name, deployedVersion))
            : undefined;
        await reportNode({
          lineage: state.name,
          deployedVersion,
          deployOk: deploy.ok === true,
          ...(servedSerial === undefined ? {} : { servedSerial }),
          ...(typeof deploy.error === 'string' ? { lastError: deploy.error } : {}),
          ...(typeof deploy.at === 'string' ? { deployedAt: deploy.at } : {}),
        });
      }
    },
  };

  let closed = false;
  return {
    store,
    locker,
    cluster,
    stateDir: config.stateDir,
    secrets,
    fs,
    db,
    database,
    reportNode,
    async close() {
      if (closed) return;
      closed = true;
      await locker.releaseAll();
      await db.end().catch(() => undefined);
    },
  };
}
