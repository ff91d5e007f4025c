/**
 * The file store's DNS change journal: one small JSON file per entry in state_dir/dns-journal/,
 * written like every store file (temp, fsync, rename, fsync of the directory), so an entry either
 * exists complete or not at all. One file per entry keeps a write independent of all others (no
 * read-modify-write of a shared file) and costs one fsync pair.
 */
import { join } from 'node:path';
import { GxitError } from '../errors.js';
import { lockLostError, type DnsJournal, type JournalEntry, type JournalRecord, type WriteOptions } from './contract.js';
import { ensureDir, errnoOf, isTempName, readDirIfAny, readFileIfAny, storeIoError, writeFileAtomic, type StoreFs } from './fs.js';
import { parseJsonObject } from './json.js';
import { PRIVATE_MODE } from './layout.js';

export const JOURNAL_DIR = 'dns-journal';
const ID = /^[a-z0-9-]{1,64}$/;

export function journalDir(stateDir: string): string {
  return join(stateDir, JOURNAL_DIR);
}

function checkId(id: string): void {
  if (!ID.test(id)) throw new GxitError('INTERNAL', `journal entry id ${JSON.stringify(id)} is not [a-z0-9-]{1,64}`, { subject: id });
}

function isRecord(value: unknown): value is JournalRecord {
  if (typeof value !== 'object' || value === null || !('fqdn' in value) || !('value' in value)) return false;
  if ('domain' in value && typeof value.domain !== 'string') return false;
  return typeof value.fqdn === 'string' && typeof value.value === 'string';
}

/** The entry in a file's text; undefined when it is not one of ours (it is then reported, never acted on). */
export function parseEntry(text: string): JournalEntry | undefined {
  const json = parseJsonObject(text);
  if (!json.ok) return undefined;
  const d = json.value;
  const { id, provider, identity, records, command, pid, hostname, createdAt } = d;
  if (typeof id !== 'string' || !ID.test(id) || typeof provider !== 'string' || typeof identity !== 'string') return undefined;
  if (!Array.isArray(records) || !records.every(isRecord)) return undefined;
  if (typeof command !== 'string' || typeof pid !== 'number' || typeof hostname !== 'string' || typeof createdAt !== 'string') return undefined;
  return { id, provider, identity, records: records.map((r) => ({ fqdn: r.fqdn, value: r.value, ...(r.domain === undefined ? {} : { domain: r.domain }) })), command, pid, hostname, createdAt };
}

export function fileJournal(fs: StoreFs, stateDir: string): DnsJournal {
  const dir = journalDir(stateDir);
  const pathOf = (id: string): string => join(dir, `${id}.json`);
  return {
    location: dir,
    async record(entry: JournalEntry, options?: WriteOptions): Promise<void> {
      checkId(entry.id);
      if (options?.fence?.aborted) throw lockLostError(`journaling the TXT records at ${entry.records.map((r) => r.fqdn).join(', ')}`);
      await ensureDir(fs, dir);
      await writeFileAtomic(fs, pathOf(entry.id), `${JSON.stringify(entry)}\n`, { mode: PRIVATE_MODE });
    },
    async clear(id: string): Promise<void> {
      checkId(id);
      try {
        await fs.unlink(pathOf(id));
      } catch (error) {
        if (errnoOf(error) === 'ENOENT') return;
        throw storeIoError('remove the journal entry', pathOf(id), error);
      }
      await fs.fsyncDir(dir).catch((error: unknown) => {
        throw storeIoError('fsync', dir, error);
      });
    },
    async list(): Promise<JournalEntry[]> {
      const names = (await readDirIfAny(fs, dir)).filter((n) => n.endsWith('.json') && !isTempName(n)).sort();
      const entries: JournalEntry[] = [];
      for (const name of names) {
        const text = await readFileIfAny(fs, join(dir, name));
        if (text === undefined) continue;
        const entry = parseEntry(text);
        if (entry === undefined) {
          throw new GxitError('STORE_IO', `${join(dir, name)} is not a journal entry of gxit-cert`, {
            subject: join(dir, name),
            fix: `move ${join(dir, name)} out of ${dir}; only gxit-cert writes there`,
          });
        }
        entries.push(entry);
      }
      return entries.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    },
  };
}
