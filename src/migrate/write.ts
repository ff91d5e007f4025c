/**
 * Atomic writes outside the state directory: the written configuration, certbot's renewal/*.conf
 * and crontabs. Temp file in the same directory with the final mode (and the old file's owner),
 * fsync, rename, directory fsync.
 */
import { randomBytes } from 'node:crypto';
import { chown, copyFile, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { GxitError, messageOf } from '../errors.js';

export async function writeAtomic(path: string, data: string, opts: { mode: number; uid?: number; gid?: number; exclusive?: boolean }): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.tmp-${randomBytes(6).toString('hex')}`);
  try {
    if (opts.exclusive === true && (await stat(path).then(() => true, () => false))) {
      throw new GxitError('USAGE', `${path} exists already`, { subject: path, fix: `move ${path} away or name another file` });
    }
    const handle = await open(temp, 'wx', opts.mode);
    try {
      await handle.chmod(opts.mode);
      if (opts.uid !== undefined && opts.gid !== undefined) await handle.chown(opts.uid, opts.gid);
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    const dir = await open(dirname(path), 'r');
    await dir.sync().catch(() => undefined).finally(() => dir.close());
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    if (error instanceof GxitError) throw error;
    throw new GxitError('STORE_IO', `cannot write ${path}: ${messageOf(error)}`, {
      subject: path,
      fix: `check that ${dirname(path)} is writable (run as root)`,
      cause: error,
    });
  }
}

/** Keep `path` as `path.bak` (an existing .bak, from an earlier run, is kept) and replace it, owner and mode unchanged. */
export async function backupAndReplace(path: string, data: string): Promise<void> {
  const info = await stat(path);
  const backup = `${path}.bak`;
  if (!(await stat(backup).then(() => true, () => false))) {
    await copyFile(path, backup);
    await chown(backup, info.uid, info.gid).catch(() => undefined);
  }
  await writeAtomic(path, data, { mode: info.mode & 0o7777, uid: info.uid, gid: info.gid });
}
