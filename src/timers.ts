/**
 * Waiting with a timer that an AbortSignal cuts short, in the two ways the code needs it. Both remove
 * their abort listener when the timer fires, so a long-lived signal (a watch's stop signal, a run's
 * interrupt signal) collects no listeners however often they are called.
 */

/** Waits `ms`; rejects with `reason(signal)` (default: the signal's reason) as soon as `signal` aborts, also when it already has. */
export function sleep(ms: number, signal?: AbortSignal, reason: (signal: AbortSignal) => unknown = (s) => s.reason): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(reason(signal));
    const onAbort = (): void => {
      clearTimeout(timer);
      if (signal !== undefined) reject(reason(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Waits `ms`, or less when `signal` aborts; never rejects (for loops that look at the signal themselves). */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
