import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileJournal, journalDir, parseEntry } from '../../../src/store/journal.js';
import { nodeFs, type StoreFs } from '../../../src/store/fs.js';
import type { JournalEntry } from '../../../src/store/contract.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gxit-journal-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function entry(id: string, createdAt = '2026-12-03T10:00:00.000Z'): JournalEntry {
  return {
    id,
    provider: 'rfc2136',
    identity: 'servers 127.0.0.2:53, key k',
    records: [{ fqdn: '_acme-challenge.galaxy.example.org', value: 'v1' }, { fqdn: '_acme-challenge.galaxy.example.org', value: 'v2' }],
    command: 'issue',
    pid: 4242,
    hostname: 'host-a',
    createdAt,
  };
}

describe('file journal', () => {
  it('records entries as private files, lists them oldest first, clears them', async () => {
    const journal = fileJournal(nodeFs, dir);
    await journal.record(entry('b', '2026-12-03T10:00:02.000Z'));
    await journal.record(entry('a', '2026-12-03T10:00:01.000Z'));
    expect((await journal.list()).map((e) => e.id)).toEqual(['a', 'b']);
    expect((await stat(join(journalDir(dir), 'a.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(journalDir(dir))).mode & 0o777).toBe(0o700);
    await journal.clear('a');
    await journal.clear('a');
    expect(await journal.list()).toEqual([entry('b', '2026-12-03T10:00:02.000Z')]);
  });

  it('fsyncs the entry and its directory before record resolves', async () => {
    const calls: string[] = [];
    const fs: StoreFs = {
      ...nodeFs,
      open: async (path, flags, mode) => {
        const handle = await nodeFs.open(path, flags, mode);
        return { ...handle, chmod: (m) => handle.chmod(m), writeFile: (d) => handle.writeFile(d), close: () => handle.close(), sync: async () => { calls.push('sync'); await handle.sync(); } };
      },
      rename: async (a, b) => { calls.push('rename'); await nodeFs.rename(a, b); },
      fsyncDir: async (p) => { calls.push(`fsyncDir ${p === journalDir(dir) ? 'journal' : p}`); await nodeFs.fsyncDir(p); },
    };
    await fileJournal(fs, dir).record(entry('a'));
    expect(calls.slice(-3)).toEqual(['sync', 'rename', 'fsyncDir journal']);
  });

  it('writes nothing when the fence is aborted', async () => {
    const lost = new AbortController();
    lost.abort();
    await expect(fileJournal(nodeFs, dir).record(entry('a'), { fence: lost.signal })).rejects.toMatchObject({ code: 'LOCK_LOST' });
    expect(await fileJournal(nodeFs, dir).list()).toEqual([]);
  });

  it('is empty without a directory, ignores temp files, and refuses a file that is not an entry', async () => {
    const journal = fileJournal(nodeFs, dir);
    expect(await journal.list()).toEqual([]);
    await journal.record(entry('a'));
    await writeFile(join(journalDir(dir), '.a.json.tmp-0123456789ab'), '{"half');
    expect((await journal.list()).map((e) => e.id)).toEqual(['a']);
    await writeFile(join(journalDir(dir), 'zz.json'), '{"id": "zz"}');
    await expect(journal.list()).rejects.toMatchObject({ code: 'STORE_IO', message: expect.stringContaining('zz.json is not a journal entry') });
    expect(await readdir(journalDir(dir))).toContain('a.json');
  });

  it('rejects ids that could escape the directory', async () => {
    await expect(fileJournal(nodeFs, dir).record(entry('../x'))).rejects.toMatchObject({ code: 'INTERNAL' });
  });

  it('parses only complete entries', () => {
    expect(parseEntry(JSON.stringify(entry('a')))).toEqual(entry('a'));
    expect(parseEntry('{')).toBeUndefined();
    expect(parseEntry(JSON.stringify({ ...entry('a'), records: [{ fqdn: 'x' }] }))).toBeUndefined();
    expect(parseEntry(JSON.stringify({ ...entry('a'), pid: '1' }))).toBeUndefined();
  });
});
