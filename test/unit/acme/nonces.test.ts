import { describe, expect, it } from 'vitest';
import { reuseNonces } from '../../../src/acme/nonces.js';

/** A stand-in for acme-client's internal HTTP client: counts HEAD newNonce requests. */
function fakeClient() {
  let counter = 0;
  const calls: string[] = [];
  const http = {
    async request(url: string, method: string) {
      calls.push(`${method} ${url}`);
      counter += 1;
      return { headers: { 'replay-nonce': `nonce-${counter}` } };
    },
    async getNonce(this: { request: (u: string, m: string) => Promise<{ headers: Record<string, string> }> }) {
      const response = await this.request('/new-nonce', 'head');
      return response.headers['replay-nonce'] as string;
    },
  };
  return { client: { http }, http, calls };
}

describe('reuseNonces', () => {
  it('uses the nonce of the previous response instead of asking newNonce again', async () => {
    const { client, http, calls } = fakeClient();
    reuseNonces(client);
    expect(await http.getNonce()).toBe('nonce-1'); // nothing pooled yet: HEAD newNonce
    await http.request('/order', 'post');
    expect(await http.getNonce()).toBe('nonce-2'); // from the POST's answer
    expect(await http.getNonce()).toBe('nonce-3'); // pool empty again: HEAD
    expect(calls).toEqual(['head /new-nonce', 'post /order', 'head /new-nonce']);
  });

  it('never hands out one nonce twice', async () => {
    const { client, http } = fakeClient();
    reuseNonces(client);
    await Promise.all([http.request('/a', 'post'), http.request('/b', 'post')]);
    const handed = await Promise.all([http.getNonce(), http.getNonce(), http.getNonce()]);
    expect(new Set(handed).size).toBe(3);
  });

  it('leaves a client without the expected internals alone', () => {
    const client = { http: { request: 'not a function' } };
    expect(() => reuseNonces(client)).not.toThrow();
    expect(client.http.request).toBe('not a function');
  });
});

describe('reuseNonces and badNonce answers', () => {
  it('does not pool the nonce of a badNonce answer: its retry signs with it (RFC 8555 §6.5)', async () => {
    let counter = 0;
    const http = {
      async request(_url: string, method: string) {
        counter += 1;
        if (method === 'head') return { status: 200, headers: { 'replay-nonce': `head-${counter}` } };
        return { status: 400, headers: { 'replay-nonce': `bad-${counter}` }, data: { type: 'urn:ietf:params:acme:error:badNonce' } };
      },
      async getNonce(this: { request: (u: string, m: string) => Promise<{ headers: Record<string, string> }> }) {
        return (await this.request('/new-nonce', 'head')).headers['replay-nonce'] as string;
      },
    };
    reuseNonces({ http });
    await http.request('/order', 'post');
    expect(await http.getNonce()).toMatch(/^head-/);
  });
});
