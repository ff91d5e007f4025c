/**
 * The provider's one retry layer. The SDK's own retries are switched off (maxAttempts: 1) so that
 * exactly one layer decides, for three reasons:
 * - a change batch that failed because the zone moved on (PriorRequestNotComplete, a DELETE of a set
 *   that changed) must be rebuilt from a fresh read; the SDK would resend the stale batch;
 * - the SDK retries Throttling only 3 times, too few when cron renewals of a whole account coincide;
 * - two nested layers would multiply attempts and waits (3 x 8) in ways nobody can predict.
 * Each failure class has its own budget; waits grow exponentially with "equal jitter" (half fixed,
 * half random) so that processes throttled together do not retry together.
 */
import { abortable } from '../../abort.js';
import type { FailureClass } from './errors.js';

export interface RetryBudget {
  /** Attempts in all, the first one included. */
  attempts: number;
  /** Wait before the first retry, before jitter. */
  baseMs: number;
  /** Longest wait. */
  capMs: number;
}

export const RETRY_BUDGETS: Readonly<Record<Exclude<FailureClass, 'fatal'>, RetryBudget>> = {
  // Route53 allows 5 requests per second per account: 8 attempts wait up to ~15 s in all.
  throttled: { attempts: 8, baseMs: 200, capMs: 5000 },
  busy: { attempts: 8, baseMs: 200, capMs: 5000 },
  stale: { attempts: 5, baseMs: 20, capMs: 500 },
  transient: { attempts: 4, baseMs: 200, capMs: 2000 },
  // The SDK corrects its clock offset from the rejected response: one more try suffices.
  clock: { attempts: 2, baseMs: 0, capMs: 0 },
};

/** Wait before retry number `retry` (1 = first retry): half of the exponential step fixed, half random. */
export function backoffMs(retry: number, budget: RetryBudget, random: () => number): number {
  const step = Math.min(budget.capMs, budget.baseMs * 2 ** Math.max(0, retry - 1));
  return Math.round(step / 2 + (random() * step) / 2);
}

export interface RetryDeps {
  /** Waits; a real one stops its timer when `signal` fires. */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random: () => number;
  now: () => number;
  /** Ends the attempts and the waits at once; withRetries then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Thrown when a retryable failure used up its budget; `error` is the last failure. */
export class RetriesExhausted extends Error {
  constructor(
    readonly kind: FailureClass,
    readonly attempts: number,
    readonly seconds: number,
    readonly error: unknown,
  ) {
    super(`gave up after ${attempts} attempts (${kind})`, { cause: error });
    this.name = 'RetriesExhausted';
  }
}

/**
 * Runs `attempt` until it succeeds, a failure is fatal (rethrown as it is), or a class's budget is
 * used up (RetriesExhausted). `onRetry` sees each failure that is retried.
 */
export async function withRetries<T>(
  attempt: () => Promise<T>,
  classify: (error: unknown) => FailureClass,
  deps: RetryDeps,
  onRetry: (kind: FailureClass, error: unknown, waitMs: number) => void = () => {},
  budgets: Readonly<Record<Exclude<FailureClass, 'fatal'>, RetryBudget>> = RETRY_BUDGETS,
): Promise<T> {
  const started = deps.now();
  const used = new Map<FailureClass, number>();
  for (;;) {
    deps.signal?.throwIfAborted();
    try {
      return await abortable(attempt(), deps.signal);
    } catch (error) {
      // An interrupt is not a failure to retry or to classify.
      deps.signal?.throwIfAborted();
      const kind = classify(error);
      if (kind === 'fatal') throw error;
      const budget = budgets[kind];
      const attempts = (used.get(kind) ?? 0) + 1;
      used.set(kind, attempts);
      if (attempts >= budget.attempts) throw new RetriesExhausted(kind, attempts, (deps.now() - started) / 1000, error);
      const wait = backoffMs(attempts, budget, deps.random);
      onRetry(kind, error, wait);
      await abortable(deps.sleep(wait, deps.signal), deps.signal);
    }
  }
}

/** Intervals between GetChange polls: short at first (a lab or a quick change), growing to `capMs`. */
export function pollDelays(firstMs: number, capMs: number, factor = 1.5): () => number {
  let next = firstMs;
  return () => {
    const current = next;
    next = Math.min(capMs, Math.round(next * factor));
    return current;
  };
}
