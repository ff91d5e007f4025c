/**
 * The HTTP side of ARI (RFC 9773): the directory's `renewalInfo` URL and GET <renewalInfo>/<certID>.
 * Both are unauthenticated GETs, so this needs no ACME client (acme-client has no ARI, and loading it
 * costs a quarter second that a renewal check should not pay).
 */
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { rootCertificates } from 'node:tls';
import { messageOf } from '../errors.js';
import { outboundAgent, outboundHttpAgent } from '../net/proxy.js';
import { parseRenewalInfo, type AriFetchOutcome } from './ari.js';

export interface HttpResponse {
  status: number;
  retryAfter?: string;
  body: string;
}

export type HttpGet = (url: string) => Promise<HttpResponse>;

const BODY_LIMIT = 1 << 20;

/** GET over http(s), trusting the system CAs plus `caBundlePem` (the config's ca_bundle). */
export function httpGetter(opts: { caBundlePem?: string; timeoutMs: number }): HttpGet {
  const [agent, plainAgent] = [outboundAgent(opts.caBundlePem === undefined ? {} : { ca: [...rootCertificates, opts.caBundlePem] }), outboundHttpAgent()];
  return (url) =>
    new Promise((resolve, reject) => {
      const onResponse = (response: IncomingMessage): void => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          body += chunk;
          if (body.length > BODY_LIMIT) response.destroy(new Error('response larger than 1 MiB'));
        });
        response.on('end', () => {
          const retryAfter = response.headers['retry-after'];
          resolve({ status: response.statusCode ?? 0, body, ...(retryAfter === undefined ? {} : { retryAfter }) });
        });
        response.on('error', reject);
      };
      const headers = { accept: 'application/json', 'user-agent': 'gxit-cert' };
      const request = url.startsWith('https:')
        ? httpsGet(url, { agent, headers, timeout: opts.timeoutMs }, onResponse)
        : httpGet(url, { headers, timeout: opts.timeoutMs, ...(plainAgent === undefined ? {} : { agent: plainAgent }) }, onResponse);
      request.on('timeout', () => request.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
      request.on('error', reject);
    });
}

export interface AriClient {
  /** The renewalInfo URL of an ACME directory; undefined when it offers none. Cached per directory. */
  renewalInfoUrl(directoryUrl: string): Promise<string | undefined>;
  /** Ask the CA about one certificate. Never throws: failures are an 'error' outcome. */
  fetch(directoryUrl: string, certId: string): Promise<AriFetchOutcome>;
}

export function ariClient(get: HttpGet): AriClient {
  const directories = new Map<string, Promise<string | undefined>>();
  const renewalInfoUrl = (directoryUrl: string): Promise<string | undefined> => {
    let found = directories.get(directoryUrl);
    if (found === undefined) {
      found = (async () => {
        const response = await get(directoryUrl);
        if (response.status !== 200) throw new Error(`the ACME directory ${directoryUrl} answered HTTP ${response.status}`);
        const directory = JSON.parse(response.body) as { renewalInfo?: unknown };
        return typeof directory.renewalInfo === 'string' && directory.renewalInfo !== '' ? directory.renewalInfo : undefined;
      })();
      directories.set(directoryUrl, found);
      found.catch(() => directories.delete(directoryUrl));
    }
    return found;
  };
  return {
    renewalInfoUrl,
    async fetch(directoryUrl, certId) {
      try {
        const base = await renewalInfoUrl(directoryUrl);
        if (base === undefined) return { kind: 'unsupported' };
        const response = await get(`${base.replace(/\/+$/, '')}/${certId}`);
        const retry = response.retryAfter === undefined ? {} : { retryAfter: response.retryAfter };
        if (response.status !== 200) {
          return { kind: 'error', message: `renewalInfo answered HTTP ${response.status}${problemDetail(response.body)}`, ...retry };
        }
        let body: unknown;
        try {
          body = JSON.parse(response.body);
        } catch {
          body = undefined;
        }
        const info = parseRenewalInfo(body);
        if (info === undefined) return { kind: 'error', message: 'renewalInfo answered without a valid suggestedWindow', ...retry };
        return { kind: 'info', info, ...retry };
      } catch (error) {
        return { kind: 'error', message: messageOf(error) };
      }
    },
  };
}

function problemDetail(body: string): string {
  try {
    const problem = JSON.parse(body) as { detail?: unknown };
    return typeof problem.detail === 'string' ? `: ${problem.detail.slice(0, 200)}` : '';
  } catch {
    return '';
  }
}
