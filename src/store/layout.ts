/**
 * The layout of the state directory, as pure functions: the one place that knows where a lineage,
 * an account or the lock lives. Certbot-compatible where certbot has a convention:
 *
 *   <state_dir>/.lock                                   process lock (lock.ts)
 *   <state_dir>/accounts/<slug>/account.json            { url, directoryUrl, email?, createdAt }
 *   <state_dir>/accounts/<slug>/private_key.pem         0600
 *   <state_dir>/archive/<name>/{cert,chain,fullchain,privkey}<N>.pem   versions N = 1, 2, ...
 *   <state_dir>/live/<name>/{cert,chain,fullchain,privkey}.pem         -> ../../archive/<name>/<kind><N>.pem
 *   <state_dir>/live/<name>/README
 *   <state_dir>/renewal/<name>.json                     lineage state (state.ts)
 *
 * Directories are 0700, private keys 0600, everything else 0644.
 */
import { createHash } from 'node:crypto';
import { checkLineageName as parseLineageName } from '../config/values.js';
import { join } from 'node:path';
import { GxitError } from '../errors.js';

/** The four files of a certificate version, in the order they are written and switched (certbot's). */
export const PEM_KINDS = ['cert', 'privkey', 'chain', 'fullchain'] as const;
export type PemKind = (typeof PEM_KINDS)[number];

export const DIR_MODE = 0o700;
export const PRIVATE_MODE = 0o600;
export const PUBLIC_MODE = 0o644;

/** Mode of an archived (and, through the link, live) file of this kind. */
export function modeOf(kind: PemKind): number {
  return kind === 'privkey' ? PRIVATE_MODE : PUBLIC_MODE;
}

export interface LivePaths {
  /** live/<name> */
  dir: string;
  cert: string;
  chain: string;
  fullchain: string;
  privkey: string;
}

export const LOCK_FILE = '.lock';

export function lockPath(stateDir: string): string {
  return join(stateDir, LOCK_FILE);
}

export function accountsDir(stateDir: string): string {
  return join(stateDir, 'accounts');
}
export function archiveRoot(stateDir: string): string {
  return join(stateDir, 'archive');
}
export function liveRoot(stateDir: string): string {
  return join(stateDir, 'live');
}
export function renewalRoot(stateDir: string): string {
  return join(stateDir, 'renewal');
}

export function archiveDir(stateDir: string, name: string): string {
  return join(archiveRoot(stateDir), name);
}

export function archiveFileName(kind: PemKind, version: number): string {
  return `${kind}${version}.pem`;
}

export function archivePaths(stateDir: string, name: string, version: number): Record<PemKind, string> {
  const dir = archiveDir(stateDir, name);
  return {
    cert: join(dir, archiveFileName('cert', version)),
    chain: join(dir, archiveFileName('chain', version)),
    fullchain: join(dir, archiveFileName('fullchain', version)),
    privkey: join(dir, archiveFileName('privkey', version)),
  };
}

/** live/<name>/<kind>.pem alone (a check of the live version needs one path, not all five). */
export function liveFile(stateDir: string, name: string, kind: PemKind): string {
  return join(stateDir, 'live', name, `${kind}.pem`);
}

export function livePaths(stateDir: string, name: string): LivePaths {
  const dir = join(liveRoot(stateDir), name);
  return {
    dir,
    cert: join(dir, 'cert.pem'),
    chain: join(dir, 'chain.pem'),
    fullchain: join(dir, 'fullchain.pem'),
    privkey: join(dir, 'privkey.pem'),
  };
}

export function renewalFile(stateDir: string, name: string): string {
  return join(renewalRoot(stateDir), `${name}.json`);
}

/** The target of live/<name>/<kind>.pem, relative like certbot's: ../../archive/<name>/<kind><N>.pem */
export function liveLinkTarget(name: string, kind: PemKind, version: number): string {
  return `../../archive/${name}/${archiveFileName(kind, version)}`;
}

/** The version a live link points at, or undefined when the target is not one of ours. */
export function versionOfLinkTarget(target: string, name: string, kind: PemKind): number | undefined {
  const prefix = `../../archive/${name}/${kind}`;
  if (!target.startsWith(prefix) || !target.endsWith('.pem')) return undefined;
  return parseVersion(target.slice(prefix.length, -'.pem'.length));
}

function parseVersion(digits: string): number | undefined {
  if (!/^[1-9][0-9]{0,8}$/.test(digits)) return undefined;
  return Number(digits);
}

/** The version in an archive file name such as "fullchain12.pem", or undefined for other names. */
export function versionOfArchiveFile(fileName: string): number | undefined {
  for (const kind of PEM_KINDS) {
    if (fileName.startsWith(kind) && fileName.endsWith('.pem')) {
      const version = parseVersion(fileName.slice(kind.length, -'.pem'.length));
      if (version !== undefined) return version;
    }
  }
  return undefined;
}

/**
 * The next version to write: one above every version present in the archive directory (of any
 * kind, so a half-written version left by a crash is skipped, never overwritten) and above the
 * version the lineage state last recorded.
 */
export function nextVersion(archiveFileNames: readonly string[], recordedVersion?: number): number {
  let highest = recordedVersion ?? 0;
  for (const fileName of archiveFileNames) {
    const version = versionOfArchiveFile(fileName);
    if (version !== undefined && version > highest) highest = version;
  }
  return highest + 1;
}

/**
 * Lineage names become directory and file names: letters, digits, '.', '_' and '-', starting with a
 * letter or digit, at most 128 characters. Throws STORE_IO for anything else (config validates first;
 * this is the store's own guard against path traversal).
 */
export function checkLineageName(name: string): void {
  // The rule is the configuration's; checked again here because a name becomes a path.
  const parsed = parseLineageName(name);
  if (!parsed.ok || parsed.value !== name) {
    throw new GxitError('STORE_IO', `lineage name ${JSON.stringify(name)} cannot be used as a directory name`, {
      subject: name,
      fix: 'Use a certificate name of letters, digits, ".", "_" and "-" that starts with a letter or digit.',
    });
  }
}

/**
 * The directory name for the accounts of one ACME directory: host (plus "_port" when a port is
 * given) and the path segments, joined with "-"; any other character becomes "_".
 *   https://acme-v02.api.letsencrypt.org/directory -> acme-v02.api.letsencrypt.org-directory
 *   https://localhost:14000/dir                     -> localhost_14000-dir
 * Different URLs can share a slug ("/a-b" and "/a/b"); account.json records the full URL and the
 * store refuses an account whose URL differs (see sameDirectoryUrl).
 */
export function accountSlug(directoryUrl: string): string {
  const url = parseDirectoryUrl(directoryUrl);
  const clean = (text: string): string => text.replace(/[^A-Za-z0-9._~-]/g, '_');
  const host = clean(url.hostname.replace(/^\[|\]$/g, ''));
  const parts = [url.port === '' ? host : `${host}_${url.port}`];
  for (const segment of url.pathname.split('/')) {
    if (segment !== '') parts.push(clean(segment));
  }
  if (url.search !== '') parts.push(clean(url.search.slice(1)));
  return parts.join('-');
}

/** Whether two directory URLs name the same directory (scheme, host, port, path; a trailing "/" ignored). */
export function sameDirectoryUrl(a: string, b: string): boolean {
  return normalizeDirectoryUrl(a) === normalizeDirectoryUrl(b);
}

function normalizeDirectoryUrl(directoryUrl: string): string {
  const url = parseDirectoryUrl(directoryUrl);
  url.hash = '';
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url.href;
}

function parseDirectoryUrl(directoryUrl: string): URL {
  let url: URL;
  try {
    url = new URL(directoryUrl);
  } catch {
    throw badDirectoryUrl(directoryUrl);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.hostname === '') {
    throw badDirectoryUrl(directoryUrl);
  }
  return url;
}

function badDirectoryUrl(directoryUrl: string): GxitError {
  return new GxitError('STORE_IO', `ACME directory URL ${JSON.stringify(directoryUrl)} cannot name an account directory`, {
    subject: directoryUrl,
    fix: 'Set the ACME server to an http(s) URL such as https://acme-v02.api.letsencrypt.org/directory.',
  });
}

/**
 * An account bound to an EAB key identifier lives beside the directory's plain account:
 * <slug>+eab-<kid> (other characters of the kid become "_", plus a short hash of the kid then, so two
 * kids never share a folder).
 */
export function accountFolder(directoryUrl: string, eabKid?: string): string {
  const slug = accountSlug(directoryUrl);
  if (eabKid === undefined) return slug;
  const clean = eabKid.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64);
  const exact = clean === eabKid;
  return `${slug}+eab-${clean}${exact ? '' : `-${createHash('sha256').update(eabKid).digest('hex').slice(0, 8)}`}`;
}

export function accountDir(stateDir: string, directoryUrl: string, eabKid?: string): string {
  return join(accountsDir(stateDir), accountFolder(directoryUrl, eabKid));
}
export function accountJsonPath(stateDir: string, directoryUrl: string, eabKid?: string): string {
  return join(accountDir(stateDir, directoryUrl, eabKid), 'account.json');
}
export function accountKeyPath(stateDir: string, directoryUrl: string, eabKid?: string): string {
  return join(accountDir(stateDir, directoryUrl, eabKid), 'private_key.pem');
}

/** certbot's live/<name>/README, so people who know certbot find their way. */
export const LIVE_README = `This directory contains your keys and certificates.

\`privkey.pem\`  : the private key for your certificate.
\`fullchain.pem\`: the certificate file used in most server software.
\`chain.pem\`    : used for OCSP stapling in Nginx >=1.3.7.
\`cert.pem\`     : will break many server configurations, and should not be used
                 without reading further documentation.

These files are symbolic links into ../../archive/<name>/ and are switched atomically,
one by one, when gxit-cert stores a new version. Point your server at these paths,
never at the numbered files in archive/, and do not move or rename them.
`;

/** The directories of state_dir that must not be symlinks (fs.ts refuseSymlinkedDirs), outermost first. */
export function storeDirs(stateDir: string, name?: string): string[] {
  const roots = [liveRoot(stateDir), archiveRoot(stateDir), renewalRoot(stateDir)];
  return name === undefined ? roots : [...roots, livePaths(stateDir, name).dir, archiveDir(stateDir, name)];
}
