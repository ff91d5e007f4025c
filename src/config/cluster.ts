/**
 * The `cluster:` section (part of step 4, validation). Without it nothing about the cluster is loaded.
 *
 *   cluster:
 *     database: postgresql://gxit@db.example.org:5432/gxit_cert   # libpq URI, without a password
 *     password_file: /etc/gxit-cert/db.password  # else PGPASSWORD or ~/.pgpass (read by the client)
 *     node: web1                                 # default: the host name
 *     renewer: true                              # false: this node never orders, it only follows
 *     key_file: /etc/gxit-cert/cluster.key       # 32 bytes (base64 or hex) that encrypt the private keys
 *
 * Secrets stay files: the password and the key are read when the database is opened, never kept in Config.
 * A follower (`renewer: false`) needs no `dns:` section, and its DNS secrets are never read.
 */
import { hostname } from 'node:os';
import { get, type MapNode } from './tree.js';
import type { FollowerCluster, RenewerCluster } from './types.js';
import type { Checker } from './combinators.js';
import { showValue } from './values.js';

export const CLUSTER_KEYS = ['database', 'password_file', 'node', 'renewer', 'key_file'] as const;

const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** A PostgreSQL URI: scheme postgres(ql)://, and no password inside (it would end up in argv or logs). */
export function checkDatabaseUri(text: string): { ok: true; value: string } | { ok: false; reason: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, reason: 'is not a URI' };
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') return { ok: false, reason: 'does not start with postgresql://' };
  if (url.password !== '') return { ok: false, reason: 'contains a password' };
  if (url.searchParams.has('password')) return { ok: false, reason: 'contains a password parameter' };
  if (url.pathname === '' || url.pathname === '/') return { ok: false, reason: 'names no database' };
  return { ok: true, value: text };
}

/**
 * Whether the file makes this node a follower (`cluster.renewer: false` as written): then `dns:` is
 * optional. Read from the tree, not from the validated section, so that a mistake elsewhere in
 * `cluster:` is reported alone, not together with a `dns:` that a follower does not need.
 */
export function writtenAsFollower(root: MapNode): boolean {
  const cluster = get(root, 'cluster');
  const renewer = cluster?.kind === 'map' ? get(cluster, 'renewer') : undefined;
  return renewer?.kind === 'scalar' && renewer.value === false;
}

export function validateClusterKeys(check: Checker, root: MapNode, host: string = hostname()): { cluster?: RenewerCluster | FollowerCluster } {
  const node = get(root, 'cluster');
  if (node === undefined) return {};
  const map = check.map(node, CLUSTER_KEYS, 'write cluster: as a mapping with database:, password_file:, node:, renewer: and key_file:');
  if (map === undefined) return {};
  const before = check.problems.length;

  const dbFix = 'write a libpq URI such as postgresql://gxit@db.example.org:5432/gxit_cert (the password goes into password_file)';
  const db = check.string(map, 'database', dbFix);
  let database: string | undefined;
  if (db === undefined) {
    if (get(map, 'database') === undefined) check.missing(map, 'database', dbFix);
  } else {
    const parsed = checkDatabaseUri(db.value.trim());
    // The value is never echoed: it may hold a password.
    if (parsed.ok) database = parsed.value;
    else check.report(db.node, `the database URI ${parsed.reason}`, dbFix);
  }

  const passwordFile = check.path(map, 'password_file', 'write the path of a file holding the database password (mode 0600)');
  const keyFix = 'write the path of a file with 32 random bytes in base64 (openssl rand -base64 32 > FILE; chmod 600 FILE)';
  const keyFile = check.path(map, 'key_file', keyFix);
  if (keyFile === undefined && get(map, 'key_file') === undefined) check.missing(map, 'key_file', keyFix);

  const nodeFix = 'write a node name of letters, digits, ".", "_" or "-" (at most 63), e.g. web1';
  const named = check.string(map, 'node', nodeFix);
  const nodeName = named?.value.trim() ?? host.split('.')[0] ?? host;
  if (named !== undefined && !NODE_NAME.test(nodeName)) check.report(named.node, `${showValue(nodeName)} is not a valid node name`, nodeFix);
  else if (named === undefined && !NODE_NAME.test(nodeName)) {
    check.report(map, `the host name ${showValue(host)} is not a valid node name`, `${nodeFix} as cluster.node`);
  }
  const renewer = check.bool(map, 'renewer') ?? true;

  if (check.problems.length > before || database === undefined || keyFile === undefined) return {};
  const common = { database, ...(passwordFile === undefined ? {} : { passwordFile }), node: nodeName, keyFile };
  return { cluster: renewer ? { ...common, renewer: true } : { ...common, renewer: false } };
}
