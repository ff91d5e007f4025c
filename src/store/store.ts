/**
 * The file store: the Store contract (contract.ts) over state_dir in certbot's layout (layout.ts).
 */
import { promoteAccountKey, readAccount, stageAccountKey, writeAccountKey, writeAccountUrl } from './accounts.js';
import { lockLostError, StoreConflictError, type CertificateFiles, type CommitResult, type Store, type WriteOptions } from './contract.js';
import { nodeFs, readFileIfAny, readLinkIfAny, refuseSymlinkedDirs, type StoreFs } from './fs.js';
import { GxitError } from '../errors.js';
import { accountDir, archivePaths, checkLineageName, livePaths, storeDirs, versionOfLinkTarget, type LivePaths } from './layout.js';
import { fileJournal } from './journal.js';
import { removeLineageFiles } from './remove.js';
import { commitLineage, listLineages, readLineage, readLineageState, writeLineageState } from './lineage.js';

export type { Store } from './contract.js';

export interface StoreDeps {
  /** File-system operations; node:fs/promises by default. Tests inject failures here. */
  fs?: StoreFs;
  /** The clock for createdAt and history timestamps. */
  now?: () => Date;
}

/** A file store also tells where it lives (for the file-only parts: the lock, --help texts). */
export interface FileStore extends Store {
  readonly stateDir: string;
  /** As Store.commit; the file store also says where the version is live. */
  commit(...args: Parameters<Store['commit']>): Promise<CommitResult & { live: LivePaths }>;
}

function checkFence(options: WriteOptions | undefined, what: string): void {
  if (options?.fence?.aborted) throw lockLostError(what);
}

/** The live version's PEM texts, read from the archive files the cert link points at (one version, never a mix). */
async function readLive(fs: StoreFs, stateDir: string, name: string): Promise<CertificateFiles | undefined> {
  checkLineageName(name);
  await refuseSymlinkedDirs(fs, storeDirs(stateDir, name));
  const live = livePaths(stateDir, name);
  const target = await readLinkIfAny(fs, live.cert);
  if (target === undefined) return undefined;
  const version = versionOfLinkTarget(target, name, 'cert');
  // Servers read the live links, not the archive: each must point at the cert link's version.
  if (version !== undefined) await checkLinksAgree(fs, live, name, version);
  const paths = version === undefined ? live : archivePaths(stateDir, name, version);
  const [certPem, chainPem, fullchainPem, privkeyPem] = await Promise.all([
    readFileIfAny(fs, paths.cert),
    readFileIfAny(fs, paths.chain),
    readFileIfAny(fs, paths.fullchain),
    readFileIfAny(fs, paths.privkey),
  ]);
  if (certPem === undefined || chainPem === undefined || fullchainPem === undefined || privkeyPem === undefined) {
    return undefined;
  }
  return { certPem, chainPem, fullchainPem, privkeyPem };
}

async function checkLinksAgree(fs: StoreFs, live: LivePaths, name: string, version: number): Promise<void> {
  for (const kind of ['privkey', 'chain', 'fullchain'] as const) {
    const target = await readLinkIfAny(fs, live[kind]);
    if (target !== undefined && versionOfLinkTarget(target, name, kind) === version) continue;
    const what = target === undefined ? 'is missing' : `points at ${target}, not at version ${version} like cert.pem`;
    throw new GxitError('STORE_IO', `${live[kind]} ${what}`, {
      subject: live[kind],
      fix: `Run renew (or issue) to store a consistent version of ${name}.`,
    });
  }
}

export function createStore(stateDir: string, deps: StoreDeps = {}): FileStore {
  const fs = deps.fs ?? nodeFs;
  const now = deps.now ?? (() => new Date());
  return {
    stateDir,
    journal: fileJournal(fs, stateDir),
    readAccount: (directoryUrl, eabKid) => readAccount(fs, stateDir, directoryUrl, eabKid),
    writeAccountKey: async (directoryUrl, pem, options) => {
      checkFence(options, `storing the account key for ${directoryUrl}`);
      await writeAccountKey(fs, stateDir, directoryUrl, pem, options?.eabKid);
    },
    writeAccountUrl: async (directoryUrl, account, options) => {
      checkFence(options, `recording the account for ${directoryUrl}`);
      return writeAccountUrl(fs, stateDir, directoryUrl, account, now());
    },
    accountLocation: (directoryUrl, eabKid) => accountDir(stateDir, directoryUrl, eabKid),
    stageAccountKey: async (directoryUrl, pem, options) => {
      checkFence(options, `storing the next account key for ${directoryUrl}`);
      await stageAccountKey(fs, stateDir, directoryUrl, pem, options?.eabKid);
    },
    promoteAccountKey: async (directoryUrl, options) => {
      checkFence(options, `switching the account key for ${directoryUrl}`);
      await promoteAccountKey(fs, stateDir, directoryUrl, options?.eabKid);
    },
    removeLineage: async (name, options) => {
      checkFence(options, `removing lineage ${name}`);
      // The symlink rule holds here too: rm through a symlinked live/ would delete outside state_dir.
      checkLineageName(name);
      await refuseSymlinkedDirs(fs, storeDirs(stateDir, name));
      return removeLineageFiles(stateDir, name, now());
    },
    readLineage: async (name) => {
      const lineage = await readLineage(fs, stateDir, name);
      return lineage === undefined ? undefined : { state: lineage.state, liveVersion: lineage.liveVersion };
    },
    listLineages: () => listLineages(fs, stateDir),
    readLive: (name) => readLive(fs, stateDir, name),
    livePaths: (name) => {
      checkLineageName(name);
      return livePaths(stateDir, name);
    },
    commit: async (name, files, state, options) => {
      checkFence(options, `storing the certificate of ${name}`);
      if (options?.expectedVersion !== undefined) {
        // Under the lock nobody else commits, so checking before writing is enough for one host.
        const current = (await readLineageState(fs, stateDir, name))?.version ?? 0;
        if (current !== options.expectedVersion) throw new StoreConflictError(name, options.expectedVersion, current);
      }
      const result = await commitLineage(fs, stateDir, name, files, state, now());
      return { version: result.version, state: result.state, live: result.live };
    },
    writeLineageState: async (state, options) => {
      checkFence(options, `recording the state of ${state.name}`);
      await writeLineageState(fs, stateDir, state);
    },
  };
}
