import { createRequire } from 'node:module';
import type { AxiosStatic } from 'axios';
import { installCapture, type CapturableAxios } from './capture.js';
import { recordTransport } from './retry.js';
import { rootCertificates } from 'node:tls';
import { outboundAgent, outboundHttpAgent } from '../net/proxy.js';

export interface HttpSettings {
  /** Extra CA certificates (PEM) trusted for the ACME server's HTTPS, besides the system's. */
  caBundlePem?: string;
  /** Per request, milliseconds: acme-client has none by default and would hang forever. */
  timeoutMs: number;
}

/** The part of acme-client's axios instance that is configured here. */
export interface AcmeAxios {
  defaults: { timeout?: number; httpsAgent?: unknown; httpAgent?: unknown; proxy?: unknown };
}

interface AcmeSettings {
  retryMaxAttempts: number;
  retryDefaultDelay: number;
}

/**
 * acme-client talks through one shared axios instance; this is the only place that configures it.
 * Connections are kept open and sent without Nagle delay: an order is a dozen small
 * request/response exchanges, each of which would otherwise wait for a delayed ACK.
 * Its default retry policy waits 5, 10, 15, 20, 25 s on a refused connection: an unreachable CA
 * should be reported within seconds, so three attempts a second apart.
 */
export function configureAcmeHttp(axios: AcmeAxios, settings: HttpSettings): void {
  axios.defaults.timeout = settings.timeoutMs;
  const ca = settings.caBundlePem ? { ca: [...rootCertificates, settings.caBundlePem] } : {};
  // Proxies (HTTPS_PROXY, NO_PROXY, ...) are decided by net/proxy for every request, not by axios.
  Object.assign(axios.defaults, { httpsAgent: outboundAgent({ ...ca, keepAlive: true, noDelay: true }), httpAgent: outboundHttpAgent(), proxy: false });
  const acme = (axios.defaults as { acmeSettings?: AcmeSettings }).acmeSettings;
  if (acme) {
    acme.retryMaxAttempts = 3;
    acme.retryDefaultDelay = 1;
  }
}

/** true in the published bundle (scripts/bundle.mjs defines it); undeclared in tsc's dist/. */
declare const GXIT_CERT_BUNDLED: boolean | undefined;

/** acme-client's own (CommonJS, already loaded) copy of axios: importing 'axios' as ESM would load a second one. */
async function acmeClientAxios(): Promise<AxiosStatic> {
  if (typeof GXIT_CERT_BUNDLED !== 'undefined' && GXIT_CERT_BUNDLED) {
    // The bundle has no node_modules to resolve from; bundle.mjs maps 'axios' to the file acme-client requires.
    return (await import('axios')).default;
  }
  const fromAcme = createRequire(createRequire(import.meta.url).resolve('acme-client'));
  return fromAcme('axios');
}

/**
 * configureAcmeHttp, plus the interceptors that keep each error response's problem document and
 * each transport error (capture.ts). axios is acme-client's own dependency, loaded with it.
 */
export async function prepareAcmeHttp(instance: CapturableAxios, settings: HttpSettings): Promise<void> {
  configureAcmeHttp(instance, settings);
  // acme-client's own (CommonJS, already loaded) copy of axios: importing 'axios' as ESM would load a second one.
  installCapture(instance, recordTransport((await acmeClientAxios()).getAdapter('http')));
  // Retries are decided per request by retry.ts (installed on each client): acme-client's own would
  // repeat POSTs that must not be repeated and wait for any Retry-After.
  const acme = (instance.defaults as { acmeSettings?: AcmeSettings }).acmeSettings;
  if (acme) acme.retryMaxAttempts = 0;
}
