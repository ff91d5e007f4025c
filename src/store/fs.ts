/**
 * The file-system edge of the store: a small facade over node:fs/promises (so tests can make any
 * single operation fail) and the atomic write primitives built on it.
 *
 * Every file is written as: open a temp file in the same directory with 'wx' and the final mode,
 * fchmod to the final mode (umask-proof) before any byte is written, write, fsync, close, then
 * rename (replace) or link (create, never replace) onto the final name, then fsync the directory.
 */
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { GxitError, messageOf } from '../errors.js';
import { isFileReadError, readBoundedText } from '../files/read.js';
import { DIR_MODE } from './layout.js';

export interface FileHandleLike {
  chmod(mode: number): Promise<void>;
  writeFile(data: string): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface StatLike {
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  mode: number;
}

/** Only the operations the store uses; each MUST behave like its node:fs/promises namesake. */
export interface StoreFs {
  open(path: string, flags: 'wx', mode: number): Promise<FileHandleLike>;
  rename(from: string, to: string): Promise<void>;
  /** Hard link; fails with EEXIST when newPath exists (how versions are created without overwriting). */
  link(existingPath: string, newPath: string): Promise<void>;
  symlink(target: string, path: string): Promise<void>;
  readlink(path: string): Promise<string>;
  unlink(path: string): Promise<void>;
  /** Not recursive: fails with EEXIST or ENOENT like mkdir(2). */
  mkdir(path: string, mode: number): Promise<void>;
  chmod(path: string, mode: number): Promise<void>;
  lstat(path: string): Promise<StatLike>;
  readdir(path: string): Promise<string[]>;
  readFile(path: string): Promise<string>;
  /** Make the directory's entries (renames, links) durable. */
  fsyncDir(path: string): Promise<void>;
}

export const nodeFs: StoreFs = {
  open: (path, flags, mode) => fsp.open(path, flags, mode),
  rename: (from, to) => fsp.rename(from, to),
  link: (existingPath, newPath) => fsp.link(existingPath, newPath),
  symlink: (target, path) => fsp.symlink(target, path),
  readlink: (path) => fsp.readlink(path),
  unlink: (path) => fsp.unlink(path),
  mkdir: async (path, mode) => {
    await fsp.mkdir(path, { mode });
  },
  chmod: (path, mode) => fsp.chmod(path, mode),
  lstat: (path) => fsp.lstat(path),
  readdir: (path) => fsp.readdir(path),
  // Bounded and regular-file-only (a live link to /dev/zero or a FIFO must not hang or exhaust memory);
  // live links are symbolic, so links are followed. The errno stays visible for readFileIfAny.
  readFile: async (path) => {
    try {
      return await readBoundedText(path, { kind: 'state', noFollow: false });
    } catch (error) {
      if (isFileReadError(error) && error.errno !== undefined) throw Object.assign(new Error(error.message, { cause: error }), { code: error.errno });
      throw error;
    }
  },
  fsyncDir: async (path) => {
    const handle = await fsp.open(path, 'r');
    try {
      await handle.sync();
    } catch (error) {
      // Some file systems cannot fsync a directory (EINVAL); the rename is still atomic there.
      if (errnoOf(error) !== 'EINVAL') throw error;
    } finally {
      await handle.close();
    }
  },
};

export function errnoOf(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return undefined;
}

/** Hidden temp name in the same directory: ".<base>.tmp-<hex>" (swept by sweepTempFiles). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${randomBytes(6).toString('hex')}`);
}

const TEMP_NAME = /^\..+\.tmp-[0-9a-f]{12}$/;

export function isTempName(fileName: string): boolean {
  return TEMP_NAME.test(fileName);
}

/** Wrap a foreign fs error as STORE_IO with a fix that fits its errno. */
export function storeIoError(action: string, path: string, cause: unknown): GxitError {
  if (cause instanceof GxitError) return cause;
  return new GxitError('STORE_IO', `cannot ${action} ${path}: ${messageOf(cause)}`, {
    subject: path,
    fix: fixFor(errnoOf(cause), path),
    cause,
  });
}

function fixFor(errno: string | undefined, path: string): string {
  switch (errno) {
    case 'EACCES':
    case 'EPERM':
      return `Run gxit-cert as the user that owns the state directory, or fix the permissions of ${dirname(path)}.`;
    case 'ENOSPC':
    case 'EDQUOT':
      return 'Free space on the file system that holds the state directory.';
    case 'EROFS':
      return 'The state directory is on a read-only file system; point state_dir at a writable directory.';
    case 'EEXIST':
      return `Something else created ${path}; make sure only gxit-cert writes the state directory.`;
    default:
      return 'Check that state_dir is a writable local directory and try again.';
  }
}

/**
 * Create `path` and any missing parents with mode 0700. The mode is set explicitly on every
 * directory this call creates (umask-proof); existing directories are left as they are.
 */
export async function ensureDir(fs: StoreFs, path: string): Promise<void> {
  try {
    await fs.mkdir(path, DIR_MODE);
  } catch (error) {
    const errno = errnoOf(error);
    if (errno === 'EEXIST') {
      const stat = await fs.lstat(path).catch((cause: unknown) => {
        throw storeIoError('inspect', path, cause);
      });
      if (!stat.isDirectory()) {
        throw new GxitError('STORE_IO', `${path} exists but is not a directory`, {
          subject: path,
          fix: `Move ${path} out of the way; gxit-cert keeps a directory there.`,
        });
      }
      return;
    }
    if (errno === 'ENOENT' && dirname(path) !== path) {
      await ensureDir(fs, dirname(path));
      return ensureDir(fs, path);
    }
    throw storeIoError('create directory', path, error);
  }
  try {
    await fs.chmod(path, DIR_MODE);
  } catch (error) {
    throw storeIoError('set the mode of', path, error);
  }
}

export interface WriteOptions {
  /** Final mode, set on the temp file before any data is written. */
  mode: number;
  /** Fail with STORE_IO (EEXIST) instead of replacing an existing file. */
  exclusive?: boolean;
}

/**
 * Write `data` to `path` atomically: readers see the old file or the complete new one, never a part.
 * On failure the temp file is removed (best effort) and STORE_IO is thrown; `path` is unchanged.
 */
export async function writeFileAtomic(fs: StoreFs, path: string, data: string, options: WriteOptions): Promise<void> {
  const temp = tempPathFor(path);
  let step = 'create a temp file for';
  try {
    const handle = await fs.open(temp, 'wx', options.mode);
    try {
      step = 'set the mode of a temp file for';
      await handle.chmod(options.mode);
      step = 'write';
      await handle.writeFile(data);
      step = 'fsync';
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.exclusive === true) {
      step = 'create';
      await fs.link(temp, path);
      // The new name is in place; a temp name left behind is swept by the next commit.
      await fs.unlink(temp).catch(() => undefined);
    } else {
      step = 'replace';
      await fs.rename(temp, path);
    }
    step = 'fsync the directory of';
    await fs.fsyncDir(dirname(path));
  } catch (error) {
    await fs.unlink(temp).catch(() => undefined);
    throw storeIoError(step, path, error);
  }
}

/** Point the symlink `path` at `target` atomically (temp symlink renamed over it). No directory fsync. */
export async function replaceSymlink(fs: StoreFs, path: string, target: string): Promise<void> {
  const temp = tempPathFor(path);
  try {
    await fs.symlink(target, temp);
    await fs.rename(temp, path);
  } catch (error) {
    await fs.unlink(temp).catch(() => undefined);
    throw storeIoError('switch the link', path, error);
  }
}

/** readlink, with undefined for a missing link; STORE_IO when `path` exists but is not a symlink. */
export async function readLinkIfAny(fs: StoreFs, path: string): Promise<string | undefined> {
  try {
    return await fs.readlink(path);
  } catch (error) {
    const errno = errnoOf(error);
    if (errno === 'ENOENT') return undefined;
    if (errno === 'EINVAL') {
      throw new GxitError('STORE_IO', `${path} is not a symbolic link`, {
        subject: path,
        fix: `Remove or move ${path}; gxit-cert keeps a symlink into ../../archive there, like certbot.`,
        cause: error,
      });
    }
    throw storeIoError('read the link', path, error);
  }
}

/** readFile, with undefined for a missing file. */
export async function readFileIfAny(fs: StoreFs, path: string): Promise<string | undefined> {
  try {
    return await fs.readFile(path);
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return undefined;
    throw storeIoError('read', path, error);
  }
}

/** readdir, with [] for a missing directory. */
export async function readDirIfAny(fs: StoreFs, path: string): Promise<string[]> {
  try {
    return await fs.readdir(path);
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return [];
    throw storeIoError('list', path, error);
  }
}

/** Remove temp files a crashed writer left in `dir` (only ever called under the state lock). */
export async function sweepTempFiles(fs: StoreFs, dir: string): Promise<void> {
  for (const fileName of await readDirIfAny(fs, dir)) {
    if (isTempName(fileName)) await fs.unlink(join(dir, fileName)).catch(() => undefined);
  }
}

/**
 * The one symlink rule under state_dir: the directories the store reads and writes (live/, archive/,
 * renewal/ and each lineage's live/<name>, archive/<name>) must be real directories, never symlinks.
 * Followed, a symlinked live/ makes the relative ../../archive links resolve from the link's target
 * (every link dangles) and a symlinked archive/ puts private keys outside state_dir; refusing is the
 * only rule that keeps both the links and the keys where certbot's layout says. Missing is fine.
 * (The live/<name>/*.pem links themselves are symlinks by design; their targets are checked on read.)
 */
export async function refuseSymlinkedDirs(fs: StoreFs, dirs: readonly string[]): Promise<void> {
  for (const dir of dirs) {
    let isLink: boolean;
    try {
      isLink = (await fs.lstat(dir)).isSymbolicLink();
    } catch (error) {
      const errno = errnoOf(error);
      if (errno === 'ENOENT' || errno === 'ENOTDIR') continue;
      throw storeIoError('inspect', dir, error);
    }
    if (isLink) {
      throw new GxitError('STORE_IO', `${dir} is a symbolic link; gxit-cert does not follow symlinked directories under state_dir`, {
        subject: dir,
        fix: `Replace the link ${dir} with the directory it points at (or point state_dir at the real location).`,
      });
    }
  }
}
