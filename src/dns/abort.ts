/**
 * Cancellation helpers for the DNS core and the providers. An aborted signal rejects with its reason
 * (what the caller passed to abort(), by default a DOMException named AbortError), so the caller can tell
 * an interrupt from a DNS failure by looking at its own signal.
 */
import { setMaxListeners } from 'node:events';

/** Rejects at once when `signal` fires; otherwise settles like `promise` (which keeps running unobserved). */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      promise.catch(() => undefined);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** A timer sleep that ends (rejecting with the signal's reason) as soon as `signal` fires. */
export { sleep } from '../timers.js';

/**
 * A signal of our own that follows `parent`, for fanning out: many concurrent requests may listen to it
 * (no MaxListenersExceededWarning on the caller's signal, which gets one listener). Call release() when
 * the work is done so the caller's signal does not keep the listener.
 */
export function linkedSignal(parent: AbortSignal | undefined): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  if (parent === undefined) return { signal: controller.signal, release: () => undefined };
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { signal: controller.signal, release: () => undefined };
  }
  const onAbort = (): void => controller.abort(parent.reason);
  parent.addEventListener('abort', onAbort, { once: true });
  return { signal: controller.signal, release: () => parent.removeEventListener('abort', onAbort) };
}

/** Runs `work` with a linked signal (see linkedSignal), released when it settles. */
export async function withLinkedSignal<T>(parent: AbortSignal | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const linked = linkedSignal(parent);
  try {
    return await work(linked.signal);
  } finally {
    linked.release();
  }
}
