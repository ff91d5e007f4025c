import { describe, expect, it } from 'vitest';
import { AxiosHeaders } from 'axios';
import { GxitError } from '../../../src/errors.js';
import { callAcme } from '../../../src/acme/capture.js';
import { reuseNonces } from '../../../src/acme/nonces.js';
import {
  DEFAULT_RETRY_POLICY,
  decide,
  installRetry,
  isIdempotent,
  kindOfPost,
  pollDelayMs,
  recordTransport,
  requestBudget,
  withBudget,
  type Attempts,
  type Decision,
  type Outcome,
  type RequestKind,
} from '../../../src/acme/retry.js';

const policy = DEFAULT_RETRY_POLICY;
const NOW = Date.parse('2026-12-03T10:00:00Z');
const fresh: Attempts = { badNonce: 0, transient: 0 };
const BAD_NONCE = 'urn:ietf:params:acme:error:badNonce';

describe('decide', () => {
  const cases: [string, RequestKind, Outcome, Attempts, Decision['action'], number?][] = [
    ['200 is accepted', 'newOrder', { type: 'response', status: 201 }, fresh, 'accept'],
    ['badNonce on finalize: retried at once', 'finalize', { type: 'response', status: 400, problemType: BAD_NONCE }, fresh, 'retry', 0],
    ['badNonce, 9 done: the 10th retry', 'newOrder', { type: 'response', status: 400, problemType: BAD_NONCE }, { badNonce: 9, transient: 0 }, 'retry', 0],
    ['badNonce, 10 done: fail', 'newOrder', { type: 'response', status: 400, problemType: BAD_NONCE }, { badNonce: 10, transient: 0 }, 'fail'],
    ['503 Retry-After 5 on finalize: wait 5 s', 'finalize', { type: 'response', status: 503, retryAfterSeconds: 5 }, fresh, 'retry', 5000],
    ['429 Retry-After 60: wait (the bound is inclusive)', 'newOrder', { type: 'response', status: 429, retryAfterSeconds: 60 }, fresh, 'retry', 60_000],
    ['429 Retry-After 61: retry later', 'newOrder', { type: 'response', status: 429, retryAfterSeconds: 61 }, fresh, 'retry-later'],
    ['429 without Retry-After: fail', 'postAsGet', { type: 'response', status: 429 }, fresh, 'fail'],
    ['503 without Retry-After on finalize: backoff', 'finalize', { type: 'response', status: 503 }, fresh, 'retry', 500],
    ['500 on a poll: backoff', 'postAsGet', { type: 'response', status: 500 }, { badNonce: 0, transient: 2 }, 'retry', 2000],
    ['500 on finalize: not repeated', 'finalize', { type: 'response', status: 500 }, fresh, 'fail'],
    ['502 on an account update: not repeated', 'other', { type: 'response', status: 502 }, fresh, 'fail'],
    ['5xx after 4 retries: fail', 'postAsGet', { type: 'response', status: 500 }, { badNonce: 0, transient: 4 }, 'fail'],
    ['403 unauthorized: fail', 'newOrder', { type: 'response', status: 403, problemType: 'urn:ietf:params:acme:error:unauthorized' }, fresh, 'fail'],
    ['400 malformed: fail', 'newOrder', { type: 'response', status: 400, problemType: 'urn:ietf:params:acme:error:malformed' }, fresh, 'fail'],
    ['reset of newNonce: backoff', 'newNonce', { type: 'transport', code: 'ECONNRESET' }, fresh, 'retry', 500],
    ['timeout of a poll: backoff', 'postAsGet', { type: 'transport', code: 'ECONNABORTED' }, { badNonce: 0, transient: 1 }, 'retry', 1000],
    ['reset of newOrder: retried', 'newOrder', { type: 'transport', code: 'ECONNRESET' }, fresh, 'retry', 500],
    ['timeout of finalize: not repeated here (the order is polled)', 'finalize', { type: 'transport', code: 'ETIMEDOUT' }, fresh, 'fail'],
    ['ECONNREFUSED: fail at once', 'directory', { type: 'transport', code: 'ECONNREFUSED' }, fresh, 'fail'],
    ['ENOTFOUND: fail', 'directory', { type: 'transport', code: 'ENOTFOUND' }, fresh, 'fail'],
    ['untrusted certificate: fail', 'directory', { type: 'transport', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }, fresh, 'fail'],
    ['interrupted: fail', 'postAsGet', { type: 'transport', code: 'ECONNRESET', aborted: true }, fresh, 'fail'],
  ];
  it.each(cases)('%s', (_name, kind, outcome, attempts, action, delayMs) => {
    const decision = decide(kind, outcome, attempts, policy, NOW);
    expect(decision.action).toBe(action);
    if (decision.action === 'retry') expect(decision.delayMs).toBe(delayMs);
  });

  it('a Retry-After beyond the bound names the time to retry', () => {
    const decision = decide('newOrder', { type: 'response', status: 429, retryAfterSeconds: 3600 }, fresh, policy, NOW);
    expect(decision).toEqual({ action: 'retry-later', retryAt: new Date('2026-12-03T11:00:00Z'), seconds: 3600 });
  });

  it('acme_retry_max_wait 0 never waits for a Retry-After', () => {
    expect(decide('newOrder', { type: 'response', status: 503, retryAfterSeconds: 1 }, fresh, { ...policy, maxWaitMs: 0 }, NOW).action).toBe('retry-later');
  });

  it('backoff is bounded by the maximum wait', () => {
    const decision = decide('postAsGet', { type: 'response', status: 500 }, { badNonce: 0, transient: 3 }, { ...policy, maxWaitMs: 1000 }, NOW);
    expect(decision).toMatchObject({ action: 'retry', delayMs: 1000 });
  });
});

describe('kindOfPost and isIdempotent', () => {
  const directory = { newAccount: 'https://ca/acct', newOrder: 'https://ca/order' };
  it.each([
    ['https://ca/order/1', null, 'postAsGet', true],
    ['https://ca/acct', { termsOfServiceAgreed: true }, 'newAccount', true],
    ['https://ca/order', { identifiers: [] }, 'newOrder', true],
    ['https://ca/finalize/1', { csr: 'x' }, 'finalize', false],
    ['https://ca/chall/1', {}, 'challenge', true],
    ['https://ca/authz/1', { status: 'deactivated' }, 'deactivate', true],
    ['https://ca/acct/1', { contact: [] }, 'other', false],
  ] as const)('%s %j -> %s', (url, payload, kind, idempotent) => {
    expect(kindOfPost(url, payload, directory)).toBe(kind);
    expect(isIdempotent(kind)).toBe(idempotent);
  });
});

describe('pollDelayMs', () => {
  it('honours Retry-After up to the bound, else the backoff', () => {
    expect(pollDelayMs(undefined, 400, policy)).toBe(400);
    expect(pollDelayMs(3, 400, policy)).toBe(3000);
    expect(pollDelayMs(600, 400, policy)).toBe(60_000);
  });
});

// ---------------------------------------------------------------------------------------------
// The wiring, on a stand-in for acme-client's internal HTTP client with a scripted CA and a fake clock.

interface Sent {
  url: string;
  method: string;
  nonce?: string | null;
  timeout?: number;
}
type Answer = { status: number; headers?: Record<string, string>; data?: unknown } | 'timeout';

/** What axios's adapter does on a request timeout, seen through the wrapper the real adapter gets. */
const timingOut = recordTransport(async () => {
  throw Object.assign(new Error('timeout of 20000ms exceeded'), { code: 'ECONNABORTED' });
});

function fakeClient(script: (sent: Sent, index: number) => Answer) {
  const sent: Sent[] = [];
  let nonces = 0;
  const http = {
    maxBadNonceRetries: 5,
    async getDirectory() {
      return { newAccount: 'https://ca/acct', newOrder: 'https://ca/new-order', newNonce: 'https://ca/nonce' };
    },
    async request(url: string, method: string, opts: { timeout?: number; nonce?: string | null } = {}) {
      const entry: Sent = { url, method, ...(opts.timeout === undefined ? {} : { timeout: opts.timeout }), ...(opts.nonce === undefined ? {} : { nonce: opts.nonce }) };
      sent.push(entry);
      if (method === 'head') return { status: 200, headers: { 'replay-nonce': `head-${++nonces}` }, data: '' };
      const answer = script(entry, sent.filter((s) => s.method === 'post').length - 1);
      if (answer === 'timeout') {
        await timingOut({ headers: new AxiosHeaders() }).catch(() => undefined);
        throw new TypeError("Cannot read properties of undefined (reading 'status')");
      }
      return { headers: {}, data: {}, ...answer };
    },
    async getNonce(this: { request: (u: string, m: string) => Promise<{ headers: Record<string, unknown> }> }): Promise<string> {
      const response = await this.request('https://ca/nonce', 'head');
      return String(response.headers['replay-nonce']);
    },
    async signedRequest(this: typeof http, url: string, payload: unknown, opts: { nonce?: string | null } = {}): Promise<{ status: number; headers: Record<string, unknown>; data: unknown }> {
      const nonce = opts.nonce ?? (await this.getNonce());
      return this.request(url, 'post', { nonce });
    },
  };
  const slept: number[] = [];
  const client = {
    http,
    getAccountUrl: () => 'https://ca/acct/1',
    waitForValidStatus: async () => ({}),
    finalizeOrder: async (order: { finalize?: string }) => (await http.signedRequest(order.finalize ?? '', { csr: 'x' })).data,
    getOrder: async (order: { url?: string }) => (await http.signedRequest(order.url ?? '', null)).data as { status?: string },
  };
  reuseNonces(client);
  installRetry(client, {
    policy,
    backoff: { attempts: 5, minMs: 50, maxMs: 400 },
    now: () => NOW,
    sleep: async (ms) => {
      slept.push(ms);
    },
  });
  return { client, http, sent, slept };
}

const badNonce = (fresh: string): Answer => ({ status: 400, headers: { 'replay-nonce': fresh }, data: { type: BAD_NONCE, detail: 'bad nonce' } });

describe('installRetry', () => {
  it('badNonce: retried with the nonce of the error response, each nonce sent once, up to 10 times', async () => {
    const { http, sent } = fakeClient((_s, i) => (i < 10 ? badNonce(`err-${i}`) : { status: 201, headers: { 'replay-nonce': 'ok-nonce' } }));
    const response = await http.signedRequest('https://ca/new-order', { identifiers: [] });
    expect(response.status).toBe(201);
    const posted = sent.filter((s) => s.method === 'post').map((s) => s.nonce);
    expect(posted).toEqual(['head-1', ...Array.from({ length: 10 }, (_v, i) => `err-${i}`)]);
    expect(new Set(posted).size).toBe(posted.length);
    // The pool holds the last good answer's nonce, never a badNonce one.
    expect(await http.getNonce()).toBe('ok-nonce');
    expect(await http.getNonce()).toBe('head-2');
  });

  it('badNonce 11 times: the 11th answer is returned as the failure', async () => {
    const { http, sent } = fakeClient((_s, i) => badNonce(`err-${i}`));
    const response = await http.signedRequest('https://ca/new-order', { identifiers: [] });
    expect(response.status).toBe(400);
    expect(sent.filter((s) => s.method === 'post')).toHaveLength(11);
  });

  it('503 with Retry-After: waits as told, then sends again with a fresh nonce', async () => {
    const { http, sent, slept } = fakeClient((_s, i) => (i === 0 ? { status: 503, headers: { 'retry-after': '7' }, data: { type: 'urn:ietf:params:acme:error:serverInternal' } } : { status: 201 }));
    expect((await http.signedRequest('https://ca/finalize/1', { csr: 'x' })).status).toBe(201);
    expect(slept).toEqual([7000]);
    const posted = sent.filter((s) => s.method === 'post').map((s) => s.nonce);
    expect(new Set(posted).size).toBe(2);
  });

  it('429 with a Retry-After beyond the bound: one GxitError naming the time', async () => {
    const { http, slept } = fakeClient(() => ({ status: 429, headers: { 'retry-after': '7200' }, data: { type: 'urn:ietf:params:acme:error:rateLimited', detail: 'too many' } }));
    const error = await http.signedRequest('https://ca/new-order', { identifiers: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GxitError);
    expect((error as GxitError).fix).toContain('2026-12-03T12:00:00Z');
    expect(slept).toEqual([]);
  });

  it('per-request timeouts: reads 10 s, writes 20 s', async () => {
    const { http, sent } = fakeClient(() => ({ status: 200 }));
    await http.signedRequest('https://ca/order/1', null);
    await http.signedRequest('https://ca/new-order', { identifiers: [] });
    expect(sent.filter((s) => s.method === 'post').map((s) => s.timeout)).toEqual([10_000, 20_000]);
  });

  it('newAccount answered without Location: one error, no second request', async () => {
    const { http, sent } = fakeClient(() => ({ status: 200, data: {} }));
    await expect(http.signedRequest('https://ca/acct', { termsOfServiceAgreed: true })).rejects.toThrow(/without the account URL/);
    expect(sent.filter((s) => s.method === 'post')).toHaveLength(1);
  });

  it('a request budget stops a loop with one line', async () => {
    const { http, sent } = fakeClient(() => ({ status: 200 }));
    const budget = requestBudget('ACME_ACCOUNT', 'the account registration at https://ca', 'https://ca', 5);
    const loop = withBudget(budget, async () => {
      for (;;) await http.signedRequest('https://ca/acct/1', { contact: [] });
    });
    await expect(loop).rejects.toThrow('the account registration at https://ca took more than 5 requests to the CA: stopped');
    expect(sent).toHaveLength(5);
  });

  it('an aborted signal stops before sending', async () => {
    const { http, sent } = fakeClient(() => ({ status: 200 }));
    const controller = new AbortController();
    controller.abort();
    const call = callAcme({ code: 'ACME_ORDER', what: 'the CA refused the order for x', subject: 'x', signal: controller.signal }, () => http.signedRequest('https://ca/order/1', null));
    await expect(call).rejects.toMatchObject({ code: 'INTERRUPTED' });
    expect(sent).toHaveLength(0);
  });

  it('polls honour Retry-After (bounded) and stop at valid', async () => {
    const states = ['processing', 'processing', 'valid'];
    const { client, slept } = fakeClient((_s, i) => ({ status: 200, headers: i === 0 ? { 'retry-after': '3' } : {}, data: { status: states[i] } }));
    const done = await client.waitForValidStatus({ url: 'https://ca/order/1' });
    expect(done).toMatchObject({ status: 'valid' });
    expect(slept).toEqual([3000, 100]);
  });

  it('finalize timed out, order still ready: finalize is sent again', async () => {
    const { client, sent } = fakeClient((s, i) => (s.url.endsWith('/finalize') ? (i === 0 ? 'timeout' : { status: 200, data: { status: 'processing' } }) : { status: 200, data: { status: 'ready' } }));
    await client.finalizeOrder({ url: 'https://ca/order/1', finalize: 'https://ca/order/1/finalize' }, 'csr');
    expect(sent.filter((s) => s.method === 'post').map((s) => s.url)).toEqual(['https://ca/order/1/finalize', 'https://ca/order/1', 'https://ca/order/1/finalize']);
  });

  it('finalize timed out, order already processing: not sent again, the order is returned', async () => {
    const { client, sent } = fakeClient((s) => (s.url.endsWith('/finalize') ? 'timeout' : { status: 200, data: { status: 'processing' } }));
    const order = await client.finalizeOrder({ url: 'https://ca/order/1', finalize: 'https://ca/order/1/finalize' }, 'csr');
    expect(order).toMatchObject({ status: 'processing' });
    expect(sent.filter((s) => s.method === 'post' && s.url.endsWith('/finalize'))).toHaveLength(1);
  });

  it('a timed-out poll is sent again (10 s bound each)', async () => {
    const { http, sent, slept } = fakeClient((_s, i) => (i < 2 ? 'timeout' : { status: 200, data: { status: 'valid' } }));
    expect((await http.signedRequest('https://ca/order/1', null)).status).toBe(200);
    expect(sent.filter((s) => s.method === 'post')).toHaveLength(3);
    expect(slept).toEqual([500, 1000]);
  });

  it('an invalid item fails the poll with its error detail', async () => {
    const { client } = fakeClient(() => ({ status: 200, data: { status: 'invalid', error: { detail: 'no TXT record found' } } }));
    await expect(client.waitForValidStatus({ url: 'https://ca/authz/1' })).rejects.toThrow('no TXT record found');
  });
});
