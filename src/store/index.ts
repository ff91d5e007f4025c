/** The store's public surface: state directory layout, atomic writes, lineages, accounts, lock. */
export { createStore, type Store, type StoreDeps } from './store.js';
export type { AccountMeta, StoredAccount } from './accounts.js';
export type { CertificateFiles, CommitResult, Lineage } from './lineage.js';
export type { AriState, CommitState, LineageHistoryEntry, LineageRun, LineageState } from './state.js';
export { PEM_KINDS, accountSlug, livePaths, lockPath, type LivePaths, type PemKind } from './layout.js';
export type { StoreFs } from './fs.js';
export {
  acquireLock,
  lockStaleness,
  type LockFacts,
  type LockHolder,
  type LockOptions,
  type LockWaitInfo,
  type StaleReason,
  type StateLock,
} from './lock.js';
