/**
 * The store: everything gxit-cert keeps under state_dir, behind one small contract.
 */
import { readAccount, writeAccountKey, writeAccountUrl, type AccountMeta, type StoredAccount } from './accounts.js';
import { nodeFs, type StoreFs } from './fs.js';
import { checkLineageName, livePaths, type LivePaths } from './layout.js';
import {
  commitLineage,
  listLineages,
  readLineage,
  writeLineageState,
  type CertificateFiles,
  type CommitResult,
  type Lineage,
} from './lineage.js';
import type { CommitState, LineageState } from './state.js';

/**
 * What a Store implementation MUST guarantee:
 * - Every file is replaced atomically (temp file in the same directory, fsync, rename, directory
 *   fsync); a private key is never readable by others, not even for an instant (0600 on the temp
 *   file before the first byte).
 * - An archived version and an account key are never overwritten.
 * - A failure before the live switch of `commit` leaves live/ and the old certificate as they were.
 * - Every failure is a GxitError (STORE_IO, or INTERNAL for misuse), never a bare fs error.
 *
 * What a caller MUST do: hold the state lock (lock.ts) around every write, and re-read whatever it
 * decided on (readLineage, readAccount) after acquiring the lock, since another run may have
 * committed in the meantime. Reads without the lock see complete files but maybe an older version.
 * The store is not safe for concurrent writers without that lock.
 */
export interface Store {
  readonly stateDir: string;

  /** The stored account for this ACME directory, undefined when no key was stored yet. */
  readAccount(directoryUrl: string): Promise<StoredAccount | undefined>;
  /** Store a new account key (0600). STORE_IO when a key is already there: reuse it instead. */
  writeAccountKey(directoryUrl: string, pem: string): Promise<void>;
  /** Record the account URL returned by the CA; keeps createdAt when the URL is unchanged. */
  writeAccountUrl(directoryUrl: string, account: { url: string; email?: string }): Promise<AccountMeta>;

  /** State and live paths of a lineage; undefined when renewal/<name>.json does not exist. */
  readLineage(name: string): Promise<Lineage | undefined>;
  /** Names of all lineages, sorted. */
  listLineages(): Promise<string[]>;
  /** Paths of live/<name>/* (whether or not they exist yet). */
  livePaths(name: string): LivePaths;
  /** Store a new certificate version and switch live/ to it; see lineage.ts for the order of steps. */
  commit(name: string, files: CertificateFiles, state: CommitState): Promise<CommitResult>;
  /** Replace the lineage state without a new version (lastRun after a failure, ARI updates). */
  writeLineageState(state: LineageState): Promise<void>;
}

export interface StoreDeps {
  /** File-system operations; node:fs/promises by default. Tests inject failures here. */
  fs?: StoreFs;
  /** The clock for createdAt and history timestamps. */
  now?: () => Date;
}

export function createStore(stateDir: string, deps: StoreDeps = {}): Store {
  const fs = deps.fs ?? nodeFs;
  const now = deps.now ?? (() => new Date());
  return {
    stateDir,
    readAccount: (directoryUrl) => readAccount(fs, stateDir, directoryUrl),
    writeAccountKey: (directoryUrl, pem) => writeAccountKey(fs, stateDir, directoryUrl, pem),
    writeAccountUrl: (directoryUrl, account) => writeAccountUrl(fs, stateDir, directoryUrl, account, now()),
    readLineage: (name) => readLineage(fs, stateDir, name),
    listLineages: () => listLineages(fs, stateDir),
    livePaths: (name) => {
      checkLineageName(name);
      return livePaths(stateDir, name);
    },
    commit: (name, files, state) => commitLineage(fs, stateDir, name, files, state, now()),
    writeLineageState: (state) => writeLineageState(fs, stateDir, state),
  };
}
