/**
 * Lineages: archive/<name>/ versions, live/<name>/ links, renewal/<name>.json state.
 *
 * commit order (the switch of the live links is the commit point):
 *   1. write all four files of version N into archive/ (N = next free, created with link(2), so an
 *      existing version is never overwritten); on failure remove what was written, live/ untouched
 *   2. write live/<name>/README
 *   3. switch live/<name>/{cert,privkey,chain,fullchain}.pem one by one (temp symlink renamed over
 *      the old one); on failure switch the already switched links back to their old targets
 *   4. write renewal/<name>.json with version N
 * A crash before 3 leaves live/ on the old version and at most an orphaned, partial version N in
 * archive/ (skipped by the next commit). A crash inside 3 can leave links on mixed versions (as with
 * certbot); a crash before 4 leaves the state one version behind live/ (Lineage.liveVersion shows it).
 */
import { join } from 'node:path';
import { GxitError, messageOf } from '../errors.js';
import {
  ensureDir,
  readDirIfAny,
  readFileIfAny,
  readLinkIfAny,
  refuseSymlinkedDirs,
  replaceSymlink,
  storeIoError,
  sweepTempFiles,
  writeFileAtomic,
  type StoreFs,
} from './fs.js';
import {
  archiveDir,
  archivePaths,
  checkLineageName,
  LIVE_README,
  liveLinkTarget,
  livePaths,
  modeOf,
  nextVersion,
  PEM_KINDS,
  PUBLIC_MODE,
  renewalFile,
  renewalRoot,
  storeDirs,
  versionOfLinkTarget,
  type LivePaths,
  type PemKind,
} from './layout.js';
import type { CertificateFiles } from './contract.js';
import {
  mergeCommitState,
  parseLineageState,
  serializeLineageState,
  type CommitState,
  type LineageState,
} from './state.js';

export interface Lineage {
  state: LineageState;
  live: LivePaths;
  /** The version live/<name>/cert.pem points at; undefined when the link is missing. */
  liveVersion: number | undefined;
}

export interface CommitResult {
  version: number;
  state: LineageState;
  live: LivePaths;
}

/** The text of one of the four files. */
export function pemOf(files: CertificateFiles, kind: PemKind): string {
  switch (kind) {
    case 'cert':
      return files.certPem;
    case 'chain':
      return files.chainPem;
    case 'fullchain':
      return files.fullchainPem;
    case 'privkey':
      return files.privkeyPem;
  }
}

/** live/<name>/README, certbot's note on what the links are. */
export async function writeLiveReadme(fs: StoreFs, live: LivePaths): Promise<void> {
  await writeFileAtomic(fs, join(live.dir, 'README'), LIVE_README, { mode: PUBLIC_MODE });
}

/**
 * Point the live links at archive version `version`, one by one in `order` (each a temp symlink
 * renamed over the old one), then fsync live/. `switched` receives each kind once its link is switched,
 * so a caller can switch back what was done before a failure.
 */
export async function switchLiveLinks(
  fs: StoreFs,
  live: LivePaths,
  name: string,
  version: number,
  order: readonly PemKind[],
  switched: PemKind[] = [],
): Promise<void> {
  for (const kind of order) {
    await replaceSymlink(fs, live[kind], liveLinkTarget(name, kind, version));
    switched.push(kind);
  }
  await fs.fsyncDir(live.dir).catch((cause: unknown) => {
    throw storeIoError('fsync the directory', live.dir, cause);
  });
}

/** renewal/<name>.json, replaced atomically; its directory exists. */
export async function writeStateFile(fs: StoreFs, stateDir: string, state: LineageState): Promise<void> {
  await writeFileAtomic(fs, renewalFile(stateDir, state.name), serializeLineageState(state), { mode: PUBLIC_MODE });
}

export async function readLineageState(fs: StoreFs, stateDir: string, name: string): Promise<LineageState | undefined> {
  checkLineageName(name);
  await refuseSymlinkedDirs(fs, storeDirs(stateDir, name));
  const path = renewalFile(stateDir, name);
  const text = await readFileIfAny(fs, path);
  return text === undefined ? undefined : parseLineageState(text, name, path);
}

/** A lineage exists when renewal/<name>.json exists. */
export async function readLineage(fs: StoreFs, stateDir: string, name: string): Promise<Lineage | undefined> {
  const state = await readLineageState(fs, stateDir, name);
  if (state === undefined) return undefined;
  const live = livePaths(stateDir, name);
  const target = await readLinkIfAny(fs, live.cert);
  return { state, live, liveVersion: target === undefined ? undefined : versionOfLinkTarget(target, name, 'cert') };
}

/** Names of all lineages (renewal/*.json), sorted. */
export async function listLineages(fs: StoreFs, stateDir: string): Promise<string[]> {
  await refuseSymlinkedDirs(fs, storeDirs(stateDir));
  const names: string[] = [];
  for (const fileName of await readDirIfAny(fs, renewalRoot(stateDir))) {
    if (fileName.startsWith('.') || !fileName.endsWith('.json')) continue;
    names.push(fileName.slice(0, -'.json'.length));
  }
  return names.sort();
}

/** Replace renewal/<name>.json (lastRun after a failure, ARI updates). The caller holds the lock. */
export async function writeLineageState(fs: StoreFs, stateDir: string, state: LineageState): Promise<void> {
  checkLineageName(state.name);
  await refuseSymlinkedDirs(fs, storeDirs(stateDir, state.name));
  await ensureDir(fs, renewalRoot(stateDir));
  await writeStateFile(fs, stateDir, state);
}

export async function commitLineage(
  fs: StoreFs,
  stateDir: string,
  name: string,
  files: CertificateFiles,
  update: CommitState,
  now: Date,
): Promise<CommitResult> {
  checkLineageName(name);
  for (const kind of PEM_KINDS) {
    if (!pemOf(files, kind).includes('-----BEGIN ')) {
      throw new GxitError('INTERNAL', `commit of ${name}: the ${kind} text is not PEM`, { subject: name });
    }
  }
  const previous = await readLineageState(fs, stateDir, name);
  const live = livePaths(stateDir, name);
  const archive = archiveDir(stateDir, name);
  await ensureDir(fs, archive);
  await ensureDir(fs, live.dir);
  await ensureDir(fs, renewalRoot(stateDir));
  await sweepTempFiles(fs, archive);
  await sweepTempFiles(fs, live.dir);
  await sweepTempFiles(fs, renewalRoot(stateDir));

  // Read the old link targets before anything is written: a non-symlink there stops us early.
  const oldTargets = new Map<PemKind, string | undefined>();
  for (const kind of PEM_KINDS) oldTargets.set(kind, await readLinkIfAny(fs, live[kind]));

  const version = nextVersion(await readDirIfAny(fs, archive), previous?.version);
  const newFiles = archivePaths(stateDir, name, version);

  // 1 + 2: archive version N, README. live/ is untouched until both are complete.
  try {
    for (const kind of PEM_KINDS) {
      await writeFileAtomic(fs, newFiles[kind], pemOf(files, kind), { mode: modeOf(kind), exclusive: true });
    }
    await writeLiveReadme(fs, live);
  } catch (error) {
    await removeVersion(fs, newFiles);
    throw error;
  }

  // 3: switch the links.
  const switched: PemKind[] = [];
  try {
    await switchLiveLinks(fs, live, name, version, PEM_KINDS, switched);
  } catch (error) {
    const restored = await switchBack(fs, live, switched, oldTargets);
    if (restored) await removeVersion(fs, newFiles);
    const previousText = previous === undefined ? 'no certificate' : `version ${previous.version}`;
    throw new GxitError(
      'STORE_IO',
      `cannot switch ${live.dir} to version ${version}: ${messageOf(error)}; ` +
        (restored ? `the links were restored to ${previousText}` : 'restoring the old links failed, they may point to mixed versions'),
      {
        subject: live.dir,
        fix: restored
          ? 'Fix the cause and run issue again.'
          : `Check the links in ${live.dir} (ls -l) and run issue --force to store a consistent version.`,
        cause: error,
      },
    );
  }

  // 4: the state. The certificate is already live when this fails.
  const state = mergeCommitState(name, previous, update, version, now);
  try {
    await writeStateFile(fs, stateDir, state);
  } catch (error) {
    throw new GxitError(
      'STORE_IO',
      `version ${version} of ${name} is live, but its state could not be written: ${messageOf(error)}`,
      {
        subject: renewalFile(stateDir, name),
        fix: 'Fix the cause (disk space, permissions); the next run records the state again.',
        cause: error,
      },
    );
  }
  return { version, state, live };
}

/** Point the switched links back at their old targets (or remove them). True when all succeeded. */
async function switchBack(
  fs: StoreFs,
  live: LivePaths,
  switched: readonly PemKind[],
  oldTargets: ReadonlyMap<PemKind, string | undefined>,
): Promise<boolean> {
  let ok = true;
  for (const kind of switched) {
    const old = oldTargets.get(kind);
    try {
      if (old === undefined) await fs.unlink(live[kind]);
      else await replaceSymlink(fs, live[kind], old);
    } catch {
      ok = false;
    }
  }
  await fs.fsyncDir(live.dir).catch(() => undefined);
  return ok;
}

/** Best effort: remove the files of a version nobody points at (version N was free when we started). */
async function removeVersion(fs: StoreFs, files: Record<PemKind, string>): Promise<void> {
  for (const kind of PEM_KINDS) {
    await fs.unlink(files[kind]).catch(() => undefined);
  }
}
