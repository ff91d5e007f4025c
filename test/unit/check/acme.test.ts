import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type * as Acme from 'acme-client';
import type { AxiosResponse, InternalAxiosRequestConfig } from 'axios';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installCapture } from '../../../src/acme/capture.js';
import { evaluateAccount, evaluateDirectory, fetchDirectory, gatherAccount, parseDirectory } from '../../../src/check/acme.js';

const DIR = {
  newNonce: 'https://ca.test/nonce',
  newAccount: 'https://ca.test/acct',
  newOrder: 'https://ca.test/order',
  meta: { caaIdentities: ['LetsEncrypt.org'], termsOfService: 'https://ca.test/tos' },
};

describe('parseDirectory', () => {
  it('reads the endpoints and the CAA identities (lower case)', () => {
    expect(parseDirectory(JSON.stringify(DIR))).toEqual({ ...DIR, meta: { caaIdentities: ['letsencrypt.org'] } });
  });
  it.each([
    ['<html>', 'the answer is not JSON'],
    ['[]', 'the answer has no newNonce, newAccount, newOrder'],
    ['{"newNonce":"x"}', 'the answer has no newAccount, newOrder'],
    ['null', 'the answer is not a JSON object'],
  ])('%s', (body, reason) => {
    expect(parseDirectory(body)).toBe(reason);
  });
});

describe('evaluateDirectory', () => {
  const url = 'https://ca.test/dir';
  it('passes a directory and names its CAA identities', () => {
    const { result, directory } = evaluateDirectory({ url, ms: 12, status: 200, body: JSON.stringify(DIR) });
    expect(result).toMatchObject({ check: 'acme', status: 'ok', subject: url, message: 'the ACME directory answered in 12 ms (CAA identities letsencrypt.org)' });
    expect(directory?.meta?.caaIdentities).toEqual(['letsencrypt.org']);
  });
  it('says when the CA names no CAA identity', () => {
    const { result } = evaluateDirectory({ url, ms: 3, status: 200, body: JSON.stringify({ ...DIR, meta: {} }) });
    expect(result.message).toContain('no CAA identities in its meta');
  });
  it.each([
    [{ error: Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }) }, /not trusted/, /ca_bundle/],
    [{ error: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:14000'), { code: 'ECONNREFUSED' }) }, /cannot be fetched: connect ECONNREFUSED/, /reaches it/],
    [{ status: 404, body: 'not found' }, /answered HTTP 404/, /directory URL/],
    [{ status: 200, body: '<html></html>' }, /not an ACME directory: the answer is not JSON/, /directory URL/],
  ])('fails %#', (facts, message, fix) => {
    const { result, directory } = evaluateDirectory({ url, ms: 1, ...facts });
    expect(directory).toBeUndefined();
    expect(result.status).toBe('fail');
    expect(result.message).toMatch(message);
    expect(result.fix).toMatch(fix);
  });
});

describe('fetchDirectory', () => {
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/dir') res.end(JSON.stringify(DIR));
      else if (req.url === '/slow') setTimeout(() => res.end('{}'), 20_000).unref();
      else res.writeHead(404).end('no');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('fetches a directory', async () => {
    const facts = await fetchDirectory(`${base}/dir`, { timeoutMs: 1000 });
    expect(facts).toMatchObject({ status: 200 });
    expect(evaluateDirectory(facts).result.status).toBe('ok');
  });

  it('gives up after the timeout', async () => {
    const facts = await fetchDirectory(`${base}/slow`, { timeoutMs: 100 });
    expect(facts.ms).toBeLessThan(5000);
    expect(evaluateDirectory(facts).result.message).toMatch(/no answer within 100 ms/);
  });
});

describe('account', () => {
  const url = 'https://ca.test/dir';
  const stored = { directoryUrl: url, keyPem: 'PEM', meta: { url: 'https://ca.test/acct/7', directoryUrl: url, createdAt: '2026-01-01T00:00:00Z' } };

  function fakeAcme(answer: () => Promise<unknown>) {
    const seen: unknown[] = [];
    class Client {
      constructor(opts: unknown) {
        seen.push(opts);
      }
      updateAccount(data: unknown) {
        seen.push(data);
        return answer();
      }
    }
    // The capture is installed on acme-client's own axios; a stand-in whose interceptors do nothing.
    const axios = { defaults: {}, interceptors: { request: { use: () => 0 }, response: { use: () => 0 } } };
    const acme = { Client, axios } as unknown as typeof Acme;
    return { acme, seen };
  }

  it('does not load acme-client when no account is stored', async () => {
    let loaded = false;
    const facts = await gatherAccount({ readAccount: async () => undefined, loadAcme: async () => ((loaded = true), fakeAcme(async () => ({})).acme), http: { timeoutMs: 100 } }, url);
    expect(loaded).toBe(false);
    expect(evaluateAccount(facts, '/state/accounts/ca')).toMatchObject({ status: 'ok', message: expect.stringContaining('issue registers one') });
  });

  it('asks the CA about a stored account with a POST-as-GET', async () => {
    const { acme, seen } = fakeAcme(async () => ({ status: 'valid' }));
    const facts = await gatherAccount({ readAccount: async () => stored, loadAcme: async () => acme, http: { timeoutMs: 100 } }, url);
    expect(seen).toEqual([{ directoryUrl: url, accountKey: 'PEM', accountUrl: 'https://ca.test/acct/7' }, {}]);
    expect(evaluateAccount(facts, '/s/accounts/ca')).toMatchObject({ status: 'ok', subject: 'https://ca.test/acct/7', message: 'the account is valid' });
  });

  it.each([
    [async () => ({ status: 'deactivated' }), 'fail', /the account is deactivated/, /move \/s\/accounts\/ca aside/],
    [async () => { throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }); }, 'fail', /did not confirm account/, /reachable/],
  ] as const)('reports %#', async (answer, status, message, fix) => {
    const { acme } = fakeAcme(answer);
    const facts = await gatherAccount({ readAccount: async () => stored, loadAcme: async () => acme, http: { timeoutMs: 100 } }, url);
    const r = evaluateAccount(facts, '/s/accounts/ca');
    expect(r.status).toBe(status);
    expect(r.message).toMatch(message);
    expect(r.fix).toMatch(fix);
  });
});

/**
 * The real acme-client, its network replaced by a CA that answers an account lookup with a problem
 * document: the classification must come from the problem type, whatever the detail says.
 */
describe('account errors classified by their RFC 8555 problem type', () => {
  const dir = 'https://ca.test/dir';
  const accountUrl = 'https://ca.test/acct/7';
  let answer: { status: number; data: unknown } = { status: 200, data: {} };
  let keyPem = '';

  beforeAll(async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    keyPem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const acme = await import('acme-client');
    // Installed before gatherAccount's own prepareAcmeHttp, which then leaves this network in place.
    installCapture(acme.axios, async (config: InternalAxiosRequestConfig): Promise<AxiosResponse> => {
      const reply = (status: number, data: unknown, headers: Record<string, string> = {}): AxiosResponse =>
        ({ status, statusText: String(status), data, config, headers: { 'replay-nonce': `n${Math.random()}`, ...headers } });
      if (config.url === dir) return reply(200, DIR);
      if (config.url === DIR.newNonce) return reply(200, '');
      if (config.url === accountUrl) return reply(answer.status, answer.data, { 'content-type': 'application/problem+json' });
      throw new Error(`unexpected request ${config.method} ${config.url}`);
    });
  });

  const run = async (status: number, data: unknown) => {
    answer = { status, data };
    const acme = await import('acme-client');
    const stored = { directoryUrl: dir, keyPem, meta: { url: accountUrl, directoryUrl: dir, createdAt: '2026-01-01T00:00:00Z' } };
    const facts = await gatherAccount({ readAccount: async () => stored, loadAcme: async () => acme, http: { timeoutMs: 1000 } }, dir);
    return evaluateAccount(facts, '/s/accounts/ca');
  };

  it('an account the CA forgot (Pebble restarted) is a warning: it will be registered again on the next issue', async () => {
    // Pebble's detail does not name the type: only the captured problem document does.
    const r = await run(400, { type: 'urn:ietf:params:acme:error:accountDoesNotExist', detail: 'Account "7" not found', status: 400 });
    expect(r).toMatchObject({ status: 'warn', subject: accountUrl, fix: 'nothing to do: issue registers the stored key again' });
    expect(r.message).toMatch(/unknown to this CA.*registered again on the next issue/);
  });

  it('a refused (deactivated) account fails and says to move the account aside', async () => {
    const r = await run(403, { type: 'urn:ietf:params:acme:error:unauthorized', detail: 'Account is not valid, has status "deactivated"', status: 403 });
    expect(r).toMatchObject({ status: 'fail', fix: 'move /s/accounts/ca aside so that issue registers a new account' });
    expect(r.message).toContain('has status "deactivated"');
  });

  it('message text alone classifies nothing: a detail that names accountDoesNotExist under another type is a plain failure', async () => {
    const r = await run(500, { type: 'urn:ietf:params:acme:error:serverInternal', detail: 'accountDoesNotExist deactivated revoked', status: 500 });
    expect(r.status).toBe('fail');
    expect(r.fix).not.toMatch(/issue registers|move .* aside/);
  });
});
