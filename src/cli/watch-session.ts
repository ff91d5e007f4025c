/**
 * One connection's life in `watch`: LISTEN, sync what the notifications name (through the
 * coalescing SyncQueue), reconcile every configured lineage at the start and every `reconcileMs`,
 * until `stop` aborts or the connection breaks. Everything it attaches (listeners on the connections
 * and on `stop`, the reconcile timer) is detached again before it returns, so a watch that
 * reconnects for months, or hears a million notifications, holds no more than it did at the start.
 * The connections are opened and closed by the caller.
 */
import type { Notification } from 'pg';
import { SyncQueue } from './sync-queue.js';

/** The LISTEN connection (a pg Client) as far as the session uses it. */
export interface ListenConnection {
  on(event: 'notification', listener: (message: Notification) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  off(event: 'notification', listener: (message: Notification) => void): unknown;
  off(event: 'error', listener: (error: Error) => void): unknown;
  off(event: 'end', listener: () => void): unknown;
}

/** Another connection whose failure ends the session (the store's shared one). */
export interface WatchedConnection {
  on(event: 'error', listener: (error: Error) => void): unknown;
  off(event: 'error', listener: (error: Error) => void): unknown;
}

export interface SessionDeps {
  listener: ListenConnection;
  /** Sends LISTEN on `listener`. */
  listen(): Promise<unknown>;
  watched: readonly WatchedConnection[];
  configured: ReadonlySet<string>;
  /** The lineage and version a notification's payload names, if it is one of ours. */
  notified(payload: string | undefined): { name: string; version?: number } | undefined;
  /** The version this node serves (live/), for skipping a notified version it already has. */
  localVersion(name: string): Promise<number | undefined>;
  /** Follow one lineage; an error returned ends the session (the caller reconnects). */
  sync(name: string): Promise<Error | undefined>;
  reconcileMs: number;
  stop: AbortSignal;
  /** LISTEN is in place. */
  onListening?(): void;
}

/** Watch on one connection until `stop` (resolves undefined) or a failure (resolves with it). */
export async function watchSession(deps: SessionDeps): Promise<unknown> {
  const { listener, watched, stop } = deps;
  const broken = new AbortController();
  const onFailure = (error: Error): void => broken.abort(error);
  const onEnd = (): void => broken.abort(new Error('the connection ended'));

  const queue = new SyncQueue(
    async (name, notifiedVersion) => {
      if (notifiedVersion !== undefined) {
        // A version this node already has (its own commit, a repeated notification) needs no database read.
        const local = await deps.localVersion(name).catch(() => undefined);
        if (local !== undefined && local >= notifiedVersion) return;
      }
      const failure = await deps.sync(name);
      if (failure !== undefined) broken.abort(failure);
    },
    stop,
    (name, error) => broken.abort(error instanceof Error ? error : new Error(`${name}: ${String(error)}`)),
  );
  // Synchronous and without I/O: a burst of notifications becomes one pending entry per lineage.
  const onNotification = (message: Notification): void => {
    const notified = deps.notified(message.payload);
    if (notified !== undefined) queue.notify(notified.name, notified.version);
  };

  listener.on('error', onFailure);
  listener.on('end', onEnd);
  listener.on('notification', onNotification);
  for (const connection of watched) connection.on('error', onFailure);
  let timer: NodeJS.Timeout | undefined;
  try {
    await deps.listen();
    deps.onListening?.();
    queue.add(deps.configured);
    timer = setInterval(() => queue.add(deps.configured), deps.reconcileMs);
    await untilEither(stop, broken.signal);
    return broken.signal.aborted ? broken.signal.reason : undefined;
  } finally {
    clearInterval(timer);
    await queue.idle();
    listener.off('error', onFailure);
    listener.off('end', onEnd);
    listener.off('notification', onNotification);
    for (const connection of watched) connection.off('error', onFailure);
  }
}

/** Resolves when either signal aborts; the listeners it added are gone by then. */
function untilEither(a: AbortSignal, b: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (a.aborted || b.aborted) return resolve();
    const done = (): void => {
      a.removeEventListener('abort', done);
      b.removeEventListener('abort', done);
      resolve();
    };
    a.addEventListener('abort', done, { once: true });
    b.addEventListener('abort', done, { once: true });
  });
}
