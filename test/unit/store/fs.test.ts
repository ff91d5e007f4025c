import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GxitError } from '../../../src/errors.js';
import { ensureDir, isTempName, nodeFs, tempPathFor, writeFileAtomic, type StoreFs } from '../../../src/store/fs.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gxit-fs-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

describe('writeFileAtomic', () => {
  it('replaces a file and sets the final mode (also tightening an existing file)', async () => {
    const path = join(dir, 'key.pem');
    await writeFile(path, 'old', { mode: 0o644 });
    await writeFileAtomic(nodeFs, path, 'new', { mode: 0o600 });
    expect(await readFile(path, 'utf8')).toBe('new');
    expect(await mode(path)).toBe(0o600);
    expect(await readdir(dir)).toEqual(['key.pem']);
  });

  it('exclusive: refuses to replace and leaves the old content and no temp file', async () => {
    const path = join(dir, 'cert1.pem');
    await writeFile(path, 'old');
    let caught: unknown;
    try {
      await writeFileAtomic(nodeFs, path, 'new', { mode: 0o644, exclusive: true });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(GxitError);
    expect((caught as GxitError).code).toBe('STORE_IO');
    expect((caught as GxitError).subject).toBe(path);
    expect(await readFile(path, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['cert1.pem']);
  });

  it('keeps the old file when the rename fails, and removes the temp file', async () => {
    const path = join(dir, 'state.json');
    await writeFile(path, 'old');
    const failing: StoreFs = {
      ...nodeFs,
      rename: async () => {
        throw Object.assign(new Error('no space left'), { code: 'ENOSPC' });
      },
    };
    await expect(writeFileAtomic(failing, path, 'new', { mode: 0o644 })).rejects.toMatchObject({
      code: 'STORE_IO',
      fix: expect.stringContaining('Free space'),
    });
    expect(await readFile(path, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['state.json']);
  });
});

describe('ensureDir', () => {
  it('creates missing parents with 0700', async () => {
    await ensureDir(nodeFs, join(dir, 'a', 'b', 'c'));
    for (const sub of ['a', 'a/b', 'a/b/c']) expect(await mode(join(dir, sub))).toBe(0o700);
  });

  it('leaves an existing directory as it is', async () => {
    const existing = join(dir, 'mine');
    await ensureDir(nodeFs, existing);
    const { chmod } = await import('node:fs/promises');
    await chmod(existing, 0o750);
    await ensureDir(nodeFs, existing);
    expect(await mode(existing)).toBe(0o750);
  });

  it('reports a file in the way', async () => {
    const path = join(dir, 'live');
    await writeFile(path, '');
    await expect(ensureDir(nodeFs, path)).rejects.toMatchObject({ code: 'STORE_IO', message: expect.stringContaining('not a directory') });
  });
});

describe('temp names', () => {
  it('are hidden, in the same directory, and recognised by the sweeper', () => {
    const temp = tempPathFor('/s/archive/g/privkey3.pem');
    expect(temp).toMatch(/^\/s\/archive\/g\/\.privkey3\.pem\.tmp-[0-9a-f]{12}$/);
    expect(isTempName(temp.split('/').pop() ?? '')).toBe(true);
    expect(isTempName('privkey3.pem')).toBe(false);
    expect(isTempName('.lock')).toBe(false);
  });
});
