/**
 * The cluster's tables, in a schema of their own (never Galaxy's tables), created and migrated by the
 * tool itself. Migrations run in one transaction under a transaction-level advisory lock, so nodes
 * starting at once apply each step exactly once; a node that finds a newer schema than it knows stops.
 */
import type { Client } from 'pg';
import { GxitError } from '../../errors.js';
import { runQuery } from './query.js';

export const SCHEMA = 'gxit_cert';
/** Namespace of our advisory locks (first key); the second key tells them apart. */
export const LOCK_NAMESPACE = 0x67786974; // "gxit"
const MIGRATION_LOCK = 0;

/** Each step, in order; the index + 1 is its version. Never edit a released step: append one. */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE ${SCHEMA}.lineages (
     name            text PRIMARY KEY,
     domains         text[] NOT NULL,
     key_type        text NOT NULL,
     server          text NOT NULL,
     current_version integer NOT NULL CHECK (current_version >= 0),
     state           jsonb NOT NULL DEFAULT '{}'::jsonb,
     updated_at      timestamptz NOT NULL DEFAULT now()
   );
   CREATE TABLE ${SCHEMA}.versions (
     lineage        text NOT NULL REFERENCES ${SCHEMA}.lineages (name),
     version        integer NOT NULL CHECK (version >= 1),
     cert_pem       text NOT NULL,
     chain_pem      text NOT NULL,
     fullchain_pem  text NOT NULL,
     key_nonce      bytea NOT NULL,
     key_ciphertext bytea NOT NULL,
     key_tag        bytea NOT NULL,
     serial         text NOT NULL,
     not_after      timestamptz NOT NULL,
     created_by     text NOT NULL,
     created_at     timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (lineage, version)
   );
   CREATE TABLE ${SCHEMA}.accounts (
     directory_url  text PRIMARY KEY,
     key_nonce      bytea NOT NULL,
     key_ciphertext bytea NOT NULL,
     key_tag        bytea NOT NULL,
     url            text,
     email          text,
     created_at     timestamptz NOT NULL DEFAULT now()
   );
   CREATE TABLE ${SCHEMA}.nodes (
     node             text NOT NULL,
     lineage          text NOT NULL REFERENCES ${SCHEMA}.lineages (name),
     deployed_version integer,
     served_serial    text,
     deploy_ok        boolean,
     last_error       text,
     deployed_at      timestamptz,
     updated_at       timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (node, lineage)
   );`,
  // 2: accounts per directory and EAB key identifier ('' = the plain account); a staged next key
  // for key rollover; removed lineages kept as a backup row.
  `ALTER TABLE ${SCHEMA}.accounts ADD COLUMN eab_kid text NOT NULL DEFAULT '';
   ALTER TABLE ${SCHEMA}.accounts DROP CONSTRAINT accounts_pkey;
   ALTER TABLE ${SCHEMA}.accounts ADD PRIMARY KEY (directory_url, eab_kid);
   ALTER TABLE ${SCHEMA}.accounts ADD COLUMN next_key_nonce bytea, ADD COLUMN next_key_ciphertext bytea, ADD COLUMN next_key_tag bytea;
   CREATE TABLE ${SCHEMA}.removed_lineages (
     id         bigserial PRIMARY KEY,
     name       text NOT NULL,
     lineage    jsonb NOT NULL,
     versions   jsonb NOT NULL,
     removed_by text NOT NULL,
     removed_at timestamptz NOT NULL DEFAULT now()
   );`,
];

/** Creates the schema or brings it up to date. */
export async function migrate(client: Client, database: string): Promise<void> {
  // The common case, one round trip: the schema is there and current.
  const current = await runQuery<{ version: number | null }>(client, `SELECT max(version) AS version FROM ${SCHEMA}.schema_version`).then((r) => r.rows[0]?.version ?? 0, () => 0);
  if (current === MIGRATIONS.length) return;
  await runQuery(client, 'BEGIN');
  try {
    await runQuery(client, 'SELECT pg_advisory_xact_lock($1, $2)', [LOCK_NAMESPACE, MIGRATION_LOCK]);
    await runQuery(client, `CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
    await runQuery(client, `CREATE TABLE IF NOT EXISTS ${SCHEMA}.schema_version (version integer NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const found = await runQuery<{ version: number | null }>(client, `SELECT max(version) AS version FROM ${SCHEMA}.schema_version`);
    const current = found.rows[0]?.version ?? 0;
    if (current > MIGRATIONS.length) {
      throw new GxitError('CLUSTER_DB', `the cluster schema in ${database} is version ${current}, newer than this gxit-cert knows (${MIGRATIONS.length})`, {
        subject: database,
        fix: 'upgrade gxit-cert on this node to the version the other nodes run',
      });
    }
    for (let version = current + 1; version <= MIGRATIONS.length; version++) {
      await runQuery(client, MIGRATIONS[version - 1] as string);
      await runQuery(client, `INSERT INTO ${SCHEMA}.schema_version (version) VALUES ($1)`, [version]);
    }
    await runQuery(client, 'COMMIT');
  } catch (error) {
    await runQuery(client, 'ROLLBACK').catch(() => undefined);
    throw error;
  }
}
