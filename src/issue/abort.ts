import { GxitError } from '../errors.js';

/** Resolves with the work, or rejects as soon as the run is interrupted (SIGINT/SIGTERM). */
export function unlessAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(interrupted());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(interrupted());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => { signal.removeEventListener('abort', onAbort); resolve(value); },
      (error: unknown) => { signal.removeEventListener('abort', onAbort); reject(error); },
    );
  });
}

export function interrupted(): GxitError {
  return new GxitError('INTERRUPTED', 'interrupted: the order was abandoned and its TXT records removed', {
    fix: 'run the command again',
  });
}
