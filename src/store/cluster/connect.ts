/**
 * Connections to the cluster database. `pg` is imported here, lazily, so a configuration without
 * `cluster:` never loads it. Every client gets an `error` handler: an unhandled backend termination
 * would otherwise kill the process.
 */
import { readFile, stat } from 'node:fs/promises';
import type { Client, ClientConfig } from 'pg';
import type { ClusterConfig } from '../../config/types.js';
import { GxitError, messageOf } from '../../errors.js';
import { parseClusterKey } from './crypto.js';

export interface ClusterSecrets {
  password?: string;
  key: Buffer;
}

/** A secret file every user can read is refused (pure): the key decrypts every stored private key. */
export function checkSecretMode(mode: number, path: string, key: string): void {
  if ((mode & 0o004) === 0) return;
  throw new GxitError('SECRET_UNAVAILABLE', `cluster.${key}: ${path} is readable by every user (mode ${(mode & 0o777).toString(8).padStart(4, '0')})`, {
    subject: `cluster.${key}`,
    fix: `run chmod 600 ${path}`,
  });
}

/** Reads the password file (if any) and the key file; SECRET_UNAVAILABLE naming the key, never its content. */
export async function readClusterSecrets(config: ClusterConfig): Promise<ClusterSecrets> {
  const read = async (path: string, key: string): Promise<string> => {
    try {
      const text = await readFile(path, 'utf8');
      checkSecretMode((await stat(path)).mode, path, key);
      return text;
    } catch (error) {
      if (error instanceof GxitError) throw error;
      throw new GxitError('SECRET_UNAVAILABLE', `cluster.${key}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? messageOf(error)})`, {
        subject: `cluster.${key}`,
        fix: `create ${path} (mode 0600, readable by the user gxit-cert runs as) or correct cluster.${key}`,
        cause: error,
      });
    }
  };
  const key = parseClusterKey(await read(config.keyFile, 'key_file'), config.keyFile);
  if (config.passwordFile === undefined) return { key };
  const password = (await read(config.passwordFile, 'password_file')).replace(/\r?\n$/, '');
  return { key, password };
}

export interface ConnectOptions {
  /** For pg_stat_activity: which node and what for. */
  purpose: string;
  /** Give up connecting after this long. */
  connectTimeoutMs?: number;
}

/** The database as it may appear in messages: host, port and database name; no user, no parameters. */
export function describeDatabase(uri: string): string {
  try {
    const url = new URL(uri);
    return `${url.hostname || 'localhost'}${url.port === '' ? '' : `:${url.port}`}${url.pathname}`;
  } catch {
    return 'the cluster database';
  }
}

/** The database as messages name it. */
export function databaseName(config: ClusterConfig): string {
  return describeDatabase(config.database);
}

/** CLUSTER_DB for a failure to reach or use the database, naming it (never the password). */
export function databaseError(config: ClusterConfig, what: string, cause: unknown): GxitError {
  if (cause instanceof GxitError) return cause;
  const db = databaseName(config);
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const detail = code !== undefined && !/^[0-9A-Z]{5}$/.test(code) ? code : messageOf(cause);
  return new GxitError('CLUSTER_DB', `cluster database ${db}: ${what} failed: ${detail}`, {
    subject: db,
    fix: 'check that PostgreSQL is running and reachable with cluster.database and its password; nginx keeps serving the current certificate meanwhile',
    cause,
  });
}

/**
 * A connected client. `onError` hears of every failure after the connection is up (backend
 * terminated, network gone); without it the error is swallowed here and surfaces on the next query.
 */
export async function connect(
  config: ClusterConfig,
  secrets: ClusterSecrets,
  options: ConnectOptions,
  onError?: (error: Error) => void,
): Promise<Client> {
  const [pg, { parseIntoClientConfig }] = await Promise.all([import('pg'), import('pg-connection-string')]);
  const clientConfig: ClientConfig = {
    // Parsed here, not passed as connectionString: pg lays the string's own (empty) password over a
    // password given next to it, and password_file would never reach the server.
    ...parseIntoClientConfig(config.database),
    ...(secrets.password === undefined ? {} : { password: secrets.password }),
    application_name: `gxit-cert ${config.node} ${options.purpose}`,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    // TCP keepalives find a peer that vanished without a FIN; the lock's heartbeat finds it sooner.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    // No query_timeout: statements time out in runQuery (query.ts), which says why.
  };
  const client = new pg.default.Client(clientConfig);
  client.on('error', (error: Error) => onError?.(error));
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw databaseError(config, 'connecting', error);
  }
  return client;
}
