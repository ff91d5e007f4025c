/**
 * The Cloudflare API v4 over plain fetch (the official package costs far more to load than these
 * five calls need): Bearer token, the {success, errors, result, result_info} envelope, pagination,
 * and retries of rate limits and server errors. The token never appears in an error.
 */
import { GxitError, messageOf } from '../../../errors.js';
import { outboundFetch } from '../../../net/fetch.js';
import { sleep as timerSleep } from '../../../timers.js';


export type FetchFn = (url: string, init: RequestInit) => Promise<Response>;

export interface ApiOptions {
  endpoint: string;
  token: string;
  timeoutMs: number;
  fetch?: FetchFn;
  /** Attempts for 429 and 5xx answers (default 3). */
  attempts?: number;
  /** Wait before attempt n+1 (default 500 ms * n, or Retry-After). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface CloudflareErrorItem {
  code: number;
  message: string;
}

interface Envelope<T> {
  success: boolean;
  errors?: CloudflareErrorItem[];
  result: T;
  result_info?: { page: number; per_page: number; total_pages?: number; count: number; total_count?: number };
}

/** An API answer with success: false, with Cloudflare's error codes. */
export class CloudflareApiError extends Error {
  constructor(
    readonly status: number,
    readonly errors: CloudflareErrorItem[],
    readonly request: string,
  ) {
    super(`${request}: HTTP ${status} ${errors.map((e) => `${e.code} ${e.message}`).join('; ') || '(no error details)'}`);
  }
  has(code: number): boolean {
    return this.errors.some((e) => e.code === code);
  }
}

/** Token problems: a missing/malformed header, an unknown token, a token without the permission. */
export function isAuthFailure(error: CloudflareApiError): boolean {
  return error.status === 401 || error.status === 403 || [6003, 6111, 9106, 9109, 10000].some((c) => error.has(c));
}

export function createApi(opts: ApiOptions) {
  const base = opts.endpoint.replace(/\/+$/, '');
  const attempts = opts.attempts ?? 3;
  const sleep = opts.sleep ?? timerSleep;

  async function call<T>(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<Envelope<T>> {
    const url = `${base}${path}`;
    const request = `${method} ${path.split('?')[0]}`;
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await (opts.fetch ?? outboundFetch())(url, {
          method,
          headers: { authorization: `Bearer ${opts.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.any([AbortSignal.timeout(opts.timeoutMs), ...(signal ? [signal] : [])]),
        });
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        const timedOut = error instanceof Error && error.name === 'TimeoutError';
        const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
        throw new GxitError('DNS_UNREACHABLE', `the Cloudflare API at ${base} ${timedOut ? `did not answer within ${opts.timeoutMs / 1000} s` : 'could not be reached'} (${request}): ${messageOf(cause)}`, {
          subject: base,
          fix: 'check the network path to the Cloudflare API (and dns.cloudflare.endpoint if set)',
          cause: error,
        });
      }
      const text = await response.text();
      let doc: Envelope<T> | undefined;
      try {
        doc = JSON.parse(text) as Envelope<T>;
      } catch {
        doc = undefined;
      }
      if (response.ok && doc?.success === true) return doc;
      const retryable = response.status === 429 || response.status >= 500;
      if (retryable && attempt < attempts) {
        const after = Number(response.headers.get('retry-after'));
        await sleep(Number.isFinite(after) && after > 0 ? Math.min(after, 30) * 1000 : 500 * attempt, signal);
        continue;
      }
      if (doc === undefined) {
        throw new GxitError('DNS_BAD_RESPONSE', `the Cloudflare API at ${base} answered ${request} with HTTP ${response.status} and no JSON`, {
          subject: base,
          fix: 'check dns.cloudflare.endpoint (it must be the API base, https://api.cloudflare.com/client/v4)',
        });
      }
      throw new CloudflareApiError(response.status, Array.isArray(doc.errors) ? doc.errors : [], request);
    }
  }

  /** Every page of a list (per_page 100, following result_info.total_pages). */
  async function list<T>(path: string, query: Record<string, string>, signal?: AbortSignal): Promise<T[]> {
    const out: T[] = [];
    for (let page = 1; ; page++) {
      const q = new URLSearchParams({ ...query, page: String(page), per_page: '100' });
      const doc = await call<T[]>('GET', `${path}?${q}`, undefined, signal);
      out.push(...doc.result);
      const pages = doc.result_info?.total_pages ?? 1;
      if (page >= pages || doc.result.length === 0) return out;
    }
  }

  return { call, list, base };
}

export type CloudflareApi = ReturnType<typeof createApi>;
