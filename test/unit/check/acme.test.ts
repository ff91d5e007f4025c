import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type * as Acme from 'acme-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
      else if (req.url === '/slow') setTimeout(() => res.end('{}'), 2000);
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
    expect(facts.ms).toBeLessThan(1000);
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
    const acme = { Client, axios: { defaults: {} } } as unknown as typeof Acme;
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
    [async () => { throw new Error('urn:ietf:params:acme:error:accountDoesNotExist: No account by that key'); }, 'warn', /does not know the stored account/, /issue registers the stored key again/],
    [async () => { throw new Error('urn:ietf:params:acme:error:unauthorized: Account has been deactivated'); }, 'fail', /deactivated/, /move \/s\/accounts\/ca aside/],
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
