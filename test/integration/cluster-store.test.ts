/**
 * The cluster store against a real PostgreSQL 15: schema, fenced commit, key encryption, the
 * advisory lock and what happens when its session dies.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterConfig } from '../../src/config/types.js';
import { GLOBAL_SCOPE, type CertificateFiles } from '../../src/store/contract.js';
import { pullLineage } from '../../src/store/cluster/pull.js';
import { runQuery } from '../../src/store/cluster/query.js';
import { openClusterStore, type OpenedClusterStore } from '../../src/store/cluster/store.js';
import { GxitError } from '../../src/errors.js';
import { makeCertificate } from '../unit/renew/certs.js';
import { startPostgres, type Postgres } from '../lab/postgres.mjs';
import { freePort } from './renew-helpers.js';

const HOST = '127.0.62.1';
const NAME = 'store.example.org';
const STATE = { domains: [NAME], keyType: 'ecdsa-p256' as const, server: 'https://ca.test/dir' };

let pg: Postgres;
let dir: string;
const opened: OpenedClusterStore[] = [];

function files(serialHex: string): CertificateFiles {
  const { certPem, keyPem } = makeCertificate({ serialHex, commonName: NAME, sans: [NAME] });
  return { certPem, chainPem: certPem, fullchainPem: certPem + certPem, privkeyPem: keyPem };
}

async function node(name: string, database = 'store'): Promise<OpenedClusterStore> {
  const stateDir = path.join(dir, name);
  const cluster: ClusterConfig = { database: pg.uri(database), node: name, renewer: true, keyFile: path.join(dir, 'cluster.key') };
  const store = await openClusterStore({ stateDir, cluster }, { locker: { heartbeatMs: 200, pollMs: 50 } });
  opened.push(store);
  return store;
}

async function rejection(promise: Promise<unknown>): Promise<GxitError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GxitError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'gxit-cs-'));
  await writeFile(path.join(dir, 'cluster.key'), `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  pg = await startPostgres(HOST, await freePort(HOST));
  await pg.createDatabase('store');
});
afterAll(async () => {
  for (const s of opened) await s.close();
  await pg?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('cluster store on PostgreSQL', () => {
  it('creates its schema once (a second node finds it migrated) and keeps to its own schema', async () => {
    await Promise.all([node('m1'), node('m2')]);
    expect(await pg.sql('store', 'SELECT version FROM gxit_cert.schema_version ORDER BY version')).toBe('1\n2\n');
    const tables = await pg.sql('store', "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'");
    expect(tables.trim()).toBe('');
  });

  it('commits only under the lock, fenced on the version it expected, with the key encrypted', async () => {
    const a = await node('a');
    const b = await node('b');
    // A commit without a lock of its caller needs the lineage's lock for itself.
    const other = await b.locker.acquire(NAME, { waitMs: 0 });
    expect((await rejection(a.store.commit(NAME, files('01'), STATE))).code).toBe('LOCKED');
    await other.release();

    const lock = await a.locker.acquire(NAME, { waitMs: 0 });
    const v1 = files('0a01');
    const first = await a.store.commit(NAME, v1, STATE, { expectedVersion: 0, fence: lock.lost });
    expect(first.version).toBe(1);
    // This node's files follow at once, in the certbot layout.
    expect(await readlink(path.join(a.stateDir, 'live', NAME, 'cert.pem'))).toBe(`../../archive/${NAME}/cert1.pem`);
    expect(await readFile(path.join(a.stateDir, 'live', NAME, 'privkey.pem'), 'utf8')).toBe(v1.privkeyPem);

    // A stale expectation writes nothing.
    const conflict = await rejection(a.store.commit(NAME, files('0a02'), STATE, { expectedVersion: 0, fence: lock.lost }));
    expect(conflict.code).toBe('STORE_CONFLICT');
    expect(await pg.sql('store', `SELECT count(*) FROM gxit_cert.versions WHERE lineage = '${NAME}'`)).toBe('1\n');
    await lock.release();

    // The database never holds the key in clear; another node reads it back.
    const raw = await pg.sql('store', `SELECT encode(key_ciphertext, 'escape') FROM gxit_cert.versions WHERE lineage = '${NAME}'`);
    expect(raw).not.toContain('PRIVATE KEY');
    expect((await b.store.readLive(NAME))?.privkeyPem).toBe(v1.privkeyPem);
    expect(await b.store.readLineage(NAME)).toMatchObject({ liveVersion: 1, state: { name: NAME, version: 1, domains: [NAME] } });

    // Bound to lineage and version: a ciphertext moved to another version does not decrypt.
    const lock2 = await b.locker.acquire(NAME, { waitMs: 0 });
    await b.store.commit(NAME, files('0a03'), STATE, { expectedVersion: 1, fence: lock2.lost });
    await lock2.release();
    await pg.sql(
      'store',
      `UPDATE gxit_cert.versions v SET key_nonce = o.key_nonce, key_ciphertext = o.key_ciphertext, key_tag = o.key_tag
       FROM gxit_cert.versions o WHERE v.lineage = '${NAME}' AND v.version = 2 AND o.lineage = v.lineage AND o.version = 1`,
    );
    const tampered = await rejection(a.store.readLive(NAME));
    expect(tampered.code).toBe('CLUSTER_DB');
    expect(tampered.message).toContain(`${NAME} version 2`);
  });

  it('lets one node hold a lineage lock at a time and names the holder', async () => {
    const a = await node('lock-a');
    const b = await node('lock-b');
    const held = await a.locker.acquire('locked.example.org', { waitMs: 0 });
    let told: unknown;
    const refused = await rejection(b.locker.acquire('locked.example.org', { waitMs: 300, onWait: (holder) => (told = holder) }));
    expect(refused.code).toBe('LOCKED');
    expect(refused.message).toContain('node lock-a');
    expect(told).toMatchObject({ hostname: 'lock-a' });
    await held.release();
    const next = await b.locker.acquire('locked.example.org', { waitMs: 0 });
    await next.release();
  });

  it('locks lineages apart: runs on other lineages go on, overlapping ones wait, the global scope waits for all', async () => {
    await pg.createDatabase('lineages');
    const a = await node('lin-a', 'lineages');
    const b = await node('lin-b', 'lineages');
    const first = 'one.example.org';
    const second = 'two.example.org';
    const third = 'three.example.org';
    const runA = await a.locker.acquireLineages([first], { waitMs: 0 });
    // Another lineage: at once, and its commit runs on that lock.
    const runB = await b.locker.acquireLineages([second], { waitMs: 0 });
    expect(b.locker.held(second)).toBe(runB);
    const committed = await b.store.commit(second, files('0c01'), { ...STATE, domains: [second] }, { expectedVersion: 0, fence: runB.lost });
    expect(committed.version).toBe(1);

    // An overlapping set waits and is refused naming the holder; it holds nothing of its set meanwhile.
    const overlap = await rejection(b.locker.acquireLineages([third, first], { waitMs: 300 }));
    expect(overlap.code).toBe('LOCKED');
    expect(overlap.message).toContain(`${first}: the cluster lock`);
    expect(overlap.message).toContain('node lin-a');
    const thirdAlone = await a.locker.acquire(third, { waitMs: 0 });
    await thirdAlone.release();

    // The global scope (account changes, removal) waits while any lineage is locked, and they for it.
    const global = await rejection(a.locker.acquire(GLOBAL_SCOPE, { waitMs: 300 }));
    expect(global.code).toBe('LOCKED');
    await runA.release();
    await runB.release();
    const exclusive = await a.locker.acquire(GLOBAL_SCOPE, { waitMs: 0 });
    const blocked = await rejection(b.locker.acquireLineages([], { waitMs: 300 }));
    expect(blocked.message).toContain('an account change or a removal');
    expect(blocked.message).toContain('node lin-a');
    await exclusive.release();
    const sweep = await b.locker.acquireLineages([], { waitMs: 0 });
    await sweep.release();
    // Nothing of a released run stays locked in the database.
    expect(await pg.sql('lineages', "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")).toBe('0\n');
  });

  it('marks the lock lost when its session is terminated, and the commit is discarded', async () => {
    await pg.createDatabase('term');
    const a = await node('term-a', 'term');
    const lock = await a.locker.acquire(NAME, { waitMs: 0 });
    await a.store.commit(NAME, files('0b01'), STATE, { expectedVersion: 0, fence: lock.lost });
    const pid = (await pg.sql('term', "SELECT pid FROM pg_stat_activity WHERE application_name = 'gxit-cert term-a lock'")).trim();
    expect(pid).toMatch(/^\d+$/);
    await pg.sql('term', `SELECT pg_terminate_backend(${pid})`);
    const deadline = Date.now() + 10_000;
    while (!lock.lost.aborted && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(lock.lost.aborted).toBe(true);

    const lost = await rejection(a.store.commit(NAME, files('0b02'), STATE, { expectedVersion: 1, fence: lock.lost }));
    expect(lost.code).toBe('LOCK_LOST');
    expect(await pg.sql('term', 'SELECT current_version FROM gxit_cert.lineages')).toBe('1\n');
    expect(await pg.sql('term', 'SELECT count(*) FROM gxit_cert.versions')).toBe('1\n');
    await lock.release();

    // The lock died with the session: another node takes it at once.
    const b = await node('term-b', 'term');
    const taken = await b.locker.acquire(NAME, { waitMs: 0 });
    await taken.release();
  });

  it('brings a node that was away up to the current version, archiving the versions in between', async () => {
    await pg.createDatabase('pull');
    const renewer = await node('pull-r', 'pull');
    const serials = ['0c01', '0c02', '0c03'].map(files);
    for (const [index, version] of serials.entries()) {
      const lock = await renewer.locker.acquire(NAME, { waitMs: 0 });
      await renewer.store.commit(NAME, version, STATE, { expectedVersion: index, fence: lock.lost });
      await lock.release();
    }
    const away = await node('pull-away', 'pull');
    expect(await pullLineage(away, NAME)).toMatchObject({ from: undefined, to: 3, changed: true });
    for (const [index, version] of serials.entries()) {
      expect(await readFile(path.join(away.stateDir, 'archive', NAME, `cert${index + 1}.pem`), 'utf8')).toBe(version.certPem);
    }
    expect(await readlink(path.join(away.stateDir, 'live', NAME, 'privkey.pem'))).toBe(`../../archive/${NAME}/privkey3.pem`);
    const state = JSON.parse(await readFile(path.join(away.stateDir, 'renewal', `${NAME}.json`), 'utf8'));
    expect(state).toMatchObject({ name: NAME, version: 3, domains: [NAME] });
    expect(await pullLineage(away, NAME)).toMatchObject({ from: 3, to: 3, changed: false });
  });

  it('a statement without an answer within its timeout fails and drops the connection; the store reports the database', async () => {
    const a = await node('timeout');
    const ended = new Promise<void>((resolve) => a.db.once('end', () => resolve()));
    const started = Date.now();
    await expect(runQuery(a.db, 'SELECT pg_sleep(30)', [], 300)).rejects.toThrow('no answer within 0.3 s');
    // Far sooner than the statement would have answered (generous bound: 30 s is the sleep).
    expect(Date.now() - started).toBeLessThan(20_000);
    await ended;
    // The next read fails at once, naming the database (the caller reconnects or exits 1).
    const failed = await rejection(a.store.readLineage(NAME));
    expect(failed.code).toBe('CLUSTER_DB');
    expect(failed.message).toContain(`${HOST}:${pg.port}/store`);
    expect(await runQuery<{ n: number }>((await node('timeout-2')).db, 'SELECT 1 AS n').then((r) => r.rows)).toEqual([{ n: 1 }]);
  });
});
