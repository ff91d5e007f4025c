/**
 * The DNS change journal in the flow (the store keeps it: Store.journal). Two jobs:
 *
 * - `journaled` wraps the run's provider: every batch of TXT values is recorded (durably) BEFORE it
 *   is sent, and its entry is cleared once cleanup removed it. A run killed at any moment in between
 *   (SIGKILL, OOM, reboot) leaves the entry behind, never the values alone. check-dns probe values go
 *   through the same journal (ProbeOptions.beforeAdd/afterRemove).
 * - `sweepLeftovers` is what issue, renew and check-dns do first, under the state lock: remove the
 *   exact values earlier runs left behind, through the provider that wrote them (same name in
 *   dns.provider), and keep the entries it cannot remove, saying why.
 *
 * Generic over providers: the journal only knows a provider's name and identity (a line without
 * secrets); the provider is rebuilt from the current configuration.
 */
import { randomBytes } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import type { DnsProvider, ProbeOptions, TxtRecord } from '../dns/provider.js';
import { GxitError, messageOf } from '../errors.js';
import { lockLineages, type DnsJournal, type JournalEntry, type Locker, type WriteOptions } from '../store/contract.js';
import type { Reporter } from './reporter.js';

export interface JournalContext {
  journal: DnsJournal;
  /** issue, renew, check-dns. */
  command: string;
  /** The lock's fence for recording (a run that lost its lock writes no new records). */
  write?: WriteOptions;
  now?: () => Date;
  pid?: number;
  hostname?: string;
}

const keyOf = (r: TxtRecord): string => `${r.fqdn.replace(/\.$/, '').toLowerCase()} ${r.value}`;

function newEntry(provider: DnsProvider, records: TxtRecord[], ctx: JournalContext): JournalEntry {
  return {
    id: `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`,
    provider: provider.name,
    identity: provider.identity ?? provider.name,
    records: records.map((r) => ({ fqdn: r.fqdn, value: r.value, ...(r.domain === undefined ? {} : { domain: r.domain }) })),
    command: ctx.command,
    pid: ctx.pid ?? process.pid,
    hostname: ctx.hostname ?? osHostname(),
    createdAt: (ctx.now?.() ?? new Date()).toISOString(),
  };
}

/** The provider, with every value it is asked to write journaled first and cleared after its cleanup. */
export function journaled(provider: DnsProvider, ctx: JournalContext): DnsProvider {
  // Entries of this run that still hold values not yet cleaned up.
  const open = new Map<string, { entry: JournalEntry; pending: Set<string> }>();

  async function settle(removed: readonly TxtRecord[]): Promise<void> {
    const gone = new Set(removed.map(keyOf));
    for (const [id, item] of open) {
      for (const key of [...item.pending]) if (gone.has(key)) item.pending.delete(key);
      if (item.pending.size > 0) continue;
      await ctx.journal.clear(id);
      open.delete(id);
    }
  }

  const wrapped: DnsProvider = {
    // Everything else the provider offers (identity, checkOrder, removeLeftovers) passes through.
    ...provider,
    async present(records, signal) {
      signal.throwIfAborted();
      if (records.length > 0) {
        const entry = newEntry(provider, records, ctx);
        await ctx.journal.record(entry, ctx.write);
        open.set(entry.id, { entry, pending: new Set(records.map(keyOf)) });
      }
      await provider.present(records, signal);
    },
    async cleanup(records, signal) {
      await provider.cleanup(records, signal);
      await settle(records);
    },
  };
  const probe = provider.probe?.bind(provider);
  if (probe !== undefined) {
    wrapped.probe = (fqdn: string, opts: ProbeOptions) =>
      probe(fqdn, {
        ...opts,
        beforeAdd: async (record) => {
          await opts.beforeAdd?.(record);
          const entry = newEntry(provider, [record], ctx);
          await ctx.journal.record(entry, ctx.write);
          open.set(entry.id, { entry, pending: new Set([keyOf(record)]) });
        },
        afterRemove: async (record) => {
          await settle([record]);
          await opts.afterRemove?.(record);
        },
      });
  }
  return wrapped;
}

/** A journal entry the sweep did not remove, and why (one sentence). */
export interface Leftover {
  entry: JournalEntry;
  reason: string;
  /** True when a later run may still remove it with the current configuration. */
  retry: boolean;
}

export interface SweepResult {
  removed: JournalEntry[];
  kept: Leftover[];
}

export interface SweepDeps {
  journal: DnsJournal;
  /** The configured provider; loaded only when there is something to remove. */
  provider: () => Promise<DnsProvider>;
  signal: AbortSignal;
  reporter?: Reporter;
  /** Bound of each entry's removal; default 30 s. */
  timeoutMs?: number;
  /** Whether a process of this host is alive (its entries are its own business). */
  isAlive?: (pid: number) => boolean;
  pid?: number;
  hostname?: string;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return typeof error === 'object' && error !== null && 'code' in error && error.code === 'EPERM';
  }
}

/** Where an entry's values are, for messages: "TXT a, b at x, y". */
export function describeEntry(entry: JournalEntry): string {
  const names = [...new Set(entry.records.map((r) => r.fqdn))].join(', ');
  return `${entry.records.length} TXT value(s) at ${names} written by ${entry.command} (pid ${entry.pid}) at ${entry.createdAt} via ${entry.provider} (${entry.identity})`;
}

/** Pure: can the configured provider remove this entry? A reason when not. */
export function cannotRemove(entry: JournalEntry, provider: { name: string }): string | undefined {
  if (entry.provider === provider.name) return undefined;
  return `dns.provider is now ${provider.name}, which cannot reach them: remove them by hand, or run once with dns.provider: ${entry.provider} again`;
}

/** Whether an entry belongs to a run that is still going (on this host, not us). */
function ownedByLiveRun(entry: JournalEntry, deps: SweepDeps): boolean {
  const pid = deps.pid ?? process.pid;
  const host = deps.hostname ?? osHostname();
  return entry.hostname === host && entry.pid !== pid && (deps.isAlive ?? processAlive)(entry.pid);
}

/** Removes what earlier runs left in the journal. The caller holds the state lock. */
export async function sweepLeftovers(deps: SweepDeps): Promise<SweepResult> {
  const entries = await deps.journal.list();
  const result: SweepResult = { removed: [], kept: [] };
  if (entries.length === 0) return result;
  let provider: DnsProvider | undefined;
  let loadError: unknown;
  for (const entry of entries) {
    deps.signal.throwIfAborted();
    if (ownedByLiveRun(entry, deps)) {
      result.kept.push({ entry, reason: `process ${entry.pid} is still running and removes them itself`, retry: true });
      continue;
    }
    if (provider === undefined && loadError === undefined) {
      try {
        provider = await deps.provider();
      } catch (error) {
        loadError = error;
      }
    }
    if (provider === undefined) {
      result.kept.push({ entry, reason: `the provider cannot be set up: ${messageOf(loadError)}`, retry: true });
      continue;
    }
    const refused = cannotRemove(entry, provider);
    if (refused !== undefined) {
      result.kept.push({ entry, reason: refused, retry: false });
      continue;
    }
    deps.reporter?.step('*', 'cleanup', `removing ${describeEntry(entry)}, left by an earlier run`);
    const remove = provider.removeLeftovers ?? provider.cleanup;
    try {
      await remove.call(provider, entry.records, AbortSignal.any([deps.signal, AbortSignal.timeout(deps.timeoutMs ?? 30_000)]));
      await deps.journal.clear(entry.id);
      result.removed.push(entry);
    } catch (error) {
      deps.signal.throwIfAborted();
      result.kept.push({ entry, reason: `removing them failed: ${messageOf(error)}`, retry: true });
    }
  }
  for (const k of result.kept) deps.reporter?.warn('*', `left over from an earlier run: ${describeEntry(k.entry)}: ${k.reason}`);
  return result;
}

export interface LockedSweepDeps extends SweepDeps {
  locker: Locker;
  /** How long to wait for a running run's lock; when it holds it, that run sweeps instead. */
  lockWaitMs: number;
}

/** Takes the state lock for the sweep alone (renew with nothing due, check-dns); skips when it is held. */
export async function sweepUnderLock(deps: LockedSweepDeps): Promise<SweepResult | undefined> {
  if ((await deps.journal.list()).length === 0) return { removed: [], kept: [] };
  let lock;
  try {
    // The journal is this node's: on a cluster no lineage lock is needed, only none of GLOBAL_SCOPE.
    lock = await lockLineages(deps.locker, [], { signal: deps.signal, waitMs: deps.lockWaitMs });
  } catch (error) {
    if (error instanceof GxitError && error.code === 'LOCKED') return undefined;
    throw error;
  }
  try {
    return await sweepLeftovers({ ...deps, signal: AbortSignal.any([deps.signal, lock.lost]) });
  } finally {
    await lock.release();
  }
}
