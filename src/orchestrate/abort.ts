import { GxitError } from '../errors.js';

/** Resolves with the work, or rejects as soon as the run is interrupted (SIGINT/SIGTERM, lock lost). */
export function unlessAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
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

/** The error of an aborted run: the signal's own reason when it is one of ours (LOCK_LOST), else INTERRUPTED. */
export function abortError(signal: AbortSignal): GxitError {
  return signal.reason instanceof GxitError ? signal.reason : interrupted();
}

export function interrupted(): GxitError {
  return new GxitError('INTERRUPTED', 'interrupted: the order was abandoned and its TXT records removed', {
    fix: 'run the command again',
  });
}

/** A signal that aborts when any of the given ones does (AbortSignal.any, Node >= 20.3). */
export function anySignal(signals: readonly AbortSignal[]): AbortSignal {
  return AbortSignal.any([...signals]);
}
