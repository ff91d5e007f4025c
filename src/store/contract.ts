/**
 * The seam between the flow and where certificates, accounts and the lock live: a Store and a
 * Locker. The file store (certbot layout under state_dir, `.lock`) implements both; a cluster store
 * (PostgreSQL) implements the same interfaces. Nothing here names a file-system type: a backend that
 * has no files still fits. Changes to this file are additive only (new optional members).
 *
 * The caller's rules (certmagic's):
 * - Hold a Lock from the Locker around every write, and pass its `lost` signal as the `fence` of
 *   every write, so that a run whose lock was taken over stops before it writes again.
 * - After acquiring the lock, read again whatever was decided on before (readLineage, readAccount):
 *   another run, possibly on another host, may have committed in the meantime.
 * - Reads without the lock see complete records, but maybe an older version.
 */
import { GxitError } from '../errors.js';
import type { AccountMeta, StoredAccount } from './accounts.js';
import type { LivePaths } from './layout.js';
import type { CommitState, LineageState } from './state.js';

export type { AccountMeta, StoredAccount } from './accounts.js';
export type { LivePaths } from './layout.js';
export type { AriState, CommitState, LineageHistoryEntry, LineageRun, LineageState, RevocationReason, RevokedState } from './state.js';
export { REVOCATION_REASONS } from './state.js';

/** The PEM texts of one certificate version. */
export interface CertificateFiles {
  privkeyPem: string;
  certPem: string;
  chainPem: string;
  fullchainPem: string;
}

/** A lineage as the store knows it. */
export interface StoredLineage {
  state: LineageState;
  /** The version the live certificate is; undefined when no version is live (yet, or any more). */
  liveVersion: number | undefined;
}

export interface CommitOptions {
  /**
   * The version the caller saw when it decided to order (0: no lineage yet). When given and the
   * store finds another current version, commit writes nothing and throws a StoreConflictError.
   */
  expectedVersion?: number;
  /** See WriteOptions.fence. */
  fence?: AbortSignal;
}

export interface WriteOptions {
  /**
   * Usually the holding Lock's `lost` signal. A write MUST NOT start when it is aborted; the store
   * throws a GxitError with code LOCK_LOST instead. (A write already past its commit point completes.)
   */
  fence?: AbortSignal;
}

/** What a commit stored. */
export interface CommitResult {
  version: number;
  state: LineageState;
}

/**
 * What every Store implementation MUST guarantee:
 * - Every record is replaced atomically: a reader sees the old or the new one, never a mix. A private
 *   key is never readable by other users, not even for an instant.
 * - A stored certificate version and an account key are never overwritten.
 * - `commit` either makes the new version live or leaves the old one live and readable; a failure
 *   before the live switch changes nothing a reader can see.
 * - Every failure is a GxitError (STORE_IO, STORE_CONFLICT, LOCK_LOST, or INTERNAL for misuse).
 * - Lineage names and directory URLs are checked by the store itself (they may become paths or keys).
 * - No method returns or logs a secret except readAccount/readLive, which return key PEMs to the caller.
 */
export interface Store {
  /**
   * The stored account for this ACME directory, undefined when no key was stored yet. Accounts are
   * kept per directory AND per EAB key identifier: `eabKid` undefined is the directory's plain
   * account, each kid names another, separate account (own key, own URL).
   */
  readAccount(directoryUrl: string, eabKid?: string): Promise<StoredAccount | undefined>;
  /** Store a new account key. STORE_IO when a key is already there: reuse that one instead. */
  writeAccountKey(directoryUrl: string, pem: string, options?: AccountWriteOptions): Promise<void>;
  /** Record the account URL returned by the CA; keeps createdAt when the URL is unchanged. */
  writeAccountUrl(
    directoryUrl: string,
    account: { url: string; email?: string; eabKid?: string },
    options?: WriteOptions,
  ): Promise<AccountMeta>;
  /**
   * Key rollover (RFC 8555 §7.3.5), step 1: keep `pem` as the next key and a backup of the current
   * one, both as private as a key; the current key stays the account key. STORE_IO when an earlier
   * rollover did not finish.
   */
  stageAccountKey(directoryUrl: string, pem: string, options?: AccountWriteOptions): Promise<void>;
  /** Step 2, after the CA confirmed: the staged key replaces the account key atomically; the backup goes. */
  promoteAccountKey(directoryUrl: string, options?: AccountWriteOptions): Promise<void>;
  /** Where the account of this directory (and kid) is kept, for messages ("move ... aside"); never a secret. */
  accountLocation(directoryUrl: string, eabKid?: string): string;

  /** The lineage; undefined when it was never committed. */
  readLineage(name: string): Promise<StoredLineage | undefined>;
  /** Names of all lineages, sorted. */
  listLineages(): Promise<string[]>;
  /** The PEM texts of the live version; undefined when no version is live. */
  readLive(name: string): Promise<CertificateFiles | undefined>;
  /**
   * The local files that servers and hooks read (nginx, deploy hooks): whether or not they exist yet.
   * Only for handing paths to other programs; read the certificate itself with readLive.
   */
  livePaths(name: string): LivePaths;

  /** Store a new certificate version and make it live. */
  commit(name: string, files: CertificateFiles, state: CommitState, options?: CommitOptions): Promise<CommitResult>;
  /** Replace the lineage state without a new version (lastRun after a failure, ARI updates). */
  writeLineageState(state: LineageState, options?: WriteOptions): Promise<void>;
  /**
   * Remove a lineage entirely (every version, its key and its state), keeping a backup first; returns
   * where the backup is (a path, a row: for messages), undefined when there was no such lineage.
   * The backup MUST be complete before anything is removed, and as private as a key (0600).
   */
  removeLineage(name: string, options?: WriteOptions): Promise<{ backup: string } | undefined>;

  /**
   * The DNS change journal of this node (the host the run is on): the TXT values a run is about to
   * write, so that a run killed before its cleanup has them removed by the next one. Optional: a
   * store without it gets no crash recovery of DNS records (the flow still cleans up normally).
   */
  readonly journal?: DnsJournal;
}

/** One TXT value as the journal keeps it (the DnsProvider's TxtRecord, without importing the DNS core). */
export interface JournalRecord {
  fqdn: string;
  value: string;
  /** The domain the value validates, when known (hook-style providers pass it on). */
  domain?: string;
}

/** One batch of TXT values a run was about to write through one provider. */
export interface JournalEntry {
  /** Unique, chosen by the writer; a backend may use it as a file name or key ([a-z0-9-]{1,64}). */
  id: string;
  /** The provider's name (dns.provider) that writes the values. */
  provider: string;
  /** Where that provider writes (servers, zone, key name, hosted zone): never a secret. */
  identity: string;
  records: JournalRecord[];
  /** The command that wrote the entry (issue, renew, check-dns). */
  command: string;
  /** The writing process, so that an entry of a run still alive is left to that run. */
  pid: number;
  hostname: string;
  /** ISO 8601. */
  createdAt: string;
}

/**
 * What every journal implementation MUST guarantee:
 * - `record` resolves only once the entry is durable (fsynced, committed): a crash right after it
 *   still leaves the entry for the next run. Recording an existing id replaces that entry atomically.
 * - `clear` of an unknown id is not an error; `list` returns complete entries only, oldest first.
 * - The journal is per node: entries of one host are never listed on another (each host's
 *   provider credentials and runs are its own).
 * - Failures are GxitErrors (STORE_IO, LOCK_LOST when a write's fence is aborted).
 */
export interface DnsJournal {
  record(entry: JournalEntry, options?: WriteOptions): Promise<void>;
  clear(id: string): Promise<void>;
  list(): Promise<JournalEntry[]>;
  /** Where the journal is kept, for messages; never a secret. */
  readonly location: string;
}

/** Which account of a directory a key belongs to (see readAccount). */
export interface AccountWriteOptions extends WriteOptions {
  eabKid?: string;
}

/** Who holds a lock, as far as the backend can tell (for "waiting for pid N on host H"). */
export interface LockHolderInfo {
  pid?: number;
  hostname?: string;
  /** ISO 8601. */
  since?: string;
}

export interface AcquireOptions {
  /** Aborting stops the wait: acquire rejects with the signal's reason (INTERRUPTED). */
  signal?: AbortSignal;
  /** Give up with LOCKED after waiting this long (0: try once). */
  waitMs: number;
  /** Called once, when the first attempt finds the lock held. */
  onWait?: (holder: LockHolderInfo | undefined) => void;
}

/**
 * A held lock.
 * Obligations of the holder: call release() exactly once, also on failure (try/finally); combine
 * `lost` into the run's signal and pass it as the fence of every store write; keep the event loop
 * turning (a process blocked for longer than the backend's stale limit loses the lock).
 */
export interface Lock {
  /** Aborted when the lock is no longer ours (heartbeat failed, taken over). Never un-aborts. */
  readonly lost: AbortSignal;
  /** Give the lock up; never removes a lock that someone else has taken over. Idempotent. */
  release(): Promise<void>;
}

/**
 * Mutual exclusion between runs (processes, hosts) on one store.
 * Guarantees: while a Lock is held and not `lost`, no other acquire of the same scope succeeds; a
 * holder that died or hangs is taken over after the backend's stale limit. A backend may map several
 * scopes to one lock (the file store maps every scope to state_dir/.lock); callers MUST NOT hold two
 * locks at once.
 */
export interface Locker {
  /** Throws LOCKED (naming the holder) after waitMs, INTERRUPTED when the signal aborts, STORE_IO. */
  acquire(scope: string, options: AcquireOptions): Promise<Lock>;
  /**
   * Optional, for backends whose lineages are locked independently (the cluster): one Lock over
   * these lineages and nothing else, so that runs on other lineages (on other hosts) go on at the
   * same time, while GLOBAL_SCOPE still waits for all of them and they for it. Every lineage is
   * taken or none (no lock is held while waiting: no deadlock between two runs that want an
   * overlapping set). An empty list excludes only GLOBAL_SCOPE holders. Without this member, a run
   * takes GLOBAL_SCOPE (see lockLineages).
   */
  acquireLineages?(names: readonly string[], options: AcquireOptions): Promise<Lock>;
}

/** The lock an issue/renew run (or a journal sweep) takes: its lineages where the backend can, else GLOBAL_SCOPE. */
export function lockLineages(locker: Locker, names: readonly string[], options: AcquireOptions): Promise<Lock> {
  return locker.acquireLineages === undefined ? locker.acquire(GLOBAL_SCOPE, options) : locker.acquireLineages(names, options);
}

/** The scope that covers the whole store (all lineages, all accounts). */
export const GLOBAL_SCOPE = 'global';

/** What openStore (factory.ts) returns. */
export interface OpenedStore {
  store: Store;
  locker: Locker;
  /** Release the backend's resources (connections); idempotent. Held locks are released first. */
  close(): Promise<void>;
}

/** Thrown by commit when expectedVersion does not match: another run committed first. */
export class StoreConflictError extends GxitError {
  readonly expectedVersion: number;
  readonly currentVersion: number;

  constructor(name: string, expectedVersion: number, currentVersion: number) {
    super(
      'STORE_CONFLICT',
      `${name}: version ${currentVersion} was stored by another run while this one expected version ${expectedVersion}`,
      { subject: name, fix: 'Nothing was written; run again to decide on the current version.' },
    );
    this.expectedVersion = expectedVersion;
    this.currentVersion = currentVersion;
  }
}

/** Thrown by a write whose fence (the Lock's `lost` signal) is aborted. */
export function lockLostError(what: string): GxitError {
  return new GxitError('LOCK_LOST', `the lock was lost before ${what}; nothing more was written`, {
    subject: what,
    fix: 'Another run took the lock over (this one hung or its heartbeat failed); check it and run again.',
  });
}
