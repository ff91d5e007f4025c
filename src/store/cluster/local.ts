/**
 * The node's own copy of the cluster's versions: state_dir in the certbot layout, written with the
 * version numbers the database gave (the same on every node), so nginx and the deploy hooks read
 * local files only and a database outage never affects serving.
 *
 * Writing version N: archive/<name>/*N.pem (an identical file already there is kept; a different one
 * is an orphan of an interrupted write and is replaced, since the database's version N is the only
 * one), live/ README, the four links switched, then renewal/<name>.json. Each file is atomic. A node
 * never moves its links back to an older version than the one they point at.
 */
import { ensureDir, readFileIfAny, readLinkIfAny, writeFileAtomic, type StoreFs } from '../fs.js';
import { archiveDir, archivePaths, checkLineageName, liveFile, livePaths, modeOf, PEM_KINDS, renewalRoot, versionOfLinkTarget } from '../layout.js';
import type { CertificateFiles } from '../contract.js';
import { pemOf, switchLiveLinks, writeLiveReadme, writeStateFile } from '../lineage.js';
import type { LineageState } from '../state.js';

/** The version live/<name>/cert.pem points at on this node; undefined when none. */
export async function localVersion(fs: StoreFs, stateDir: string, name: string): Promise<number | undefined> {
  checkLineageName(name);
  const target = await readLinkIfAny(fs, liveFile(stateDir, name, 'cert'));
  return target === undefined ? undefined : versionOfLinkTarget(target, name, 'cert');
}

/** Archive version `version` without switching live/ (a version this node skipped over). */
export async function archiveLocalVersion(fs: StoreFs, stateDir: string, name: string, version: number, files: CertificateFiles): Promise<void> {
  checkLineageName(name);
  await ensureDir(fs, archiveDir(stateDir, name));
  const paths = archivePaths(stateDir, name, version);
  for (const kind of PEM_KINDS) {
    const text = pemOf(files, kind);
    if ((await readFileIfAny(fs, paths[kind])) === text) continue;
    await writeFileAtomic(fs, paths[kind], text, { mode: modeOf(kind) });
  }
}

/**
 * Write `version` and make it live on this node, with `state` as renewal/<name>.json. Returns false
 * (and writes nothing) when the node already serves this version or a newer one.
 */
export async function writeLocalVersion(
  fs: StoreFs,
  stateDir: string,
  state: LineageState,
  version: number,
  files: CertificateFiles,
): Promise<boolean> {
  const name = state.name;
  const current = await localVersion(fs, stateDir, name);
  if (current !== undefined && current >= version) return false;
  const live = livePaths(stateDir, name);
  await archiveLocalVersion(fs, stateDir, name, version, files);
  await ensureDir(fs, live.dir);
  await writeLiveReadme(fs, live);
  // privkey first: a reader that sees the new cert.pem finds its key already in place.
  await switchLiveLinks(fs, live, name, version, ['privkey', 'cert', 'chain', 'fullchain']);
  await ensureDir(fs, renewalRoot(stateDir));
  await writeStateFile(fs, stateDir, { ...state, version });
  return true;
}
