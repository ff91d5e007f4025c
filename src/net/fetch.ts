/**
 * `fetch` for the HTTP providers (acme-dns, Cloudflare) that follows HTTPS_PROXY/HTTP_PROXY/NO_PROXY
 * like every other request (net/proxy.ts): Node 20's global fetch ignores those variables. Without a
 * proxy in the environment it is Node's own fetch; with one, a small fetch over node:http(s) and the
 * proxy-deciding agent. That one supports what the providers send: a method, headers, a string body
 * and a signal.
 */
import http from 'node:http';
import https from 'node:https';
import { outboundAgent, proxyConfigured, proxySettings, type ProxySettings } from './proxy.js';

export type FetchFn = (url: string, init: RequestInit) => Promise<Response>;

/** Statuses whose response has no body (a Response with one would throw). */
const NULL_BODY = new Set([101, 204, 205, 304]);

function viaAgent(agent: http.Agent): FetchFn {
  return (url, init) =>
    new Promise<Response>((resolve, reject) => {
      if (init.body !== undefined && init.body !== null && typeof init.body !== 'string') {
        reject(new TypeError('the proxied fetch sends string bodies only'));
        return;
      }
      const target = new URL(url);
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((value, name) => {
        headers[name] = value;
      });
      const signal = init.signal ?? undefined;
      const send = target.protocol === 'https:' ? https.request : http.request;
      const request = send(target, { method: init.method ?? 'GET', headers, agent, ...(signal ? { signal } : {}) }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => reject(signal?.aborted ? signal.reason : error));
        response.on('end', () => {
          const status = response.statusCode ?? 502;
          const out = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) out.append(name, one);
          }
          resolve(new Response(NULL_BODY.has(status) ? null : Buffer.concat(chunks), { status, statusText: response.statusMessage ?? '', headers: out }));
        });
      });
      // Like fetch: an aborted request rejects with the signal's reason (a TimeoutError for AbortSignal.timeout).
      request.on('error', (error) => reject(signal?.aborted ? signal.reason : error));
      request.end(init.body ?? undefined);
    });
}

const fetches = new WeakMap<ProxySettings, FetchFn>();

/** The fetch to use for a request from this environment. */
export function outboundFetch(env: NodeJS.ProcessEnv = process.env): FetchFn {
  const settings = proxySettings(env);
  if (!proxyConfigured(settings)) return fetch;
  let proxied = fetches.get(settings);
  if (proxied === undefined) {
    proxied = viaAgent(outboundAgent({ keepAlive: true }, env));
    fetches.set(settings, proxied);
  }
  return proxied;
}
