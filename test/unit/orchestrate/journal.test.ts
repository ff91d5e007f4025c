import { describe, expect, it } from 'vitest';
import type { DnsProvider, TxtRecord } from '../../../src/dns/provider.js';
import { runProbe } from '../../../src/dns/providers/probe.js';
import { GxitError } from '../../../src/errors.js';
import { cannotRemove, journaled, sweepLeftovers, sweepUnderLock } from '../../../src/orchestrate/journal.js';
import type { DnsJournal, JournalEntry, Locker } from '../../../src/store/contract.js';

const NEVER = new AbortController().signal;
const A: TxtRecord = { fqdn: '_acme-challenge.galaxy.test', value: 'base' };
const B: TxtRecord = { fqdn: '_acme-challenge.galaxy.test', value: 'wild' };

function memoryJournal(log: string[] = []): DnsJournal & { entries: Map<string, JournalEntry> } {
  const entries = new Map<string, JournalEntry>();
  return {
    entries,
    location: 'memory',
    async record(entry, options) {
      if (options?.fence?.aborted) throw new GxitError('LOCK_LOST', 'lost');
      log.push(`record ${entry.records.map((r) => r.value).join(',')}`);
      entries.set(entry.id, structuredClone(entry));
    },
    async clear(id) {
      log.push(`clear ${entries.get(id)?.records.map((r) => r.value).join(',') ?? id}`);
      entries.delete(id);
    },
    async list() {
      return [...entries.values()];
    },
  };
}

/** A provider that keeps values in a map, like a zone. */
function zoneProvider(log: string[], name = 'rfc2136', failCleanup = false): DnsProvider & { zone: Set<string> } {
  const zone = new Set<string>();
  const provider: DnsProvider & { zone: Set<string> } = {
    name,
    identity: 'servers 192.0.2.53:53, key k',
    zone,
    async present(records) {
      log.push(`present ${records.map((r) => r.value).join(',')}`);
      for (const r of records) zone.add(r.value);
    },
    async cleanup(records) {
      log.push(`cleanup ${records.map((r) => r.value).join(',')}`);
      if (failCleanup) throw new GxitError('DNS_TIMEOUT', 'no reply');
      for (const r of records) zone.delete(r.value);
    },
    async removeLeftovers(records) {
      log.push(`leftovers ${records.map((r) => r.value).join(',')}`);
      if (failCleanup) throw new GxitError('DNS_TIMEOUT', 'no reply');
      for (const r of records) zone.delete(r.value);
    },
    probe(fqdn, opts) {
      return runProbe(fqdn, { locate: async () => 'in zone galaxy.test', add: (r, s) => provider.present([r], s), remove: (r, s) => provider.cleanup([r], s), how: 'via test' }, opts);
    },
  };
  return provider;
}

describe('journaled provider', () => {
  it('records a batch before it is sent and clears it after cleanup', async () => {
    const log: string[] = [];
    const journal = memoryJournal(log);
    const provider = journaled(zoneProvider(log), { journal, command: 'issue' });
    await provider.present([A, B], NEVER);
    expect(log).toEqual(['record base,wild', 'present base,wild']);
    const [entry] = journal.entries.values();
    expect(entry).toMatchObject({ provider: 'rfc2136', identity: 'servers 192.0.2.53:53, key k', command: 'issue', pid: process.pid, records: [A, B] });
    await provider.cleanup([A, B], NEVER);
    expect(log.slice(2)).toEqual(['cleanup base,wild', 'clear base,wild']);
    expect(journal.entries.size).toBe(0);
  });

  it('passes everything else through (identity, checkOrder, removeLeftovers)', async () => {
    const checked: string[] = [];
    const inner = { ...zoneProvider([]), checkOrder: (name: string) => { checked.push(name); } };
    const provider = journaled(inner, { journal: memoryJournal(), command: 'issue' });
    provider.checkOrder?.('galaxy.test', ['galaxy.test']);
    expect(checked).toEqual(['galaxy.test']);
    expect(provider.identity).toBe('servers 192.0.2.53:53, key k');
    expect(provider.removeLeftovers).toBe(inner.removeLeftovers);
  });

  it('sends nothing when the entry cannot be recorded', async () => {
    const log: string[] = [];
    const lost = new AbortController();
    lost.abort();
    const provider = journaled(zoneProvider(log), { journal: memoryJournal(log), command: 'renew', write: { fence: lost.signal } });
    await expect(provider.present([A], NEVER)).rejects.toMatchObject({ code: 'LOCK_LOST' });
    expect(log).toEqual([]);
  });

  it('keeps the entry when cleanup fails, and when only part of the batch was cleaned', async () => {
    const log: string[] = [];
    const journal = memoryJournal(log);
    const failing = journaled(zoneProvider(log, 'rfc2136', true), { journal, command: 'issue' });
    await failing.present([A], NEVER);
    await expect(failing.cleanup([A], NEVER)).rejects.toMatchObject({ code: 'DNS_TIMEOUT' });
    expect(journal.entries.size).toBe(1);

    const other = memoryJournal();
    const partial = journaled(zoneProvider([]), { journal: other, command: 'issue' });
    await partial.present([A, B], NEVER);
    await partial.cleanup([A], NEVER);
    expect(other.entries.size).toBe(1);
    await partial.cleanup([B], NEVER);
    expect(other.entries.size).toBe(0);
  });

  it('journals a check-dns probe value and clears it once removed', async () => {
    const log: string[] = [];
    const journal = memoryJournal(log);
    const provider = journaled(zoneProvider(log), { journal, command: 'check-dns' });
    let during = 0;
    const result = await provider.probe!('_acme-challenge.galaxy.test', { signal: NEVER, whilePresent: async () => { during = journal.entries.size; } });
    expect(result.ok).toBe(true);
    expect(during).toBe(1);
    expect(log.map((l) => l.split(' ')[0])).toEqual(['record', 'present', 'cleanup', 'clear']);
    expect(journal.entries.size).toBe(0);
  });
});

function leftover(id: string, records: TxtRecord[], over: Partial<JournalEntry> = {}): JournalEntry {
  return { id, provider: 'rfc2136', identity: 'servers 192.0.2.53:53, key k', records, command: 'issue', pid: 999_999, hostname: 'this-host', createdAt: '2026-12-03T10:00:00.000Z', ...over };
}

describe('sweepLeftovers', () => {
  const base = { signal: NEVER, hostname: 'this-host', isAlive: () => false };

  it('removes the exact values earlier runs left, through the configured provider, and clears their entries', async () => {
    const log: string[] = [];
    const journal = memoryJournal();
    const provider = zoneProvider(log);
    provider.zone.add('base').add('foreign');
    await journal.record(leftover('e1', [A]));
    const result = await sweepLeftovers({ ...base, journal, provider: async () => provider });
    expect(result.removed.map((e) => e.id)).toEqual(['e1']);
    expect(log).toEqual(['leftovers base']);
    expect([...provider.zone]).toEqual(['foreign']);
    expect(journal.entries.size).toBe(0);
  });

  it('does not load the provider when the journal is empty', async () => {
    let loaded = false;
    await sweepLeftovers({ ...base, journal: memoryJournal(), provider: async () => { loaded = true; return zoneProvider([]); } });
    expect(loaded).toBe(false);
  });

  it('keeps what it cannot remove and says why; leaves a live run\'s entries alone', async () => {
    const journal = memoryJournal();
    await journal.record(leftover('other-provider', [A], { provider: 'route53', identity: 'hosted zone Z1' }));
    await journal.record(leftover('live', [B], { pid: 1234 }));
    await journal.record(leftover('unreachable', [B]));
    const warnings: string[] = [];
    const result = await sweepLeftovers({
      ...base,
      journal,
      isAlive: (pid) => pid === 1234,
      provider: async () => zoneProvider([], 'rfc2136', true),
      reporter: { step: () => undefined, warn: (_n, m) => warnings.push(m) },
    });
    expect(result.removed).toEqual([]);
    expect(result.kept.map((k) => [k.entry.id, k.retry])).toEqual([['other-provider', false], ['live', true], ['unreachable', true]]);
    expect(result.kept[0]?.reason).toContain('dns.provider is now rfc2136, which cannot reach them');
    expect(result.kept[1]?.reason).toContain('process 1234 is still running');
    expect(result.kept[2]?.reason).toContain('removing them failed: no reply');
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toContain('via route53 (hosted zone Z1)');
    expect(journal.entries.size).toBe(3);
  });

  it('says when the provider cannot be set up', async () => {
    const journal = memoryJournal();
    await journal.record(leftover('e1', [A]));
    const result = await sweepLeftovers({ ...base, journal, provider: async () => { throw new GxitError('CONFIG_INVALID', 'no secret'); } });
    expect(result.kept[0]?.reason).toContain('the provider cannot be set up: no secret');
  });

  it('cannotRemove names the provider change only', () => {
    expect(cannotRemove(leftover('e', [A]), { name: 'rfc2136' })).toBeUndefined();
    expect(cannotRemove(leftover('e', [A], { provider: 'exec' }), { name: 'rfc2136' })).toContain('dns.provider: exec');
  });

  it('under the lock: skips when another run holds it (that run sweeps)', async () => {
    const journal = memoryJournal();
    await journal.record(leftover('e1', [A]));
    const held: Locker = { acquire: async () => { throw new GxitError('LOCKED', 'held by pid 1'); } };
    expect(await sweepUnderLock({ ...base, journal, locker: held, lockWaitMs: 0, provider: async () => zoneProvider([]) })).toBeUndefined();
    let released = 0;
    const free: Locker = { acquire: async () => ({ lost: NEVER, release: async () => { released++; } }) };
    const result = await sweepUnderLock({ ...base, journal, locker: free, lockWaitMs: 0, provider: async () => zoneProvider([]) });
    expect(result?.removed).toHaveLength(1);
    expect(released).toBe(1);
  });
});
