/**
 * Every statement of the cluster store goes through runQuery: node-postgres's callback form, with
 * the read timeout kept here instead of pg's `query_timeout`.
 *
 * Why not `client.query(text, values)` (the promise form) or `query_timeout`: both make pg assign
 * `query.callback` after the Query object is built, and on Node 20 (V8 11.3), in code that is not
 * optimised yet, that kept the whole graph of each query (Query, Result, rows, closures, promise)
 * alive through the next scavenges until it was promoted to the old generation, which only a full
 * collection frees. A `watch` that syncs now and then never gets that code optimised, so each sync
 * grew its old generation: about 120 KB promoted per scavenge during a burst of notifications, against
 * about 1 KB with the callback handed to pg when the Query is built (and no object spread on the
 * same path: rows.ts). Measured with --trace-gc-nvp; docs/cluster.md, "Memory of watch".
 */
import type { QueryResult, QueryResultRow } from 'pg';

/** What runQuery needs of a connection; a pg Client is one. */
export interface QueryClient {
  query<R extends QueryResultRow>(text: string, values: unknown[], callback: (error: Error | null, result: QueryResult<R>) => void): void;
  readonly connection: { readonly stream: { destroy(error?: Error): unknown } };
}

/** A statement that has not answered after this long fails, and its connection is dropped. */
export const QUERY_TIMEOUT_MS = 30_000;

export function runQuery<R extends QueryResultRow = QueryResultRow>(
  db: QueryClient,
  text: string,
  values: readonly unknown[] = [],
  timeoutMs: number = QUERY_TIMEOUT_MS,
): Promise<QueryResult<R>> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      const error = new Error(`no answer within ${timeoutMs / 1000} s`);
      reject(error);
      // A connection that does not answer is treated as gone: the statements queued behind this one
      // fail now instead of running late (after their caller gave up), and the owner reconnects.
      db.connection.stream.destroy(error);
    }, timeoutMs);
    db.query<R>(text, [...values], (error: Error | null, result: QueryResult<R>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(result);
    });
  });
}
