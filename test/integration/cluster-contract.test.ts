/** The Store contract suite (test/unit/store/contract-suite.ts) run against the cluster store on a real PostgreSQL. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { openClusterStore, type OpenedClusterStore } from '../../src/store/cluster/store.js';
import { startPostgres, type Postgres } from '../lab/postgres.mjs';
import { storeContractSuite } from '../unit/store/contract-suite.js';
import { freePort } from './renew-helpers.js';

const HOST = '127.0.64.1';
let pg: Postgres;
let dir: string;
let count = 0;
const opened: OpenedClusterStore[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'gxit-cc-'));
  await writeFile(path.join(dir, 'cluster.key'), randomBytes(32).toString('hex'), { mode: 0o600 });
  pg = await startPostgres(HOST, await freePort(HOST));
});
afterAll(async () => {
  for (const s of opened) await s.close();
  await pg?.stop();
  await rm(dir, { recursive: true, force: true });
});

storeContractSuite('cluster store (PostgreSQL)', async () => {
  // Every case starts from an empty store: a database of its own.
  const database = `contract_${++count}`;
  await pg.createDatabase(database);
  const store = await openClusterStore({
    stateDir: path.join(dir, database),
    cluster: { database: pg.uri(database), node: 'contract', renewer: true, keyFile: path.join(dir, 'cluster.key') },
  });
  opened.push(store);
  return store.store;
});
