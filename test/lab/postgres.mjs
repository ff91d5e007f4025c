/**
 * A throw-away PostgreSQL 15 cluster for the cluster tests and the benchmark: initdb as the postgres
 * user (initdb refuses root), trust authentication, loopback only, a port of its own, fsync off.
 * `stop()` removes everything; `pause()`/`resume()` stop and start the same data directory (an outage).
 * Types: postgres.d.mts.
 */
import { execFile } from 'node:child_process';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BIN = '/usr/lib/postgresql/15/bin';

/** @param {string} command @param {string[]} args */
async function asPostgres(command, args) {
  const { stdout } = await run('runuser', ['-u', 'postgres', '--', command, ...args], { maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/** @param {string} host @param {number} port */
export async function startPostgres(host, port) {
  const dir = await mkdtemp(path.join(tmpdir(), 'gxit-pg-'));
  await chmod(dir, 0o700);
  const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
  const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
  await chown(dir, uid, gid);
  const data = path.join(dir, 'data');
  await asPostgres(path.join(BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '--no-instructions']);
  const options = `-c listen_addresses=${host} -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60`;
  const start = () => asPostgres(path.join(BIN, 'pg_ctl'), ['-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', '-t', '60', 'start']);
  const stopServer = () => asPostgres(path.join(BIN, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
  await start();
  /** @param {string} database @param {string} text */
  const psql = (database, text) =>
    asPostgres('/usr/bin/psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', host, '-p', String(port), '-U', 'postgres', '-d', database, '-c', text]);
  return {
    host,
    port,
    dir,
    /** @param {string} database */
    uri: (database) => `postgresql://postgres@${host}:${port}/${database}`,
    sql: psql,
    /** @param {string} name */
    createDatabase: async (name) => {
      await psql('postgres', `CREATE DATABASE ${name}`);
    },
    pause: async () => {
      await stopServer();
    },
    resume: async () => {
      await start();
    },
    async stop() {
      await stopServer().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
