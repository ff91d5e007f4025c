import { abortable } from '../dns/abort.js';
import { GxitError } from '../errors.js';

/** Resolves with the work, or rejects as soon as the run is interrupted (SIGINT/SIGTERM, lock lost). */
export function unlessAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  // dns/abort's abortable rejects with the signal's reason; the run reports it as one of our errors.
  return abortable(work, signal).catch((error: unknown) => {
    throw signal.aborted && error === signal.reason ? abortError(signal) : error;
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
