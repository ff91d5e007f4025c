/** The store's public surface: the contract, its factory, and the file store's layout for tests and tools. */
export * from './contract.js';
export { openStore, type OpenStoreDeps } from './factory.js';
export { createStore, type FileStore, type StoreDeps } from './store.js';
export { PEM_KINDS, accountSlug, livePaths, lockPath, type PemKind } from './layout.js';
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
