/**
 * The one way the tool reads a file: bounded and regular-files-only.
 *
 * A path given by a user (or written into a state file by an attacker) may name a FIFO (open() would
 * block forever), a device such as /dev/zero (read to the end, it exhausts memory), a directory or a
 * huge file. So every read opens with O_NONBLOCK (a FIFO opens at once instead of waiting for a
 * writer), checks with fstat on the open descriptor (no race with a swapped path) that it is a
 * regular file, and reads at most maxBytes + 1 bytes: one byte more than allowed proves the file is
 * too large without reading all of it. Each failure is one GxitError line naming the file and its kind.
 */
import { constants, type Stats } from 'node:fs';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { GxitError, type ErrorCode } from '../errors.js';
import { showPath } from '../redact.js';

export type FileKind = 'config' | 'secret' | 'pem' | 'state' | 'lock';

interface KindRule {
  /** Largest size accepted, in bytes. */
  maxBytes: number;
  /** How messages name a file of this kind. */
  what: string;
  code: ErrorCode;
  /** Whether a symbolic link as the last path component is refused (O_NOFOLLOW). */
  noFollow: boolean;
}

/**
 * Size limits per kind (the configuration's matches MAX_CONFIG_CHARS of config/tree.ts), each far above any real file of the kind and far below what hurts:
 * a configuration is a few KiB, a key file a few hundred bytes, a certificate chain a few KiB,
 * a renewal record or account JSON under 10 KiB, a lock file under 200 bytes.
 * Configuration, secret and PEM paths may be symbolic links (Ansible- and Kubernetes-managed files,
 * live/ links into archive/); state and lock files are written by the tool itself and never are.
 */
export const FILE_KINDS: Readonly<Record<FileKind, KindRule>> = {
  config: { maxBytes: 256 * 1024, what: 'configuration file', code: 'CONFIG_UNREADABLE', noFollow: false },
  secret: { maxBytes: 64 * 1024, what: 'secret file', code: 'SECRET_UNAVAILABLE', noFollow: false },
  pem: { maxBytes: 1024 * 1024, what: 'PEM file', code: 'STORE_IO', noFollow: false },
  state: { maxBytes: 1024 * 1024, what: 'state file', code: 'STORE_IO', noFollow: true },
  lock: { maxBytes: 4 * 1024, what: 'lock file', code: 'STORE_IO', noFollow: true },
};

/** Why a file was refused; `missing` and `denied` keep the errno for callers that branch on it. */
export type FileProblem = 'missing' | 'denied' | 'not-regular' | 'symlink' | 'too-large' | 'io';

export interface BoundedFile {
  data: Buffer;
  /** st_mode of the open file (type and permission bits). */
  mode: number;
}

export interface ReadOptions {
  kind: FileKind;
  /** Overrides the kind's limit (tests, callers with a tighter bound). */
  maxBytes?: number;
  /** Overrides the kind's symlink rule. */
  noFollow?: boolean;
}

export class FileReadError extends GxitError {
  constructor(
    readonly path: string,
    readonly fileKind: FileKind,
    readonly problem: FileProblem,
    /** The phrase after the file name, e.g. "is a FIFO (named pipe), not a regular file". */
    readonly reason: string,
    readonly errno: string | undefined,
    fix: string,
    cause?: unknown,
  ) {
    const rule = FILE_KINDS[fileKind];
    super(problem === 'missing' && fileKind === 'config' ? 'CONFIG_NOT_FOUND' : rule.code, `${showPath(path)}: the ${rule.what} ${reason}`, {
      subject: path,
      fix,
      ...(cause === undefined ? {} : { cause }),
    });
    this.name = 'FileReadError';
  }
}

export function isFileReadError(value: unknown): value is FileReadError {
  return value instanceof FileReadError;
}

/** What a non-regular file is, for messages. */
export function fileTypeName(stat: Pick<Stats, 'isDirectory' | 'isFIFO' | 'isCharacterDevice' | 'isBlockDevice' | 'isSocket' | 'isSymbolicLink'>): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  if (stat.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

function flagsFor(rule: KindRule, options: ReadOptions): number {
  const noFollow = options.noFollow ?? rule.noFollow;
  return constants.O_RDONLY | constants.O_NONBLOCK | (noFollow ? constants.O_NOFOLLOW : 0);
}

function limitOf(options: ReadOptions): number {
  return options.maxBytes ?? FILE_KINDS[options.kind].maxBytes;
}

function openError(path: string, options: ReadOptions, error: unknown): FileReadError {
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  const kind = options.kind;
  const what = FILE_KINDS[kind].what;
  if (errno === 'ENOENT' || errno === 'ENOTDIR') return new FileReadError(path, kind, 'missing', 'does not exist', errno, `correct the path, or create the ${what}`, error);
  if (errno === 'EACCES' || errno === 'EPERM') {
    return new FileReadError(path, kind, 'denied', 'cannot be read (permission denied)', errno, 'run gxit-cert as a user that may read it (root), or give that user read access', error);
  }
  if (errno === 'ELOOP') return new FileReadError(path, kind, 'symlink', 'is a symbolic link, which is not accepted here', errno, `replace the link with the ${what} itself`, error);
  if (errno === 'EISDIR') return notRegular(path, kind, 'a directory');
  if (errno === 'ENXIO') return notRegular(path, kind, 'a socket or device without a reader');
  return new FileReadError(path, kind, 'io', `cannot be read (${errno ?? (error instanceof Error ? error.message : String(error))})`, errno, `check that ${showPath(path)} is a readable regular file`, error);
}

function notRegular(path: string, kind: FileKind, type: string): FileReadError {
  return new FileReadError(path, kind, 'not-regular', `is ${type}, not a regular file`, undefined, `point it at a regular ${FILE_KINDS[kind].what}`);
}

function tooLarge(path: string, kind: FileKind, maxBytes: number): FileReadError {
  return new FileReadError(path, kind, 'too-large', `is larger than ${maxBytes} bytes, too large for a ${FILE_KINDS[kind].what}`, undefined, `check that ${showPath(path)} is the right file`);
}

function readError(path: string, kind: FileKind, error: unknown): FileReadError {
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  if (errno === 'EISDIR') return notRegular(path, kind, 'a directory');
  return new FileReadError(path, kind, 'io', `cannot be read (${errno ?? (error instanceof Error ? error.message : String(error))})`, errno, `check that ${showPath(path)} is a readable regular file`, error);
}

/** Reads a regular file of at most the kind's limit (synchronous: for the configuration pipeline). */
export function readBoundedFileSync(path: string, options: ReadOptions): BoundedFile {
  const rule = FILE_KINDS[options.kind];
  const maxBytes = limitOf(options);
  let fd: number;
  try {
    fd = openSync(path, flagsFor(rule, options));
  } catch (error) {
    throw openError(path, options, error);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw notRegular(path, options.kind, fileTypeName(stat));
    if (stat.size > maxBytes) throw tooLarge(path, options.kind, maxBytes);
    // Read to EOF but never past maxBytes + 1: the size in stat may be stale or 0 (procfs).
    const buffer = Buffer.alloc(Math.min(maxBytes + 1, Math.max(stat.size + 1, 4096)));
    let length = 0;
    let chunk = buffer;
    for (;;) {
      if (length === chunk.length) {
        if (chunk.length > maxBytes) break;
        const grown = Buffer.alloc(Math.min(maxBytes + 1, chunk.length * 2));
        chunk.copy(grown, 0, 0, length);
        chunk = grown;
      }
      let read: number;
      try {
        read = readSync(fd, chunk, length, chunk.length - length, null);
      } catch (error) {
        throw readError(path, options.kind, error);
      }
      if (read === 0) break;
      length += read;
    }
    if (length > maxBytes) throw tooLarge(path, options.kind, maxBytes);
    return { data: chunk.subarray(0, length), mode: stat.mode };
  } finally {
    closeSync(fd);
  }
}

/** Reads a regular file of at most the kind's limit. */
export async function readBoundedFile(path: string, options: ReadOptions): Promise<BoundedFile> {
  const rule = FILE_KINDS[options.kind];
  const maxBytes = limitOf(options);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, flagsFor(rule, options));
  } catch (error) {
    throw openError(path, options, error);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw notRegular(path, options.kind, fileTypeName(stat));
    if (stat.size > maxBytes) throw tooLarge(path, options.kind, maxBytes);
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const buffer = Buffer.alloc(Math.min(maxBytes + 1 - length, 64 * 1024));
      if (buffer.length === 0) break;
      let read: number;
      try {
        ({ bytesRead: read } = await handle.read(buffer, 0, buffer.length, null));
      } catch (error) {
        throw readError(path, options.kind, error);
      }
      if (read === 0) break;
      chunks.push(buffer.subarray(0, read));
      length += read;
    }
    if (length > maxBytes) throw tooLarge(path, options.kind, maxBytes);
    return { data: Buffer.concat(chunks, length), mode: stat.mode };
  } finally {
    await handle.close();
  }
}

/** readBoundedFile as UTF-8 text. */
export async function readBoundedText(path: string, options: ReadOptions): Promise<string> {
  return (await readBoundedFile(path, options)).data.toString('utf8');
}
