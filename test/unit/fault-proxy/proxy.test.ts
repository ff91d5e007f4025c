// The fault proxy itself, against a small Pebble-like upstream (URLs built from the Host header, a
// Replay-Nonce on every answer): pass-through keeps Host, each fault does what it says, budgets and
// seeded probabilities are exact, the admin endpoint sets rules and reads the log.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { makeLeaf } from '../../../fixtures/ari/proxy.mjs';
import { startFaultProxy, type FaultProxy } from '../../../fixtures/fault-proxy/proxy.mjs';

const run = promisify(execFile);

let dir: string;
let caPem: string;
let upstream: https.Server;
let upstreamUrl: string;
let proxy: FaultProxy;
let nonceCounter = 0;
const upstreamSeen: { method: string; path: string; host: string | undefined }[] = [];

function pebbleLike(req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const host = req.headers.host;
    upstreamSeen.push({ method: req.method ?? '', path: req.url ?? '', host });
    const nonce = `upstream-nonce-${++nonceCounter}`;
    if (req.url === '/dir') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ newNonce: `https://${host}/nonce-plz`, newAccount: `https://${host}/sign-me-up`, newOrder: `https://${host}/order-plz` }));
      return;
    }
    res.writeHead(req.url === '/order-plz' ? 201 : 200, { 'content-type': 'application/json', 'replay-nonce': nonce });
    res.end(req.method === 'HEAD' ? undefined : JSON.stringify({ path: req.url, host }));
  });
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(method: string, url: string, body?: unknown, timeoutMs = 10_000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, ca: caPem, headers: body === undefined ? {} : { 'content-type': 'application/jose+json' }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('client timeout'), { code: 'CLIENT_TIMEOUT' })));
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** A JWS-shaped body whose protected header carries `nonce`. */
function jws(nonce: string): unknown {
  return { protected: Buffer.from(JSON.stringify({ alg: 'ES256', nonce, url: 'x' })).toString('base64url'), payload: '', signature: '' };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'gxit-fault-proxy-'));
  const caKey = path.join(dir, 'ca.key');
  const caCert = path.join(dir, 'ca.pem');
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-noenc', '-keyout', caKey, '-out', caCert, '-days', '2', '-subj', '/CN=fault proxy test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  caPem = await readFile(caCert, 'utf8');
  const leaf = await makeLeaf('127.0.0.1', caCert, caKey);
  upstream = https.createServer({ cert: leaf.cert, key: leaf.key }, pebbleLike);
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `https://127.0.0.1:${(upstream.address() as AddressInfo).port}/dir`;
  proxy = await startFaultProxy({ upstream: upstreamUrl, upstreamCa: caPem, caCertFile: caCert, caKeyFile: caKey, adminPort: 0 });
});

afterAll(async () => {
  await proxy?.close();
  await new Promise<void>((resolve) => {
    upstream.closeAllConnections();
    upstream.close(() => resolve());
  });
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  proxy.clearRules();
  proxy.clearLog();
  upstreamSeen.length = 0;
});

describe('pass-through', () => {
  test('keeps the Host header, so the directory names the proxy', async () => {
    const reply = await request('GET', proxy.directoryUrl);
    expect(reply.status).toBe(200);
    const directory = JSON.parse(reply.body) as Record<string, string>;
    expect(directory.newOrder).toBe(`${proxy.url}/order-plz`);
    expect(upstreamSeen[0]?.host).toBe(new URL(proxy.url).host);
    expect(proxy.log).toMatchObject([{ endpoint: 'directory', fault: 'none', status: 200, method: 'GET' }]);
  });

  test.each([
    ['/nonce-plz', 'newNonce'],
    ['/sign-me-up', 'newAccount'],
    ['/order-plz', 'newOrder'],
    ['/my-order/abc', 'order'],
    ['/authZ/abc', 'authz'],
    ['/chalZ/abc', 'challenge'],
    ['/finalize-order/abc', 'finalize'],
    ['/certZ/abc', 'cert'],
    ['/something-else', 'other'],
  ])('%s is logged as %s', async (urlPath, endpoint) => {
    await request('POST', `${proxy.url}${urlPath}`, jws('n1'));
    expect(proxy.log.at(-1)).toMatchObject({ path: urlPath, endpoint, nonce: 'n1', fault: 'none' });
  });
});

describe('faults', () => {
  test('503 with Retry-After for the first 2 matching requests, then through', async () => {
    proxy.addRule({ endpoint: 'newOrder', fault: { type: 'status', status: 503, retryAfter: 3 }, times: 2 });
    const replies = [];
    for (let i = 0; i < 3; i += 1) replies.push(await request('POST', `${proxy.url}/order-plz`, jws(`n${i}`)));
    expect(replies.map((r) => r.status)).toEqual([503, 503, 201]);
    expect(replies[0]?.headers['retry-after']).toBe('3');
    expect(JSON.parse(replies[0]!.body)).toMatchObject({ type: 'urn:ietf:params:acme:error:serverInternal', status: 503 });
    expect(upstreamSeen.filter((r) => r.path === '/order-plz')).toHaveLength(1);
    expect(proxy.rules()[0]).toMatchObject({ matched: 3, used: 2 });
  });

  test('429 rateLimited with a problem document and Retry-After', async () => {
    proxy.addRule({ endpoint: 'newAccount', fault: { type: 'rateLimited', retryAfter: 120 } });
    const reply = await request('POST', `${proxy.url}/sign-me-up`, jws('n'));
    expect(reply.status).toBe(429);
    expect(reply.headers['retry-after']).toBe('120');
    expect(reply.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(reply.body)).toMatchObject({ type: 'urn:ietf:params:acme:error:rateLimited', status: 429 });
  });

  test('badNonce carries a fresh nonce from the upstream', async () => {
    proxy.addRule({ endpoint: 'finalize', fault: { type: 'badNonce' }, times: 1 });
    const reply = await request('POST', `${proxy.url}/finalize-order/1`, jws('sent-nonce'));
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body)).toMatchObject({ type: 'urn:ietf:params:acme:error:badNonce' });
    expect(reply.headers['replay-nonce']).toMatch(/^upstream-nonce-\d+$/);
    expect(upstreamSeen).toEqual([{ method: 'HEAD', path: '/nonce-plz', host: new URL(proxy.url).host }]);
    expect(proxy.log[0]).toMatchObject({ fault: 'badNonce', nonce: 'sent-nonce', freshNonce: reply.headers['replay-nonce'] });
  });

  test('reset: the client sees ECONNRESET and the upstream nothing', async () => {
    proxy.addRule({ endpoint: 'challenge', fault: { type: 'reset' } });
    await expect(request('POST', `${proxy.url}/chalZ/1`, jws('n'))).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(upstreamSeen).toHaveLength(0);
    expect(proxy.log[0]).toMatchObject({ fault: 'reset', endpoint: 'challenge' });
  });

  test('stall: never answered; the client gives up', async () => {
    proxy.addRule({ endpoint: 'finalize', method: 'POST', fault: { type: 'stall' }, times: 1 });
    await expect(request('POST', `${proxy.url}/finalize-order/1`, jws('n'), 300)).rejects.toMatchObject({ code: 'CLIENT_TIMEOUT' });
    expect(upstreamSeen).toHaveLength(0);
    const next = await request('POST', `${proxy.url}/finalize-order/1`, jws('m'));
    expect(next.status).toBe(200);
  });

  test('slow: answered after the delay', async () => {
    proxy.addRule({ endpoint: 'cert', fault: { type: 'slow', delayMs: 400 } });
    const started = Date.now();
    const reply = await request('POST', `${proxy.url}/certZ/1`, jws('n'));
    expect(reply.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
  });

  test('method and path narrow a rule', async () => {
    proxy.addRule({ endpoint: 'order', method: 'GET', fault: { type: 'status', status: 500 } });
    proxy.addRule({ endpoint: '*', path: '^/authZ/b$', fault: { type: 'status', status: 502, problem: null } });
    expect((await request('POST', `${proxy.url}/my-order/1`, jws('n'))).status).toBe(200);
    expect((await request('GET', `${proxy.url}/my-order/1`)).status).toBe(500);
    expect((await request('POST', `${proxy.url}/authZ/a`, jws('n'))).status).toBe(200);
    const plain = await request('POST', `${proxy.url}/authZ/b`, jws('n'));
    expect(plain.status).toBe(502);
    expect(plain.headers['content-type']).toBe('text/plain');
  });

  test('a probability rule is seeded: the same seed faults the same requests', async () => {
    const pattern = async (seed: number): Promise<string> => {
      proxy.setRules([{ endpoint: 'newNonce', fault: { type: 'status', status: 503 }, probability: 0.5, seed }]);
      let out = '';
      for (let i = 0; i < 40; i += 1) out += (await request('HEAD', `${proxy.url}/nonce-plz`)).status === 503 ? 'x' : '.';
      return out;
    };
    const first = await pattern(42);
    expect(await pattern(42)).toBe(first);
    const faulted = [...first].filter((c) => c === 'x').length;
    expect(faulted).toBeGreaterThan(8);
    expect(faulted).toBeLessThan(32);
  });

  test('maxInARow caps the faults in a row per signer and path; another signer or path has its own count', async () => {
    const signed = (kid: string, nonce: string): unknown => ({
      protected: Buffer.from(JSON.stringify({ alg: 'ES256', kid, nonce, url: 'x' })).toString('base64url'),
      payload: '',
      signature: '',
    });
    proxy.setRules([{ endpoint: '*', method: 'POST', fault: { type: 'status', status: 503 }, probability: 1, maxInARow: 3 }]);
    let a = '';
    for (let i = 0; i < 8; i += 1) a += (await request('POST', `${proxy.url}/order-plz`, signed('acct/1', `a${i}`))).status === 503 ? 'x' : '.';
    expect(a).toBe('xxx.xxx.');
    // Another account on the same path, and the same account on another path: counted apart.
    expect((await request('POST', `${proxy.url}/order-plz`, signed('acct/2', 'b'))).status).toBe(503);
    expect((await request('POST', `${proxy.url}/authZ/z`, signed('acct/1', 'c'))).status).toBe(503);
    expect(() => proxy.addRule({ fault: { type: 'reset' }, maxInARow: 0 })).toThrow(/maxInARow/);
  });

  test('reused nonces are found in the log', async () => {
    await request('POST', `${proxy.url}/order-plz`, jws('a'));
    await request('POST', `${proxy.url}/order-plz`, jws('b'));
    await request('POST', `${proxy.url}/order-plz`, jws('a'));
    expect(proxy.reusedNonces()).toEqual(['a']);
  });

  test('a rule with an unknown fault or endpoint is refused', () => {
    expect(() => proxy.addRule({ fault: { type: 'explode' } } as never)).toThrow(/unknown fault type/);
    expect(() => proxy.addRule({ endpoint: 'nope' as never, fault: { type: 'reset' } })).toThrow(/unknown endpoint/);
    expect(() => proxy.addRule({ fault: { type: 'reset' }, probability: 2 })).toThrow(/probability/);
  });
});

describe('admin endpoint', () => {
  async function admin(method: string, urlPath: string, body?: unknown): Promise<{ status: number; value: unknown }> {
    const response = await fetch(`${proxy.adminUrl}${urlPath}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: response.status, value: await response.json() };
  }

  test('sets rules and reads the log from another process', async () => {
    expect((await admin('PUT', '/rules', [{ endpoint: 'newOrder', fault: { type: 'status', status: 503, retryAfter: 1 }, times: 1, name: 'one 503' }])).status).toBe(200);
    expect((await request('POST', `${proxy.url}/order-plz`, jws('n'))).status).toBe(503);
    const log = await admin('GET', '/log');
    expect(log.value).toMatchObject([{ endpoint: 'newOrder', fault: 'status', status: 503, rule: 'one 503' }]);
    expect((await admin('GET', '/rules')).value).toMatchObject([{ used: 1, matched: 1 }]);
    expect((await admin('POST', '/rules', { fault: { type: 'nope' } })).status).toBe(400);
    await admin('DELETE', '/rules');
    await admin('DELETE', '/log');
    expect(proxy.rules()).toEqual([]);
    expect(proxy.log).toEqual([]);
  });
});
