/**
 * The acme-dns HTTP API (github.com/acme-dns/acme-dns): POST /register and POST /update with
 * X-Api-User/X-Api-Key. Plain fetch; each call bounded by a timeout and the caller's signal.
 */
import { GxitError, messageOf } from '../../../errors.js';
import { outboundFetch } from '../../../net/fetch.js';
import type { AcmeDnsAccount } from './credentials.js';

export type FetchFn = (url: string, init: RequestInit) => Promise<Response>;

export interface ClientOptions {
  timeoutMs: number;
  fetch?: FetchFn;
  signal?: AbortSignal;
}

const join = (base: string, path: string): string => `${base.replace(/\/+$/, '')}${path}`;

/** acme-dns answers errors as {"error": "reason"}. */
async function reasonOf(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const doc: unknown = JSON.parse(text);
    if (typeof doc === 'object' && doc !== null && typeof (doc as { error?: unknown }).error === 'string') return (doc as { error: string }).error;
  } catch {
    // not JSON: use the text
  }
  return text.trim().slice(0, 200) || response.statusText;
}

async function post(url: string, init: { headers?: Record<string, string>; body: string }, opts: ClientOptions, what: string): Promise<Response> {
  const signals = [AbortSignal.timeout(opts.timeoutMs), ...(opts.signal ? [opts.signal] : [])];
  try {
    return await (opts.fetch ?? outboundFetch())(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...init.headers },
      body: init.body,
      signal: AbortSignal.any(signals),
    });
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    const timedOut = error instanceof Error && error.name === 'TimeoutError';
    throw new GxitError('DNS_UNREACHABLE', `acme-dns at ${url} ${timedOut ? `did not answer within ${opts.timeoutMs / 1000} s` : `could not be reached`} (${what}): ${messageOf(cause)}`, {
      subject: url,
      fix: 'check dns.acme_dns.api (or server_url in the credentials file) and that the acme-dns server runs',
      cause: error,
    });
  }
}

/** POST /register: a new subdomain with its own credentials. */
export async function register(api: string, opts: ClientOptions & { allowFrom?: string[] }): Promise<AcmeDnsAccount> {
  const url = join(api, '/register');
  const response = await post(url, { body: JSON.stringify(opts.allowFrom ? { allowfrom: opts.allowFrom } : {}) }, opts, 'register');
  if (response.status !== 201 && response.status !== 200) {
    throw new GxitError('DNS_PROVIDER', `acme-dns at ${url} refused the registration: HTTP ${response.status} ${await reasonOf(response)}`, {
      subject: url,
      fix: 'check that registration is open on this acme-dns server for this machine (its allowfrom and firewall settings)',
    });
  }
  const doc: unknown = await response.json().catch(() => undefined);
  const d = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>;
  for (const field of ['username', 'password', 'fulldomain', 'subdomain']) {
    if (typeof d[field] !== 'string' || d[field] === '') {
      throw new GxitError('DNS_BAD_RESPONSE', `acme-dns at ${url} answered the registration without "${field}"`, {
        subject: url,
        fix: 'check that dns.acme_dns.api points at an acme-dns server',
      });
    }
  }
  return {
    username: d.username as string,
    password: d.password as string,
    fulldomain: (d.fulldomain as string).toLowerCase().replace(/\.$/, ''),
    subdomain: d.subdomain as string,
    allowfrom: Array.isArray(d.allowfrom) ? d.allowfrom.map(String) : [],
    server_url: api,
  };
}

/** POST /update: sets one of the subdomain's two values. `domain` names the registration in errors. */
export async function update(api: string, account: AcmeDnsAccount, value: string, domain: string, opts: ClientOptions): Promise<void> {
  const url = join(account.server_url ?? api, '/update');
  const response = await post(
    url,
    { headers: { 'X-Api-User': account.username, 'X-Api-Key': account.password }, body: JSON.stringify({ subdomain: account.subdomain, txt: value }) },
    opts,
    `update for ${domain}`,
  );
  if (response.ok) return;
  const reason = await reasonOf(response);
  if (response.status === 401 || response.status === 403) {
    throw new GxitError('DNS_ACCESS_DENIED', `acme-dns at ${url} refused the credentials of ${domain} (${reason})`, {
      subject: domain,
      fix: `check the entry for ${domain} in the credentials file (username, password, subdomain) and the registration's allowfrom; or remove it and run gxit-cert acme-dns register`,
    });
  }
  throw new GxitError('DNS_PROVIDER', `acme-dns at ${url} refused the update for ${domain}: HTTP ${response.status} ${reason}`, {
    subject: domain,
    fix: "check the acme-dns server's log",
  });
}
