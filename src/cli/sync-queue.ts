/**
 * The work queue of `watch`: one sync at a time; names added while one runs are coalesced (a lineage
 * notified ten times during a sync is synced once more, not ten times). Once `stop` aborts, nothing
 * new starts and `idle()` resolves when the sync in progress is done.
 *
 * An entry may carry the version a notification named: the sync can then skip the database when the
 * node already has it. Coalescing keeps the newest such version; an entry without one (a reconcile,
 * a notification without a version) always reads the database. Adding is synchronous and allocates
 * next to nothing, so a burst of notifications costs one entry per lineage, not one task each.
 */
export class SyncQueue {
  /** Name -> the newest notified version, or undefined: read the database whatever the node has. */
  private readonly pending = new Map<string, number | undefined>();
  private running: Promise<void> | undefined;

  constructor(
    private readonly work: (name: string, notifiedVersion: number | undefined) => Promise<void>,
    private readonly stop: AbortSignal,
    private readonly onError: (name: string, error: unknown) => void,
  ) {}

  /** Reconcile: each name is synced against the database. */
  add(names: Iterable<string>): void {
    if (this.stop.aborted) return;
    for (const name of names) this.pending.set(name, undefined);
    this.running ??= this.run();
  }

  /** A notification: `version` (when the payload named one) lets the sync skip what the node already has. */
  notify(name: string, version: number | undefined): void {
    if (this.stop.aborted) return;
    if (this.pending.has(name)) {
      const queued = this.pending.get(name);
      // undefined wins: a full read is queued already (or this notification asks for one).
      if (queued !== undefined) this.pending.set(name, version === undefined ? undefined : Math.max(queued, version));
    } else {
      this.pending.set(name, version);
    }
    this.running ??= this.run();
  }

  /** Names waiting for their sync (for tests and diagnostics: it never exceeds the configured lineages). */
  get size(): number {
    return this.pending.size;
  }

  /** Resolves when no sync runs. */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async run(): Promise<void> {
    try {
      // Names added during an await are picked up by this loop; none is left behind when it ends.
      while (this.pending.size > 0 && !this.stop.aborted) {
        const [entry] = this.pending;
        if (entry === undefined) break;
        const [name, version] = entry;
        this.pending.delete(name);
        try {
          await this.work(name, version);
        } catch (error) {
          this.onError(name, error);
        }
      }
    } finally {
      this.running = undefined;
    }
  }
}
