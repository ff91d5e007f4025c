/**
 * The one place that builds a store and its locker from the configuration. Today: the file store
 * under state_dir. A cluster store (PostgreSQL) is chosen here from its configuration section, so
 * the flow never knows which backend it talks to.
 */
import type { ClusterConfig, Config } from '../config/types.js';
import type { OpenedClusterStore } from './cluster/store.js';
import type { OpenedStore } from './contract.js';
import { fileLocker, type FileLockerOptions } from './file-locker.js';
import { createStore, type StoreDeps } from './store.js';

export interface OpenStoreDeps extends StoreDeps {
  lock?: FileLockerOptions;
}

export async function openStore(config: Pick<Config, 'stateDir' | 'cluster' | 'verifyServed'>, deps: OpenStoreDeps = {}): Promise<OpenedStore> {
  if (config.cluster !== undefined) return openConfiguredCluster({ ...config, cluster: config.cluster });
  const store = createStore(config.stateDir, deps);
  const locker = fileLocker(config.stateDir, deps.lock);
  return { store, locker, close: async () => undefined };
}

/** The cluster store of a configuration with a cluster: section, with what the cluster commands need beyond the contract (its connection). */
export async function openConfiguredCluster(config: Pick<Config, 'stateDir' | 'verifyServed'> & { cluster: ClusterConfig }): Promise<OpenedClusterStore> {
  // The PostgreSQL client is loaded here only, for a configuration with a cluster: section.
  const { openClusterStore } = await import('./cluster/store.js');
  return openClusterStore({ stateDir: config.stateDir, cluster: config.cluster, servedCheck: (config.verifyServed?.length ?? 0) > 0 });
}
