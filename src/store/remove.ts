/**
 * Removing a lineage from the file store: live/<name>, archive/<name> and renewal/<name>.json go
 * into deleted/<name>-<time>.tar.gz (0600: it holds private keys), written through a temp file,
 * fsynced and renamed, before anything is removed.
 */
import { spawn } from 'node:child_process';
import { constants, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat, unlink } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { GxitError, messageOf } from '../errors.js';
import { archiveDir, checkLineageName, liveRoot, renewalFile } from './layout.js';

export function deletedDir(stateDir: string): string {
  return join(stateDir, 'deleted');
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export async function removeLineageFiles(stateDir: string, name: string, now: Date): Promise<{ backup: string } | undefined> {
  checkLineageName(name);
  const parts = [join(liveRoot(stateDir), name), archiveDir(stateDir, name), renewalFile(stateDir, name)];
  const present: string[] = [];
  for (const part of parts) if (await exists(part)) present.push(part);
  if (present.length === 0) return undefined;
  const dir = deletedDir(stateDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  const backup = join(dir, `${name}-${stamp}.tar.gz`);
  const temp = `${backup}.tmp-${process.pid}`;
  const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await new Promise<void>((resolve, reject) => {
      const out = createWriteStream('', { fd: handle.fd, autoClose: false });
      const tar = spawn('tar', ['-czf', '-', '-C', stateDir, ...present.map((p) => relative(stateDir, p))], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      tar.stderr.on('data', (d: Buffer) => (err += d.toString()));
      tar.stdout.pipe(out);
      tar.on('error', reject);
      tar.on('close', (code) => {
        out.end(() => (code === 0 ? resolve() : reject(new Error(`tar exited with ${code}: ${err.trim()}`))));
      });
    });
    await handle.sync();
    await handle.close();
    await rename(temp, backup);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw new GxitError('STORE_IO', `could not write the backup of lineage ${name} to ${backup}: ${messageOf(error)}`, {
      subject: backup,
      fix: `check that ${dir} is writable and has space; nothing was removed`,
      cause: error,
    });
  }
  for (const part of present) await rm(part, { recursive: true, force: true });
  return { backup };
}
