/**
 * RFC 8555 §7.2: every ACME response carries a fresh Replay-Nonce that the next request may use.
 * acme-client 5.4 ignores them and sends HEAD newNonce before every signed request, which doubles
 * the round trips of an order (and, for concurrent requests, opens extra TLS connections). This
 * keeps the nonces of responses in a pool and hands them out first; a stale one costs a badNonce
 * answer, which retry.ts retries with the nonce of that answer (used there, never pooled).
 *
 * It wraps two methods of the client's internal HTTP client; when they are not there (another
 * acme-client version), the client is left as it is.
 */
interface NonceResponse {
  status?: number;
  headers?: Record<string, unknown>;
  data?: unknown;
}

interface AcmeHttp {
  request(url: string, method: string, opts?: unknown): Promise<NonceResponse>;
  getNonce(): Promise<string>;
}

function httpOf(client: object): AcmeHttp | undefined {
  const http = (client as { http?: Partial<AcmeHttp> }).http;
  if (!http || typeof http.request !== 'function' || typeof http.getNonce !== 'function') return undefined;
  return http as AcmeHttp;
}

export function reuseNonces(client: object): void {
  const http = httpOf(client);
  if (!http) return;
  const pool: string[] = [];
  const request = http.request.bind(http);
  const getNonce = http.getNonce.bind(http);
  http.request = async (url, method, opts) => {
    const response = await request(url, method, opts);
    const nonce = response.headers?.['replay-nonce'];
    // The HEAD newNonce answer is returned by getNonce itself, and a badNonce answer's nonce is the one
    // its retry signs with (RFC 8555 §6.5, retry.ts): keeping either would send that nonce twice.
    if (method !== 'head' && !isBadNonce(response) && typeof nonce === 'string' && nonce !== '') pool.push(nonce);
    return response;
  };
  http.getNonce = async () => pool.shift() ?? getNonce();
}

function isBadNonce(response: NonceResponse): boolean {
  const data = response.data;
  return response.status === 400 && typeof data === 'object' && data !== null && 'type' in data && data.type === 'urn:ietf:params:acme:error:badNonce';
}
