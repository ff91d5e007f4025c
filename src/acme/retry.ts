/**
 * The retry policy of ACME requests (docs/acme-retries.md), as pure decisions apart from the wiring.
 *
 * acme-client's own retries are switched off (http.ts sets retryMaxAttempts 0, here maxBadNonceRetries
 * 0): they reuse one nonce, retry POSTs that must not be repeated, wait for any Retry-After, and loop
 * without a bound. Instead, acme-client's internal HTTP client is wrapped:
 * - `signedRequest` (every POST): badNonce retried with the nonce of the error response, 503/429 after
 *   Retry-After, resets/timeouts/5xx only for requests that are safe to repeat;
 * - `request` (every HTTP request): the per-request timeout by kind, the run's AbortSignal checked
 *   before sending, the request budget of the step, GET/HEAD retried like idempotent POSTs;
 * - `waitForValidStatus`: polls that honour Retry-After and the signal;
 * - `finalizeOrder`: after a timeout or reset, the order is polled and finalize sent again only if the
 *   order is still `ready` (the CA may have taken the first one).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { AxiosAdapter, AxiosResponse, InternalAxiosRequestConfig } from 'axios';
import { GxitError, type ErrorCode } from '../errors.js';
import { sleep as timerSleep } from '../timers.js';
import { currentSlot } from './capture.js';
import { classifyTransport, retryAfterSeconds } from './errors.js';

// ---------------------------------------------------------------------------------------------
// Pure decisions

/** What a request does, as far as repeating it is concerned. */
export type RequestKind =
  | 'directory'
  | 'newNonce'
  | 'postAsGet'
  | 'newAccount'
  | 'newOrder'
  | 'challenge'
  | 'deactivate'
  | 'finalize'
  | 'other';

/**
 * Safe to send again after a reset, a timeout or a 5xx, when the first one may have been processed:
 * reads (GET, HEAD, POST-as-GET); newAccount (RFC 8555 §7.3.1: the same key gets the existing account);
 * newOrder (a second order at worst stays pending and expires, no certificate is issued twice);
 * answering a challenge and deactivating an authorization or the account (repeating asks for the same state).
 * finalize is not: a second one for a processing order is refused (orderNotReady), so it is resolved
 * by polling the order (`finalizeOrder` below). Account updates, key changes, revocation: not retried.
 */
export function isIdempotent(kind: RequestKind): boolean {
  return kind !== 'finalize' && kind !== 'other';
}

export interface RetryPolicy {
  /** The longest Retry-After waited for (acme_retry_max_wait); a longer one fails with the time to retry. */
  maxWaitMs: number;
  /** RFC 8555 §6.5 retries of one request. */
  badNonceRetries: number;
  /** Retries of one request after a reset, timeout, 5xx or 503/429. */
  transientRetries: number;
  /** Delay of the first transient retry without Retry-After; doubled each time. */
  backoffMs: number;
  /** Per-request timeout of reads (directory, newNonce, POST-as-GET). */
  readTimeoutMs: number;
  /** Per-request timeout of the others. A finalize slower than this is not lost: the order is polled. */
  writeTimeoutMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxWaitMs: 60_000,
  badNonceRetries: 10,
  transientRetries: 4,
  backoffMs: 500,
  readTimeoutMs: 10_000,
  writeTimeoutMs: 20_000,
};

/** What came back for one attempt. */
export type Outcome =
  | { type: 'response'; status: number; problemType?: string; retryAfterSeconds?: number }
  | { type: 'transport'; code: string; aborted?: boolean };

export interface Attempts {
  badNonce: number;
  transient: number;
}

export type Decision =
  | { action: 'accept' }
  | { action: 'retry'; delayMs: number; reason: 'badNonce' | 'retry-after' | 'transient' }
  /** Retry-After beyond the policy: fail, saying when to try again. */
  | { action: 'retry-later'; retryAt: Date; seconds: number }
  | { action: 'fail' };

const BAD_NONCE = 'urn:ietf:params:acme:error:badNonce';

/** Transport failures worth another attempt (the request may never have arrived, or its answer was lost). */
function transientTransport(code: string): boolean {
  const kind = classifyTransport({ code, message: '', aborted: false });
  // ECONNREFUSED is permanent here: nothing listens at the CA's address, and waiting seconds for it
  // only delays the one line that says so. Unknown host names and TLS trust are configuration.
  return kind === 'timeout' || kind === 'reset' || code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_SOCKET_CONNECTION_TIMEOUT';
}

/** The next step after one attempt of a request of `kind`. */
export function decide(kind: RequestKind, outcome: Outcome, attempts: Attempts, policy: RetryPolicy, nowMs: number): Decision {
  if (outcome.type === 'transport') {
    if (outcome.aborted === true || !transientTransport(outcome.code)) return { action: 'fail' };
    if (!isIdempotent(kind) || attempts.transient >= policy.transientRetries) return { action: 'fail' };
    return { action: 'retry', delayMs: backoff(policy, attempts.transient), reason: 'transient' };
  }
  const { status } = outcome;
  if (status < 400) return { action: 'accept' };
  if (status === 400 && outcome.problemType === BAD_NONCE) {
    // The CA refused the nonce, not the request: safe for every kind (RFC 8555 §6.5).
    return attempts.badNonce < policy.badNonceRetries ? { action: 'retry', delayMs: 0, reason: 'badNonce' } : { action: 'fail' };
  }
  if (status === 503 || status === 429) {
    // The CA says it did not process the request: safe to send again, for every kind, when told when.
    const seconds = outcome.retryAfterSeconds;
    if (seconds !== undefined) {
      if (seconds * 1000 > policy.maxWaitMs) return { action: 'retry-later', retryAt: new Date(nowMs + seconds * 1000), seconds };
      return attempts.transient < policy.transientRetries ? { action: 'retry', delayMs: seconds * 1000, reason: 'retry-after' } : { action: 'fail' };
    }
    if (status === 429) return { action: 'fail' };
  }
  if (status >= 500 && (status === 503 || isIdempotent(kind)) && attempts.transient < policy.transientRetries) {
    return { action: 'retry', delayMs: backoff(policy, attempts.transient), reason: 'transient' };
  }
  return { action: 'fail' };
}

function backoff(policy: RetryPolicy, done: number): number {
  return Math.min(policy.backoffMs * 2 ** done, policy.maxWaitMs);
}

/** Which request a POST is, from its URL and payload (acme-client's directory names the resources). */
export function kindOfPost(url: string, payload: unknown, directory: Partial<Record<string, unknown>>): RequestKind {
  if (payload === null || payload === undefined) return 'postAsGet';
  if (url === directory['newAccount']) return 'newAccount';
  if (url === directory['newOrder']) return 'newOrder';
  if (typeof payload !== 'object') return 'other';
  if ('csr' in payload) return 'finalize';
  const keys = Object.keys(payload);
  if (keys.length === 0) return 'challenge';
  if (keys.length === 1 && 'status' in payload && payload.status === 'deactivated') return 'deactivate';
  return 'other';
}

/** Delay before the next poll: the CA's Retry-After (bounded by the policy) or the client's backoff. */
export function pollDelayMs(retryAfter: number | undefined, backoffMs: number, policy: RetryPolicy): number {
  return retryAfter === undefined ? backoffMs : Math.min(retryAfter * 1000, policy.maxWaitMs);
}

// ---------------------------------------------------------------------------------------------
// Request budgets

/** A bound on the requests of one step: a CA that makes the client loop is stopped with one line. */
export interface RequestBudget {
  limit: number;
  used: number;
  code: ErrorCode;
  /** "the account registration at https://..." */
  what: string;
  subject: string;
}

export const ORDER_REQUEST_LIMIT = 200;
export const ACCOUNT_REQUEST_LIMIT = 20;

const budgets = new AsyncLocalStorage<RequestBudget>();

export function requestBudget(code: ErrorCode, what: string, subject: string, limit: number): RequestBudget {
  return { limit, used: 0, code, what, subject };
}

/** Run `work` with its requests counted against `budget` (an inner budget takes over for its step). */
export function withBudget<T>(budget: RequestBudget, work: () => Promise<T>): Promise<T> {
  return budgets.run(budget, work);
}

function spend(): void {
  const budget = budgets.getStore();
  if (budget === undefined) return;
  budget.used += 1;
  if (budget.used > budget.limit) {
    throw new GxitError(budget.code, `${budget.what} took more than ${budget.limit} requests to the CA: stopped`, {
      subject: budget.subject,
      fix: 'the CA does not answer as RFC 8555 says (run with --verbose to see the requests); report it to the CA or use another server',
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Wiring

/** What each attempt left behind: the transport error the adapter saw. */
interface AttemptScope {
  kind: RequestKind;
  transport?: { code: string; aborted: boolean };
}
const attempts = new AsyncLocalStorage<AttemptScope>();

/** Wraps axios's http adapter: records the original transport error of the attempt in progress. */
export function recordTransport(adapter: AxiosAdapter): AxiosAdapter {
  return async (config: InternalAxiosRequestConfig): Promise<AxiosResponse> => {
    try {
      return await adapter(config);
    } catch (error) {
      const scope = attempts.getStore();
      if (scope !== undefined) scope.transport = { code: transportCode(error), aborted: config.signal?.aborted === true };
      throw error;
    }
  };
}

function transportCode(error: unknown): string {
  let current: unknown = error;
  let found = 'UNKNOWN';
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = 'code' in current ? current.code : undefined;
    if (typeof code === 'string' && (found === 'UNKNOWN' || found.startsWith('ERR_'))) found = code;
    current = 'cause' in current ? current.cause : undefined;
  }
  return found;
}

interface HttpResponse {
  status: number;
  headers: Record<string, unknown>;
  data: unknown;
}
interface SignedOpts {
  kid?: string | null;
  nonce?: string | null;
  includeExternalAccountBinding?: boolean;
}
interface RequestOpts {
  timeout?: number;
  [key: string]: unknown;
}
/** The parts of acme-client 5.4's internal HttpClient this wraps. */
interface AcmeHttp {
  request(url: string, method: string, opts?: RequestOpts): Promise<HttpResponse>;
  signedRequest(url: string, payload: unknown, opts?: SignedOpts, attempts?: number): Promise<HttpResponse>;
  getDirectory(): Promise<Record<string, unknown>>;
  maxBadNonceRetries: number;
}
interface Item {
  url?: string;
  status?: string;
  finalize?: string;
}
/** The public Client methods this replaces or uses. */
interface RetryableClient {
  http?: unknown;
  getAccountUrl(): string;
  waitForValidStatus(item: Item): Promise<unknown>;
  finalizeOrder(order: Item, csr: Buffer | string): Promise<unknown>;
  getOrder(order: Item): Promise<Item>;
}

function httpOf(client: { http?: unknown }): AcmeHttp | undefined {
  const http = client.http;
  if (typeof http !== 'object' || http === null) return undefined;
  const h = http as Partial<AcmeHttp>;
  if (typeof h.request !== 'function' || typeof h.signedRequest !== 'function' || typeof h.getDirectory !== 'function') return undefined;
  return http as AcmeHttp;
}

/** Thrown when the policy gives up on a transient failure: finalize looks at it; callAcme reports the capture. */
export class TransientFailure extends Error {
  constructor(readonly kind: RequestKind, readonly outcome: Outcome) {
    super(outcome.type === 'transport' ? `request failed (${outcome.code})` : `HTTP ${outcome.status}`);
    this.name = 'TransientFailure';
  }
}

export interface RetryOptions {
  policy: RetryPolicy;
  /** Polling of the client (its backoff options). */
  backoff: { attempts: number; minMs: number; maxMs: number };
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
}

/** Wait `ms`, or reject as soon as `signal` aborts. */
export function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms <= 0 && !signal?.aborted) return Promise.resolve();
  return timerSleep(ms, signal, () => new Error('aborted'));
}

function outcomeOf(response: HttpResponse): Outcome {
  const data = response.data;
  const type = typeof data === 'object' && data !== null && 'type' in data && typeof data.type === 'string' ? data.type : undefined;
  const seconds = retryAfterSeconds(response.headers['retry-after']);
  return { type: 'response', status: response.status, ...(type === undefined ? {} : { problemType: type }), ...(seconds === undefined ? {} : { retryAfterSeconds: seconds }) };
}

/** When the policy gives up on a Retry-After beyond the bound: one line with the time. */
function retryLater(decision: { retryAt: Date; seconds: number }, kind: RequestKind, url: string): GxitError {
  const at = decision.retryAt.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const slot = currentSlot();
  const detail = slot?.problem?.detail === undefined ? '' : `: ${slot.problem.detail.replace(/\s+/g, ' ').slice(0, 200)}`;
  return new GxitError(kind === 'newAccount' ? 'ACME_ACCOUNT' : kind === 'finalize' ? 'ACME_FINALIZE' : 'ACME_ORDER', `the CA asks to wait ${decision.seconds} s before the next request${detail}`, {
    subject: new URL(url).host,
    fix: `run again after ${at} (or raise acme_retry_max_wait, now below ${decision.seconds} s)`,
  });
}

/** Install the policy on one acme-client Client (after reuseNonces). Without the internals, nothing changes. */
export function installRetry(client: RetryableClient, opts: RetryOptions): void {
  const http = httpOf(client);
  if (http === undefined) return;
  const { policy } = opts;
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? abortableSleep;
  const signal = (): AbortSignal | undefined => currentSlot()?.signal;
  http.maxBadNonceRetries = 0;

  const request = http.request.bind(http);
  const signedRequest = http.signedRequest.bind(http);

  /** One HTTP exchange: the abort check, the budget, the timeout of its kind. */
  const send = (url: string, method: string, sendOpts: RequestOpts, kind: RequestKind): Promise<HttpResponse> => {
    if (signal()?.aborted) return Promise.reject(new Error('aborted'));
    spend();
    const read = kind === 'directory' || kind === 'newNonce' || kind === 'postAsGet';
    sendOpts.timeout = read ? policy.readTimeoutMs : policy.writeTimeoutMs;
    return request(url, method, sendOpts);
  };

  /** Run attempts of one request under the policy. `attempt` gets the nonce of a badNonce answer. */
  const withPolicy = async (kind: RequestKind, url: string, attempt: (nonce: string | undefined) => Promise<HttpResponse>): Promise<HttpResponse> => {
    const count: Attempts = { badNonce: 0, transient: 0 };
    let nonce: string | undefined;
    for (;;) {
      const scope: AttemptScope = { kind };
      let outcome: Outcome;
      let response: HttpResponse | undefined;
      let thrown: unknown;
      try {
        response = await attempts.run(scope, () => attempt(nonce));
        outcome = outcomeOf(response);
      } catch (error) {
        if (scope.transport === undefined || error instanceof GxitError) throw error;
        thrown = error;
        outcome = { type: 'transport', code: scope.transport.code, aborted: scope.transport.aborted || signal()?.aborted === true };
      }
      const decision = decide(kind, outcome, count, policy, now());
      if (decision.action === 'accept') return count.badNonce + count.transient > 0 ? clearSlot(response) : accepted(response);
      if (decision.action === 'retry-later') throw retryLater(decision, kind, url);
      if (decision.action === 'fail') {
        if (response !== undefined) return response;
        if (outcome.type === 'transport' && transientTransport(outcome.code) && !outcome.aborted) throw new TransientFailure(kind, outcome);
        throw thrown;
      }
      if (decision.reason === 'badNonce') {
        count.badNonce += 1;
        const fresh = response?.headers['replay-nonce'];
        nonce = typeof fresh === 'string' && fresh !== '' ? fresh : undefined;
      } else {
        count.transient += 1;
        nonce = undefined;
        await sleep(decision.delayMs, signal());
      }
    }
  };

  http.request = (url, method, reqOpts = {}) => {
    const scope = attempts.getStore();
    if (scope !== undefined) return send(url, method, reqOpts, scope.kind);
    // GET directory, HEAD newNonce, GET of a certificate: plain reads.
    const kind: RequestKind = method === 'head' ? 'newNonce' : 'directory';
    return withPolicy(kind, url, () => send(url, method, { ...reqOpts }, kind));
  };

  http.signedRequest = async (url, payload, signedOpts = {}) => {
    const kind = kindOfPost(url, payload, await http.getDirectory());
    const response = await withPolicy(kind, url, (nonce) =>
      signedRequest(url, payload, { ...signedOpts, ...(nonce === undefined ? {} : { nonce }) }, 0),
    );
    if (kind === 'newAccount' && response.status < 300 && typeof response.headers['location'] !== 'string') {
      // acme-client would alternate newAccount and account update forever (RFC 8555 §7.3 requires it).
      throw new GxitError('ACME_ACCOUNT', `the CA answered newAccount (HTTP ${response.status}) without the account URL (Location header)`, {
        subject: new URL(url).host,
        fix: 'the ACME server does not follow RFC 8555 §7.3: check that `server:` is an ACME directory, or report it to the CA',
      });
    }
    return response;
  };

  client.waitForValidStatus = async (item) => {
    if (item.url === undefined) throw new Error('Unable to verify status of item, URL not found');
    const url = item.url;
    let delay = opts.backoff.minMs;
    for (let polled = 1; ; polled++) {
      const response = await http.signedRequest(url, null, { kid: client.getAccountUrl() });
      const data = (typeof response.data === 'object' && response.data !== null ? response.data : {}) as Item & { error?: { detail?: string }; detail?: string };
      if (response.status !== 200) throw new Error(formatError(data));
      if (data.status === 'ready' || data.status === 'valid') return data;
      if (data.status === 'invalid') throw new Error(formatError(data));
      if (data.status !== 'pending' && data.status !== 'processing') throw new Error(`Unexpected item status: ${String(data.status)}`);
      if (polled >= opts.backoff.attempts) throw new Error('Operation is pending or processing');
      const retryAfter = retryAfterSeconds(response.headers['retry-after'], now());
      await sleep(pollDelayMs(retryAfter, delay, policy), signal());
      delay = Math.min(delay * 2, opts.backoff.maxMs);
    }
  };

  const finalizeOrder = client.finalizeOrder.bind(client);
  client.finalizeOrder = async (order, csr) => {
    for (let sent = 1; ; sent++) {
      try {
        return await finalizeOrder(order, csr);
      } catch (error) {
        // A finalize whose answer was lost may have been taken: ask the order before sending another.
        if (!(error instanceof TransientFailure) || sent > policy.transientRetries) throw error;
        const current = await client.getOrder(order);
        if (current.status !== 'ready') return current;
      }
    }
  };
}

function accepted(response: HttpResponse | undefined): HttpResponse {
  if (response === undefined) throw new Error('no response');
  return response;
}

function clearSlot(response: HttpResponse | undefined): HttpResponse {
  // A fault that a retry rode out is not the reason of a later failure.
  const slot = currentSlot();
  if (slot !== undefined) {
    delete slot.problem;
    delete slot.transport;
  }
  return accepted(response);
}

/** acme-client's formatResponseError: the problem detail of an item, or of its error. */
function formatError(data: { error?: { detail?: string }; detail?: string }): string {
  const text = data.error !== undefined ? (data.error.detail ?? JSON.stringify(data.error)) : (data.detail ?? JSON.stringify(data));
  return text.replace(/\n/g, '');
}
