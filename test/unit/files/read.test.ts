import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FILE_KINDS, readBoundedFile, readBoundedFileSync, type FileKind, type ReadOptions } from '../../../src/files/read.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gxit-cert-read-'));
  writeFileSync(join(dir, 'small'), 'hello\n');
  writeFileSync(join(dir, 'exact'), Buffer.alloc(100, 66));
  writeFileSync(join(dir, 'over'), Buffer.alloc(101, 66));
  mkdirSync(join(dir, 'sub'));
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  symlinkSync(join(dir, 'small'), join(dir, 'link'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Reader = (path: string, options: ReadOptions) => Promise<{ data: Buffer; mode: number }>;
const readers: [string, Reader][] = [
  ['async', readBoundedFile],
  ['sync', async (path, options) => readBoundedFileSync(path, options)],
];

describe.each(readers)('%s reader', (_name, read) => {
  test('reads a small regular file with its mode', async () => {
    const file = await read(join(dir, 'small'), { kind: 'config' });
    expect(file.data.toString()).toBe('hello\n');
    expect(file.mode & 0o170000).toBe(0o100000);
  });

  test('accepts exactly maxBytes and refuses one more', async () => {
    expect((await read(join(dir, 'exact'), { kind: 'pem', maxBytes: 100 })).data.length).toBe(100);
    await expect(read(join(dir, 'over'), { kind: 'pem', maxBytes: 100 })).rejects.toMatchObject({ problem: 'too-large', code: 'STORE_IO' });
  });

  test.each([
    ['/dev/zero', 'a character device', 'pem'],
    ['/dev/urandom', 'a character device', 'state'],
    ['sub', 'a directory', 'config'],
    ['fifo', 'a FIFO (named pipe)', 'secret'],
  ])('%s is refused at once as %s', async (name, type, kind) => {
    const path = name.startsWith('/') ? name : join(dir, name);
    const started = Date.now();
    const error = await read(path, { kind: kind as FileKind }).catch((e: unknown) => e);
    expect(error).toMatchObject({ problem: 'not-regular', code: FILE_KINDS[kind as FileKind].code });
    expect((error as Error).message).toBe(`${path}: the ${FILE_KINDS[kind as FileKind].what} is ${type}, not a regular file`);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test('a missing file of kind config is CONFIG_NOT_FOUND', async () => {
    await expect(read(join(dir, 'nope'), { kind: 'config' })).rejects.toMatchObject({ problem: 'missing', code: 'CONFIG_NOT_FOUND', errno: 'ENOENT' });
  });

  test('a symbolic link is followed for PEM files and refused for state files', async () => {
    expect((await read(join(dir, 'link'), { kind: 'pem' })).data.toString()).toBe('hello\n');
    await expect(read(join(dir, 'link'), { kind: 'state' })).rejects.toMatchObject({ problem: 'symlink' });
  });

  test('a newline in the path does not split the message', async () => {
    const error = await read(join(dir, 'a\nb'), { kind: 'config' }).catch((e: unknown) => e);
    expect((error as Error).message).not.toContain('\n');
    expect((error as Error).message).toContain('a\\u000ab');
  });
});

test('every kind has a limit of at most 1 MiB', () => {
  for (const rule of Object.values(FILE_KINDS)) expect(rule.maxBytes).toBeLessThanOrEqual(1024 * 1024);
});
