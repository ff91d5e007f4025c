/**
 * Whether certbot runs: certbot holds a POSIX lock (fcntl lockf) on <config-dir>/.certbot.lock for as
 * long as it works on the directory. Node cannot test a POSIX lock itself, but the kernel lists every
 * held lock in /proc/locks with the device and inode of its file:
 *
 *   1: POSIX  ADVISORY  WRITE 4242 00:2d:1234567 0 EOF
 *
 * (major and minor of the device in hex, the inode in decimal). A lock left by a killed certbot
 * vanishes with the process, so a listed lock always means a live holder.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { GxitError } from '../errors.js';

export interface FileId {
  major: number;
  minor: number;
  inode: bigint;
}

export interface LockHolder {
  pid: number;
  kind: string;
}

/** The holders of locks on the file `id` in the text of /proc/locks (pure). */
export function holdersOf(procLocks: string, id: FileId): LockHolder[] {
  const holders: LockHolder[] = [];
  for (const line of procLocks.split('\n')) {
    // "->" lines are waiters blocked on a lock; the holder's line is the one without.
    const m = /^\d+:\s+(POSIX|FLOCK|OFDLCK)\s+\S+\s+\S+\s+(-?\d+)\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s/.exec(line);
    if (!m) continue;
    if (parseInt(m[3]!, 16) === id.major && parseInt(m[4]!, 16) === id.minor && BigInt(m[5]!) === id.inode) {
      holders.push({ kind: m[1]!, pid: Number(m[2]) });
    }
  }
  return holders;
}

/** Linux dev_t as glibc encodes it (gnu_dev_major / gnu_dev_minor). */
export function splitDev(dev: bigint): { major: number; minor: number } {
  const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
  return { major, minor };
}

export interface LockDeps {
  readProcLocks?: () => Promise<string>;
}

/** LOCKED when a process holds the lock of certbot's directory. No lock file: certbot never ran here. */
export async function assertCertbotIdle(certbotDir: string, deps: LockDeps = {}): Promise<void> {
  const lockFile = join(certbotDir, '.certbot.lock');
  let info;
  try {
    info = await stat(lockFile, { bigint: true });
  } catch {
    return;
  }
  const procLocks = await (deps.readProcLocks ?? (() => readFile('/proc/locks', 'utf8')))().catch(() => undefined);
  if (procLocks === undefined) {
    throw new GxitError('LOCKED', `cannot tell whether certbot is running: /proc/locks cannot be read`, {
      subject: lockFile,
      fix: 'run import-certbot on Linux with /proc mounted, after making sure no certbot runs',
    });
  }
  const holders = holdersOf(procLocks, { ...splitDev(info.dev), inode: info.ino });
  if (holders.length > 0) {
    throw new GxitError('LOCKED', `certbot is running (pid ${holders.map((h) => h.pid).join(', ')} holds ${lockFile})`, {
      subject: lockFile,
      fix: 'wait until that certbot run has finished, then run import-certbot again',
    });
  }
}
