import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboundFetch } from '../../../src/net/fetch.js';
import { startConnectProxy, type ConnectProxy } from '../../lab/connect-proxy.js';

let server: http.Server;
let base: string;
let proxy: ConnectProxy;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      if (req.url === '/empty') return void res.writeHead(204).end();
      if (req.url === '/silent') return; // never answers
      res.writeHead(201, { 'content-type': 'application/json', 'x-reply': 'yes' });
      res.end(JSON.stringify({ method: req.method, url: req.url, body, key: req.headers['x-api-key'] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy = await startConnectProxy();
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await proxy.close();
});

describe('the fetch of the HTTP providers', () => {
  it("is Node's own fetch without a proxy in the environment", () => {
    expect(outboundFetch({})).toBe(fetch);
    expect(outboundFetch({ NO_PROXY: '*' })).toBe(fetch);
  });

  it('tunnels through HTTP_PROXY: method, headers, string body, status and response headers arrive', async () => {
    const proxied = outboundFetch({ HTTP_PROXY: proxy.url });
    expect(proxied).not.toBe(fetch);
    const before = proxy.tunnels.length;
    const response = await proxied(`${base}/update?x=1`, { method: 'POST', headers: { 'X-Api-Key': 'k1' }, body: '{"txt":"v"}' });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-reply')).toBe('yes');
    expect(await response.json()).toEqual({ method: 'POST', url: '/update?x=1', body: '{"txt":"v"}', key: 'k1' });
    expect(proxy.tunnels.slice(before)).toEqual([new URL(base).host]);
    expect(proxy.plain).toEqual([]);
    const empty = await proxied(`${base}/empty`, {});
    expect(empty.status).toBe(204);
  });

  it('goes direct for a NO_PROXY destination', async () => {
    const before = proxy.tunnels.length;
    const response = await outboundFetch({ HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' })(`${base}/x`, {});
    expect(response.status).toBe(201);
    expect(proxy.tunnels.length).toBe(before);
  });

  it('rejects with the signal reason, as fetch does (TimeoutError for AbortSignal.timeout)', async () => {
    const proxied = outboundFetch({ HTTP_PROXY: proxy.url, no_proxy: 'example.invalid' });
    const error: unknown = await proxied(`${base}/silent`, { signal: AbortSignal.timeout(200) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('TimeoutError');
  });
});
