import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assertCertbotIdle, holdersOf, splitDev } from '../../../src/migrate/certbot-lock.js';

const PROC_LOCKS = [
  '1: POSIX  ADVISORY  WRITE 4242 00:2d:1234567 0 EOF',
  '1: -> POSIX  ADVISORY  WRITE 4343 00:2d:1234567 0 EOF',
  '2: FLOCK  ADVISORY  WRITE 77 fd:01:1234567 0 EOF',
  '3: OFDLCK ADVISORY  READ  -1 00:2d:99 0 EOF',
  '',
].join('\n');

describe('holdersOf', () => {
  it('finds the holder of a lock on the file (device and inode), not its waiters or other files', () => {
    expect(holdersOf(PROC_LOCKS, { major: 0, minor: 0x2d, inode: 1234567n })).toEqual([{ kind: 'POSIX', pid: 4242 }]);
    expect(holdersOf(PROC_LOCKS, { major: 0xfd, minor: 1, inode: 1234567n })).toEqual([{ kind: 'FLOCK', pid: 77 }]);
    expect(holdersOf(PROC_LOCKS, { major: 0, minor: 0x2d, inode: 1n })).toEqual([]);
  });
});

describe('splitDev', () => {
  it('decodes glibc dev_t', () => {
    expect(splitDev(0x2dn)).toEqual({ major: 0, minor: 0x2d });
    expect(splitDev(0xfd01n)).toEqual({ major: 0xfd, minor: 1 });
    expect(splitDev((0x103n << 8n) | 0x05n | (0x1n << 20n))).toEqual({ major: 0x103, minor: 0x105 });
  });
});

describe('assertCertbotIdle', () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('passes without a lock file, and refuses when /proc/locks lists a holder of it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gxit-lock-'));
    dirs.push(dir);
    await expect(assertCertbotIdle(dir, { readProcLocks: async () => { throw new Error('not read'); } })).resolves.toBeUndefined();
    const file = path.join(dir, '.certbot.lock');
    await writeFile(file, '');
    const info = await stat(file, { bigint: true });
    const { major, minor } = splitDev(info.dev);
    const line = `9: POSIX  ADVISORY  WRITE 31337 ${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}:${info.ino} 0 EOF\n`;
    await expect(assertCertbotIdle(dir, { readProcLocks: async () => line })).rejects.toMatchObject({
      code: 'LOCKED',
      message: `certbot is running (pid 31337 holds ${file})`,
    });
    await expect(assertCertbotIdle(dir, { readProcLocks: async () => PROC_LOCKS })).resolves.toBeUndefined();
    await expect(assertCertbotIdle(dir, { readProcLocks: async () => { throw new Error('ENOENT'); } })).rejects.toMatchObject({ code: 'LOCKED' });
  });
});
