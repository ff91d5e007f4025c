/**
 * The SQL of the cluster store, one function per statement or transaction, over any connected client.
 * Rows become the store's types here; nothing above this file writes SQL.
 */
import type { Client } from 'pg';
import type { AccountMeta } from '../accounts.js';
import type { CertificateFiles } from '../contract.js';
import type { LineageState } from '../state.js';
import { accountAad, lineageAad, open, seal, type SealedKey } from './crypto.js';
import { runQuery } from './query.js';
import { SCHEMA } from './schema.js';

/** The channel every commit notifies on; the payload is `{"lineage": name, "version": N}`, ids only. */
export const CHANNEL = 'gxit_cert_versions';

export interface LineageRow {
  name: string;
  currentVersion: number;
  state: LineageState;
}

interface RawLineage {
  name: string;
  current_version: number;
  domains: string[];
  key_type: string;
  server: string;
  state: Record<string, unknown>;
}

function lineageOf(row: RawLineage): LineageRow {
  // The columns are the truth for what they hold; the JSON keeps the rest (ARI, runs, later fields).
  // Object.assign, not a spread: on Node 20 a spread copy survives the scavenges of a watch that syncs
  // now and then, until promoted to the old generation (query.ts explains the effect).
  const state = Object.assign({}, row.state, { name: row.name, domains: row.domains, keyType: row.key_type, server: row.server, version: row.current_version });
  return { name: row.name, currentVersion: row.current_version, state: state as LineageState };
}

export async function selectLineage(db: Client, name: string): Promise<LineageRow | undefined> {
  const found = await runQuery<RawLineage>(db, 
    `SELECT name, current_version, domains, key_type, server, state FROM ${SCHEMA}.lineages WHERE name = $1`,
    [name],
  );
  const row = found.rows[0];
  return row === undefined || row.current_version === 0 ? undefined : lineageOf(row);
}

export async function selectLineages(db: Client): Promise<LineageRow[]> {
  const found = await runQuery<RawLineage>(db, 
    `SELECT name, current_version, domains, key_type, server, state FROM ${SCHEMA}.lineages WHERE current_version > 0 ORDER BY name`,
  );
  return found.rows.map(lineageOf);
}

interface RawVersion {
  version: number;
  cert_pem: string;
  chain_pem: string;
  fullchain_pem: string;
  key_nonce: Buffer;
  key_ciphertext: Buffer;
  key_tag: Buffer;
}

export async function selectVersion(db: Client, key: Buffer, name: string, version: number): Promise<CertificateFiles | undefined> {
  const found = await runQuery<RawVersion>(db, 
    `SELECT version, cert_pem, chain_pem, fullchain_pem, key_nonce, key_ciphertext, key_tag FROM ${SCHEMA}.versions WHERE lineage = $1 AND version = $2`,
    [name, version],
  );
  const row = found.rows[0];
  if (row === undefined) return undefined;
  const sealed: SealedKey = { nonce: row.key_nonce, ciphertext: row.key_ciphertext, tag: row.key_tag };
  return {
    certPem: row.cert_pem,
    chainPem: row.chain_pem,
    fullchainPem: row.fullchain_pem,
    privkeyPem: open(key, sealed, lineageAad(name, version), `${name} version ${version}`),
  };
}

export interface NewVersion {
  name: string;
  /** The version this commit replaces (0: the lineage is new). */
  expected: number;
  files: CertificateFiles;
  state: LineageState;
  serial: string;
  notAfter: string;
  node: string;
}

export type CommitOutcome = { ok: true; version: number } | { ok: false; currentVersion: number };

/**
 * The fenced commit, in one transaction on the caller's connection (the one holding the advisory
 * lock): version N+1 is inserted and current_version moves from N to N+1 only if it still is N;
 * otherwise nothing is written. `beforeCommit` runs last inside the transaction (the fence: it throws
 * when the lock was lost). The notification is sent by COMMIT, so no node hears of a version that
 * was rolled back.
 */
export async function commitVersion(db: Client, key: Buffer, v: NewVersion, beforeCommit: () => void): Promise<CommitOutcome> {
  const version = v.expected + 1;
  const sealed = seal(key, v.files.privkeyPem, lineageAad(v.name, version));
  const extra = stateJson(v.state);
  await runQuery(db, 'BEGIN');
  try {
    // A new lineage starts as a row at version 0, so the same fence covers the first version.
    await runQuery(db, 
      `INSERT INTO ${SCHEMA}.lineages (name, domains, key_type, server, current_version, state) VALUES ($1, $2, $3, $4, 0, $5)
       ON CONFLICT (name) DO NOTHING`,
      [v.name, v.state.domains, v.state.keyType, v.state.server, extra],
    );
    const current = await runQuery<{ current_version: number }>(db, 
      `SELECT current_version FROM ${SCHEMA}.lineages WHERE name = $1 FOR UPDATE`,
      [v.name],
    );
    const currentVersion = current.rows[0]?.current_version ?? 0;
    if (currentVersion !== v.expected) {
      await runQuery(db, 'ROLLBACK');
      return { ok: false, currentVersion };
    }
    await runQuery(db, 
      `INSERT INTO ${SCHEMA}.versions (lineage, version, cert_pem, chain_pem, fullchain_pem, key_nonce, key_ciphertext, key_tag, serial, not_after, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [v.name, version, v.files.certPem, v.files.chainPem, v.files.fullchainPem, sealed.nonce, sealed.ciphertext, sealed.tag, v.serial, v.notAfter, v.node],
    );
    const moved = await runQuery(db, 
      `UPDATE ${SCHEMA}.lineages SET current_version = $2, domains = $3, key_type = $4, server = $5, state = $6, updated_at = now()
       WHERE name = $1 AND current_version = $7`,
      [v.name, version, v.state.domains, v.state.keyType, v.state.server, extra, v.expected],
    );
    if (moved.rowCount !== 1) {
      await runQuery(db, 'ROLLBACK');
      return { ok: false, currentVersion: -1 };
    }
    await runQuery(db, 'SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify({ lineage: v.name, version })]);
    beforeCommit();
    await runQuery(db, 'COMMIT');
    return { ok: true, version };
  } catch (error) {
    await runQuery(db, 'ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** The state JSON without what the columns hold. */
function stateJson(state: LineageState): string {
  const { name: _name, domains: _domains, keyType: _keyType, server: _server, version: _version, ...rest } = state;
  return JSON.stringify(rest);
}

/** Replace the JSON part of the state (ARI, runs) of an existing lineage. */
export async function updateLineageState(db: Client, state: LineageState): Promise<void> {
  await runQuery(db, `UPDATE ${SCHEMA}.lineages SET state = $2, updated_at = now() WHERE name = $1`, [state.name, stateJson(state)]);
}

interface RawAccount {
  directory_url: string;
  eab_kid: string;
  key_nonce: Buffer;
  key_ciphertext: Buffer;
  key_tag: Buffer;
  url: string | null;
  email: string | null;
  created_at: Date;
}

export async function selectAccount(
  db: Client,
  key: Buffer,
  directoryUrl: string,
  eabKid = '',
): Promise<{ keyPem: string; meta?: AccountMeta } | undefined> {
  const found = await runQuery<RawAccount>(db, `SELECT * FROM ${SCHEMA}.accounts WHERE directory_url = $1 AND eab_kid = $2`, [directoryUrl, eabKid]);
  const row = found.rows[0];
  if (row === undefined) return undefined;
  const what = `the account at ${directoryUrl}${eabKid === '' ? '' : ` (EAB ${eabKid})`}`;
  const keyPem = open(key, { nonce: row.key_nonce, ciphertext: row.key_ciphertext, tag: row.key_tag }, accountAad(directoryUrl, eabKid), what);
  if (row.url === null) return { keyPem };
  const meta: AccountMeta = {
    url: row.url,
    directoryUrl,
    createdAt: row.created_at.toISOString(),
    ...(row.email === null ? {} : { email: row.email }),
    ...(eabKid === '' ? {} : { eabKid }),
  };
  return { keyPem, meta };
}

/** False when an account key for this directory (and kid) is already stored (it is never replaced). */
export async function insertAccountKey(db: Client, key: Buffer, directoryUrl: string, pem: string, eabKid = ''): Promise<boolean> {
  const sealed = seal(key, pem, accountAad(directoryUrl, eabKid));
  const inserted = await runQuery(db, 
    `INSERT INTO ${SCHEMA}.accounts (directory_url, eab_kid, key_nonce, key_ciphertext, key_tag) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (directory_url, eab_kid) DO NOTHING`,
    [directoryUrl, eabKid, sealed.nonce, sealed.ciphertext, sealed.tag],
  );
  return inserted.rowCount === 1;
}

export async function updateAccountUrl(db: Client, directoryUrl: string, url: string, email: string | undefined, eabKid = ''): Promise<Date | undefined> {
  // created_at moves only when the URL changes (a new registration).
  const updated = await runQuery<{ created_at: Date }>(db, 
    `UPDATE ${SCHEMA}.accounts SET created_at = CASE WHEN url IS DISTINCT FROM $2 THEN now() ELSE created_at END, url = $2, email = $3
     WHERE directory_url = $1 AND eab_kid = $4 RETURNING created_at`,
    [directoryUrl, url, email ?? null, eabKid],
  );
  return updated.rows[0]?.created_at;
}

/** Key rollover, step 1: keep the next key beside the current one. False when there is no account or a rollover is unfinished. */
export async function stageAccountKey(db: Client, key: Buffer, directoryUrl: string, pem: string, eabKid = ''): Promise<boolean> {
  const sealed = seal(key, pem, accountAad(directoryUrl, eabKid));
  const staged = await runQuery(db, 
    `UPDATE ${SCHEMA}.accounts SET next_key_nonce = $3, next_key_ciphertext = $4, next_key_tag = $5
     WHERE directory_url = $1 AND eab_kid = $2 AND next_key_nonce IS NULL`,
    [directoryUrl, eabKid, sealed.nonce, sealed.ciphertext, sealed.tag],
  );
  return staged.rowCount === 1;
}

/** Step 2: the staged key becomes the account key in one statement. False when nothing was staged. */
export async function promoteAccountKey(db: Client, directoryUrl: string, eabKid = ''): Promise<boolean> {
  const promoted = await runQuery(db, 
    `UPDATE ${SCHEMA}.accounts SET key_nonce = next_key_nonce, key_ciphertext = next_key_ciphertext, key_tag = next_key_tag,
       next_key_nonce = NULL, next_key_ciphertext = NULL, next_key_tag = NULL
     WHERE directory_url = $1 AND eab_kid = $2 AND next_key_nonce IS NOT NULL`,
    [directoryUrl, eabKid],
  );
  return promoted.rowCount === 1;
}

/**
 * Remove a lineage in one transaction: first a backup row (the lineage and every version, keys still
 * encrypted) in removed_lineages, then the versions, the node reports and the lineage. The id of the
 * backup row; undefined when there was no such lineage.
 */
export async function removeLineage(db: Client, name: string, node: string): Promise<number | undefined> {
  await runQuery(db, 'BEGIN');
  try {
    const backup = await runQuery<{ id: string }>(db, 
      `INSERT INTO ${SCHEMA}.removed_lineages (name, lineage, versions, removed_by)
       SELECT l.name, to_jsonb(l), coalesce((SELECT jsonb_agg(to_jsonb(v) ORDER BY v.version) FROM ${SCHEMA}.versions v WHERE v.lineage = l.name), '[]'::jsonb), $2
       FROM ${SCHEMA}.lineages l WHERE l.name = $1 RETURNING id`,
      [name, node],
    );
    const id = backup.rows[0]?.id;
    if (id === undefined) {
      await runQuery(db, 'ROLLBACK');
      return undefined;
    }
    await runQuery(db, `DELETE FROM ${SCHEMA}.versions WHERE lineage = $1`, [name]);
    await runQuery(db, `DELETE FROM ${SCHEMA}.nodes WHERE lineage = $1`, [name]);
    await runQuery(db, `DELETE FROM ${SCHEMA}.lineages WHERE name = $1`, [name]);
    await runQuery(db, 'COMMIT');
    return Number(id);
  } catch (error) {
    await runQuery(db, 'ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** What one node reports about one lineage. */
export interface NodeState {
  node: string;
  lineage: string;
  deployedVersion?: number;
  servedSerial?: string;
  deployOk?: boolean;
  lastError?: string;
  /** ISO 8601. */
  deployedAt?: string;
  /** ISO 8601: when the node last reported. */
  updatedAt: string;
}

export async function upsertNodeState(db: Client, state: Omit<NodeState, 'updatedAt'>): Promise<void> {
  await runQuery(db, 
    `INSERT INTO ${SCHEMA}.nodes (node, lineage, deployed_version, served_serial, deploy_ok, last_error, deployed_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, now())
     ON CONFLICT (node, lineage) DO UPDATE SET deployed_version = EXCLUDED.deployed_version, served_serial = EXCLUDED.served_serial,
       deploy_ok = EXCLUDED.deploy_ok, last_error = EXCLUDED.last_error, deployed_at = EXCLUDED.deployed_at, updated_at = now()`,
    [state.node, state.lineage, state.deployedVersion ?? null, state.servedSerial ?? null, state.deployOk ?? null, state.lastError ?? null, state.deployedAt ?? null],
  );
}

interface RawNode {
  node: string;
  lineage: string;
  deployed_version: number | null;
  served_serial: string | null;
  deploy_ok: boolean | null;
  last_error: string | null;
  deployed_at: Date | null;
  updated_at: Date;
}

function nodeStateOf(r: RawNode): NodeState {
  return {
    node: r.node,
    lineage: r.lineage,
    updatedAt: r.updated_at.toISOString(),
    ...(r.deployed_version === null ? {} : { deployedVersion: r.deployed_version }),
    ...(r.served_serial === null ? {} : { servedSerial: r.served_serial }),
    ...(r.deploy_ok === null ? {} : { deployOk: r.deploy_ok }),
    ...(r.last_error === null ? {} : { lastError: r.last_error }),
    ...(r.deployed_at === null ? {} : { deployedAt: r.deployed_at.toISOString() }),
  };
}

export async function selectNodeStates(db: Client): Promise<NodeState[]> {
  const found = await runQuery<RawNode>(db, `SELECT * FROM ${SCHEMA}.nodes ORDER BY lineage, node`);
  return found.rows.map(nodeStateOf);
}

/** One node's report on one lineage (every sync reads it: one row, not the whole table). */
export async function selectNodeState(db: Client, node: string, lineage: string): Promise<NodeState | undefined> {
  const found = await runQuery<RawNode>(db, `SELECT * FROM ${SCHEMA}.nodes WHERE node = $1 AND lineage = $2`, [node, lineage]);
  const row = found.rows[0];
  return row === undefined ? undefined : nodeStateOf(row);
}

/** Each lineage's current version and when it was committed (for the lag rule of status). */
export async function selectCurrentVersions(db: Client): Promise<{ name: string; version: number; committedAt: string; serial: string }[]> {
  const found = await runQuery<{ name: string; version: number; created_at: Date; serial: string }>(db, 
    `SELECT l.name, l.current_version AS version, v.created_at, v.serial FROM ${SCHEMA}.lineages l
     JOIN ${SCHEMA}.versions v ON v.lineage = l.name AND v.version = l.current_version ORDER BY l.name`,
  );
  return found.rows.map((r) => ({ name: r.name, version: r.version, committedAt: r.created_at.toISOString(), serial: r.serial }));
}

export async function selectSerial(db: Client, name: string, version: number): Promise<string | undefined> {
  const found = await runQuery<{ serial: string }>(db, `SELECT serial FROM ${SCHEMA}.versions WHERE lineage = $1 AND version = $2`, [name, version]);
  return found.rows[0]?.serial;
}
