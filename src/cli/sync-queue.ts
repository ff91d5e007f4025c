/**
 * The work queue of `watch`: one sync at a time; names added while one runs are coalesced (a lineage
 * notified ten times during a sync is synced once more, not ten times). Once `stop` aborts, nothing
 * new starts and `idle()` resolves when the sync in progress is done.
 */
export class SyncQueue {
  private readonly pending = new Set<string>();
  private running: Promise<void> | undefined;

  constructor(
    private readonly work: (name: string) => Promise<void>,
    private readonly stop: AbortSignal,
    private readonly onError: (name: string, error: unknown) => void,
  ) {}

  add(names: Iterable<string>): void {
    if (this.stop.aborted) return;
    for (const name of names) this.pending.add(name);
    this.running ??= this.run();
  }

  /** Resolves when no sync runs. */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async run(): Promise<void> {
    try {
      // Names added during an await are picked up by this loop; none is left behind when it ends.
      while (this.pending.size > 0 && !this.stop.aborted) {
        const [name] = this.pending;
        if (name === undefined) break;
        this.pending.delete(name);
        try {
          await this.work(name);
        } catch (error) {
          this.onError(name, error);
        }
      }
    } finally {
      this.running = undefined;
    }
  }
}
