/**
 * A throw-away PostgreSQL 15 cluster for the cluster tests: initdb as the postgres user (initdb
 * refuses root), trust authentication, loopback only, a port of its own, fsync off. `stop()` removes
 * everything; `pause()`/`resume()` stop and start the same data directory (a database outage).
 */
import { execFile } from 'node:child_process';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BIN = '/usr/lib/postgresql/15/bin';

export interface Postgres {
  host: string;
  port: number;
  dir: string;
  /** postgresql://postgres@host:port/<database> */
  uri(database: string): string;
  /** Runs SQL as the superuser in `database`; returns psql's unaligned output. */
  sql(database: string, text: string): Promise<string>;
  createDatabase(name: string): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

async function asPostgres(command: string, args: string[]): Promise<string> {
  const { stdout } = await run('runuser', ['-u', 'postgres', '--', command, ...args], { maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

export async function startPostgres(host: string, port: number): Promise<Postgres> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gxit-pg-'));
  await chmod(dir, 0o700);
  const { uid, gid } = await ids();
  await chown(dir, uid, gid);
  const data = path.join(dir, 'data');
  await asPostgres(path.join(BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '--no-instructions']);
  const options = `-c listen_addresses=${host} -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60`;
  const start = () => asPostgres(path.join(BIN, 'pg_ctl'), ['-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', '-t', '60', 'start']);
  const stopServer = () => asPostgres(path.join(BIN, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
  await start();
  const psql = (database: string, text: string) =>
    asPostgres('/usr/bin/psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', host, '-p', String(port), '-U', 'postgres', '-d', database, '-c', text]);
  return {
    host,
    port,
    dir,
    uri: (database) => `postgresql://postgres@${host}:${port}/${database}`,
    sql: psql,
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

async function ids(): Promise<{ uid: number; gid: number }> {
  const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
  const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
  return { uid, gid };
}
