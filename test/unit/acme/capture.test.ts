import { AxiosError, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { describe, expect, it } from 'vitest';
import { callAcme, installCapture } from '../../../src/acme/capture.js';
import { AcmeError } from '../../../src/acme/errors.js';
import { configureAcmeHttp } from '../../../src/acme/http.js';

type Adapter = (config: InternalAxiosRequestConfig) => Promise<AxiosResponse>;
let network: Adapter = async () => Promise.reject(new Error('no network in this test'));
let calls = 0;

/** acme-client's own axios instance (with its retry interceptor); `adapter` stands in for the network. */
async function instance(adapter: Adapter) {
  const acme = await import('acme-client');
  configureAcmeHttp(acme.axios, { timeoutMs: 1000 });
  // Installed once per instance; each test swaps what the network does.
  installCapture(acme.axios, (config) => {
    calls++;
    return network(config);
  });
  network = adapter;
  calls = 0;
  return { axios: acme.axios, calls: () => calls };
}

const context = { code: 'ACME_ORDER' as const, what: 'the CA refused the order for a.test', subject: 'a.test' };

describe('the capture on acme-client’s axios instance', () => {
  it('keeps the problem document of an error response, while acme-client only keeps its detail', async () => {
    const t = await instance(async (config) => ({
      status: 403,
      statusText: 'Forbidden',
      headers: { 'content-type': 'application/problem+json', 'retry-after': '7' },
      data: { type: 'urn:ietf:params:acme:error:unauthorized', detail: 'replaces names a certificate of another account' },
      config,
    }));
    const error = await callAcme(context, async () => {
      const response = await t.axios.get('https://ca.test/new-order', { validateStatus: null });
      // What acme-client does with an error response: a plain Error with the detail only.
      throw new Error(String((response.data as { detail: string }).detail));
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AcmeError);
    expect(error instanceof AcmeError && error.problem).toEqual({
      type: 'urn:ietf:params:acme:error:unauthorized',
      status: 403,
      detail: 'replaces names a certificate of another account',
      retryAfterSeconds: 7,
    });
  });

  it('forgets a failed request once a later request of the call succeeds (a retried badNonce before an invalid authorization)', async () => {
    let n = 0;
    const t = await instance(async (config) =>
      ++n === 1
        ? { status: 400, statusText: 'Bad Request', headers: { 'content-type': 'application/problem+json' }, data: { type: 'urn:ietf:params:acme:error:badNonce', detail: 'JWS has an invalid anti-replay nonce' }, config }
        : { status: 200, statusText: 'OK', headers: { 'content-type': 'application/json' }, data: { status: 'invalid' }, config },
    );
    const error = await callAcme(context, async () => {
      await t.axios.get('https://ca.test/authz/1', { validateStatus: null });
      await t.axios.get('https://ca.test/authz/1', { validateStatus: null });
      // What acme-client throws for an invalid authorization: its JSON, with the challenge's error inside.
      throw new Error('{"status":"invalid","challenges":[{"error":{"detail":"DNS problem: SERVFAIL looking up TXT for x"}}]}');
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AcmeError);
    expect(error instanceof AcmeError && error.problem).toBe(undefined);
    expect(error instanceof AcmeError && error.message).toContain('SERVFAIL looking up TXT for x');
    expect(error instanceof AcmeError && error.fix).toContain('run `gxit-cert check-dns`');
  });

  it('an untrusted certificate is not retried and keeps its code, although acme-client then throws a TypeError', async () => {
    const t = await instance(async (config) => {
      const cause = Object.assign(new Error('unable to verify the first certificate'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
      throw AxiosError.from(cause, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', config);
    });
    const started = performance.now();
    const error = await callAcme(context, () => t.axios.get('https://ca.test/dir')).catch((e: unknown) => e);
    expect(t.calls()).toBe(1);
    expect(performance.now() - started).toBeLessThan(900); // one retry alone would wait a second
    expect(error).toBeInstanceOf(AcmeError);
    expect(error instanceof AcmeError && error.transport?.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(error instanceof Error && error.message).toMatch(/the ACME server's certificate is not trusted/);
  });

  it('puts the call’s AbortSignal on each request, and an abort is INTERRUPTED without retries', async () => {
    const seen: unknown[] = [];
    const t = await instance((config) => {
      seen.push(config.signal);
      return new Promise((_resolve, reject) => {
        const signal = config.signal as AbortSignal;
        signal.addEventListener('abort', () => reject(new AxiosError('canceled', AxiosError.ERR_CANCELED, config)), { once: true });
      });
    });
    const controller = new AbortController();
    const pending = callAcme({ ...context, signal: controller.signal }, () => t.axios.get('https://ca.test/order/1')).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    const error = await pending;
    expect(seen).toEqual([controller.signal]);
    expect(t.calls()).toBe(1);
    expect(error).toMatchObject({ code: 'INTERRUPTED' });
  });
});
