import type { QueryResult, QueryResultRow } from 'pg';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { QUERY_TIMEOUT_MS, runQuery, type QueryClient } from '../../../../src/store/cluster/query.js';

/** A connection whose statements the test answers; it records the arguments pg would get. */
function fakeClient() {
  const calls: { text: string; values: unknown[]; answer: (error: Error | null) => QueryResult }[] = [];
  const destroyed: (Error | undefined)[] = [];
  const client: QueryClient = {
    query<R extends QueryResultRow>(text: string, values: unknown[], callback: (error: Error | null, result: QueryResult<R>) => void): void {
      // The callback form only: the promise form keeps every query alive into the old generation (query.ts).
      expect(typeof callback).toBe('function');
      calls.push({
        text,
        values,
        answer: (error) => {
          const result: QueryResult<R> = { command: 'SELECT', rowCount: 0, oid: 0, fields: [], rows: [] };
          callback(error, result);
          return result;
        },
      });
    },
    connection: { stream: { destroy: (error?: Error) => destroyed.push(error) } },
  };
  return { client, calls, destroyed };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('runQuery (every statement of the cluster store)', () => {
  test("hands pg the text, the values and a callback, and resolves with pg's result", async () => {
    const { client, calls } = fakeClient();
    const pending = runQuery(client, 'SELECT $1::int AS n', [7]);
    expect(calls.map((c) => [c.text, c.values])).toEqual([['SELECT $1::int AS n', [7]]]);
    const answered = calls[0]?.answer(null);
    expect(await pending).toBe(answered);
  });

  test("rejects with pg's error", async () => {
    const { client, calls } = fakeClient();
    const pending = runQuery(client, 'SELECT nope');
    calls[0]?.answer(new Error('column "nope" does not exist'));
    await expect(pending).rejects.toThrow('column "nope" does not exist');
  });

  test('no answer within the timeout: rejects, drops the connection, and ignores a late answer', async () => {
    vi.useFakeTimers();
    const { client, calls, destroyed } = fakeClient();
    const outcome = runQuery(client, 'SELECT pg_sleep(3600)').then(
      () => 'resolved',
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    vi.advanceTimersByTime(QUERY_TIMEOUT_MS - 1);
    expect(destroyed).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(await outcome).toBe('no answer within 30 s');
    expect(destroyed).toEqual([new Error('no answer within 30 s')]);
    calls[0]?.answer(null);
    expect(await outcome).toBe('no answer within 30 s');
  });

  test('an answer in time clears its timer: nothing is left behind per statement', async () => {
    vi.useFakeTimers();
    const { client, calls, destroyed } = fakeClient();
    const pending = runQuery(client, 'SELECT 1');
    expect(vi.getTimerCount()).toBe(1);
    calls[0]?.answer(null);
    await pending;
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(QUERY_TIMEOUT_MS * 2);
    expect(destroyed).toEqual([]);
  });
});
