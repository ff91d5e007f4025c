import { describe, expect, it } from 'vitest';
import type { FailureClass } from '../../../../../src/dns/providers/route53/errors.js';
import { RETRY_BUDGETS, RetriesExhausted, backoffMs, pollDelays, withRetries } from '../../../../../src/dns/providers/route53/retry.js';

/** A clock that only moves when slept on. */
function fakeClock(random = 0.5) {
  let t = 0;
  const waits: number[] = [];
  return {
    waits,
    deps: {
      now: () => t,
      sleep: async (ms: number) => {
        waits.push(ms);
        t += ms;
      },
      random: () => random,
    },
  };
}

describe('backoffMs', () => {
  it.each([
    [1, 0, 100],
    [1, 1, 200],
    [2, 0.5, 300],
    [3, 0, 400],
    [6, 1, 5000],
    [20, 0, 2500],
  ])('retry %i with random %f waits %i ms (throttling budget)', (retry, random, expected) => {
    expect(backoffMs(retry, RETRY_BUDGETS.throttled, () => random)).toBe(expected);
  });
});

describe('withRetries', () => {
  const failWith = (kinds: FailureClass[]) => {
    let calls = 0;
    return {
      calls: () => calls,
      attempt: async () => {
        const kind = kinds[calls++];
        if (kind !== undefined) throw Object.assign(new Error(kind), { kind });
        return 'done';
      },
    };
  };
  const classifyKind = (e: unknown): FailureClass => (e as { kind: FailureClass }).kind;

  it('retries throttling with growing waits until it succeeds', async () => {
    const clock = fakeClock(0);
    const run = failWith(['throttled', 'throttled', 'throttled']);
    await expect(withRetries(run.attempt, classifyKind, clock.deps)).resolves.toBe('done');
    expect(run.calls()).toBe(4);
    expect(clock.waits).toEqual([100, 200, 400]);
  });

  it('gives up after the budget of a class, with the last error and the time spent', async () => {
    const clock = fakeClock(1);
    const run = failWith(Array<FailureClass>(20).fill('throttled'));
    const error = await withRetries(run.attempt, classifyKind, clock.deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetriesExhausted);
    expect((error as RetriesExhausted).attempts).toBe(RETRY_BUDGETS.throttled.attempts);
    expect((error as RetriesExhausted).seconds).toBeCloseTo((200 + 400 + 800 + 1600 + 3200 + 5000 + 5000) / 1000);
    expect(run.calls()).toBe(RETRY_BUDGETS.throttled.attempts);
  });

  it('counts each class against its own budget', async () => {
    const clock = fakeClock();
    const run = failWith(['stale', 'throttled', 'stale', 'busy', 'stale', 'stale']);
    await expect(withRetries(run.attempt, classifyKind, clock.deps)).resolves.toBe('done');
    expect(run.calls()).toBe(7);
  });

  it('rethrows a fatal failure at once', async () => {
    const clock = fakeClock();
    const run = failWith(['fatal']);
    await expect(withRetries(run.attempt, classifyKind, clock.deps)).rejects.toThrow('fatal');
    expect(clock.waits).toEqual([]);
  });

  it('tries a clock failure once more without waiting', async () => {
    const clock = fakeClock();
    const run = failWith(['clock', 'clock']);
    await expect(withRetries(run.attempt, classifyKind, clock.deps)).rejects.toBeInstanceOf(RetriesExhausted);
    expect(run.calls()).toBe(2);
    expect(clock.waits).toEqual([0]);
  });
});

describe('pollDelays', () => {
  it('starts short and grows by half up to the cap', () => {
    const next = pollDelays(50, 2000);
    expect(Array.from({ length: 12 }, next)).toEqual([50, 75, 113, 170, 255, 383, 575, 863, 1295, 1943, 2000, 2000]);
  });
});
