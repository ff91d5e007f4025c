/**
 * ACME: the directory at `server` answers (over HTTPS trusted with the system roots plus ca_bundle)
 * and names the CA's CAA identities; an account stored in state_dir is still valid at the CA.
 */
import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import type * as Acme from 'acme-client';
import { callAcme } from '../acme/capture.js';
import { acmeError, problemKindOf } from '../acme/errors.js';
import { prepareAcmeHttp } from '../acme/http.js';
import { messageOf } from '../errors.js';
import { outboundAgent, outboundHttpAgent } from '../net/proxy.js';
import type { StoredAccount } from '../store/index.js';
import { fail, ok, warn, type CheckResult } from './types.js';

export interface Directory {
  newNonce: string;
  newAccount: string;
  newOrder: string;
  meta?: { caaIdentities?: string[] };
}

export interface DirectoryFacts {
  url: string;
  ms: number;
  status?: number;
  body?: string;
  error?: unknown;
}

export interface HttpSettings {
  caBundlePem?: string;
  timeoutMs: number;
}

/** GET the directory; never throws (the error is a fact). */
export function fetchDirectory(url: string, settings: HttpSettings, now: () => number = Date.now): Promise<DirectoryFacts> {
  const started = now();
  return new Promise((resolve) => {
    const done = (facts: Omit<DirectoryFacts, 'url' | 'ms'>): void => resolve({ url, ms: now() - started, ...facts });
    const options = {
      timeout: settings.timeoutMs,
      agent: url.startsWith('http:') ? (outboundHttpAgent() ?? false) : outboundAgent(settings.caBundlePem ? { ca: [...rootCertificates, settings.caBundlePem] } : {}),
      headers: { accept: 'application/json', 'user-agent': 'gxit-cert check-dns' },
      ...(settings.caBundlePem ? { ca: [...rootCertificates, settings.caBundlePem] } : {}),
    };
    const get = url.startsWith('http:') ? http.get : https.get;
    const request = get(url, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 1_000_000) body += chunk;
      });
      res.on('end', () => done({ status: res.statusCode ?? 0, body }));
      res.on('error', (error) => done({ error }));
    });
    request.on('timeout', () => request.destroy(Object.assign(new Error(`no answer within ${settings.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    request.on('error', (error) => done({ error }));
  });
}

/** The directory object, or why the body is not one. */
export function parseDirectory(body: string): Directory | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return 'the answer is not JSON';
  }
  if (typeof parsed !== 'object' || parsed === null) return 'the answer is not a JSON object';
  const d = parsed as Record<string, unknown>;
  const missing = ['newNonce', 'newAccount', 'newOrder'].filter((k) => typeof d[k] !== 'string');
  if (missing.length > 0) return `the answer has no ${missing.join(', ')}`;
  const meta = typeof d.meta === 'object' && d.meta !== null ? (d.meta as Record<string, unknown>) : undefined;
  const ids = meta?.caaIdentities;
  const caaIdentities = Array.isArray(ids) ? ids.filter((i): i is string => typeof i === 'string').map((i) => i.toLowerCase()) : undefined;
  return {
    newNonce: d.newNonce as string,
    newAccount: d.newAccount as string,
    newOrder: d.newOrder as string,
    ...(caaIdentities ? { meta: { caaIdentities } } : {}),
  };
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ALTNAME/;

function codeOf(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

export function evaluateDirectory(f: DirectoryFacts): { result: CheckResult; directory?: Directory } {
  const subject = f.url;
  if (f.error !== undefined) {
    const code = codeOf(f.error) ?? '';
    const reason = `${messageOf(f.error)}${code && !messageOf(f.error).includes(code) ? ` (${code})` : ''}`;
    if (TLS_CODES.test(code)) {
      return { result: fail('acme', subject, `the ACME server's HTTPS certificate is not trusted: ${reason}`,
        "set ca_bundle to the CA of the ACME server's HTTPS certificate (test CAs only), or correct server:") };
    }
    return { result: fail('acme', subject, `the ACME directory cannot be fetched: ${reason}`,
      'check that server: is the directory URL of the CA and that this machine reaches it (proxy, firewall)') };
  }
  if (f.status !== 200) {
    return { result: fail('acme', subject, `the ACME directory answered HTTP ${f.status}`, 'check the directory URL in server:') };
  }
  const directory = parseDirectory(f.body ?? '');
  if (typeof directory === 'string') {
    return { result: fail('acme', subject, `this is not an ACME directory: ${directory}`, 'check the directory URL in server: (it ends in /directory or /dir)') };
  }
  const ids = directory.meta?.caaIdentities;
  const caa = ids && ids.length > 0 ? `CAA identities ${ids.join(', ')}` : 'no CAA identities in its meta';
  return { result: ok('acme', subject, `the ACME directory answered in ${f.ms} ms (${caa})`), directory };
}

export type AccountFacts =
  | { directoryUrl: string; kind: 'none' }
  | { directoryUrl: string; kind: 'unregistered' }
  | { directoryUrl: string; kind: 'checked'; url: string; status: string }
  | { directoryUrl: string; kind: 'error'; url?: string; error: unknown };

export interface AccountDeps {
  readAccount(directoryUrl: string): Promise<StoredAccount | undefined>;
  /** acme-client, loaded only when there is an account to ask about (it takes ~0.3 s to load). */
  loadAcme(): Promise<typeof Acme>;
  http: HttpSettings;
}

/** The stored account's status at the CA (a POST-as-GET to its URL, signed with its key). */
export async function gatherAccount(deps: AccountDeps, directoryUrl: string): Promise<AccountFacts> {
  let stored: StoredAccount | undefined;
  try {
    stored = await deps.readAccount(directoryUrl);
  } catch (error) {
    return { directoryUrl, kind: 'error', error };
  }
  if (!stored) return { directoryUrl, kind: 'none' };
  const url = stored.meta?.url;
  if (!url) return { directoryUrl, kind: 'unregistered' };
  const what = `the CA did not confirm account ${url}`;
  try {
    const acme = await deps.loadAcme();
    // The capture keeps the problem document of the CA's answer, which evaluateAccount classifies on.
    await prepareAcmeHttp(acme.axios, { ...(deps.http.caBundlePem === undefined ? {} : { caBundlePem: deps.http.caBundlePem }), timeoutMs: deps.http.timeoutMs });
    const client = new acme.Client({ directoryUrl, accountKey: stored.keyPem, accountUrl: url });
    const account = (await callAcme({ code: 'ACME_ACCOUNT', what, subject: directoryUrl }, () => client.updateAccount({}))) as { status?: unknown };
    return { directoryUrl, kind: 'checked', url, status: typeof account.status === 'string' ? account.status : 'unknown' };
  } catch (error) {
    return { directoryUrl, kind: 'error', url, error: acmeError('ACME_ACCOUNT', what, error, directoryUrl) };
  }
}

export function evaluateAccount(f: AccountFacts, accountDir: string): CheckResult {
  switch (f.kind) {
    case 'none':
      return ok('account', f.directoryUrl, 'no account stored for this CA yet: issue registers one');
    case 'unregistered':
      return ok('account', f.directoryUrl, 'an account key is stored but not registered yet: issue registers it');
    case 'checked':
      if (f.status === 'valid') return ok('account', f.url, 'the account is valid');
      return fail('account', f.url, `the account is ${f.status}`, `move ${accountDir} aside so that issue registers a new account`);
    case 'error': {
      // By RFC 8555 problem type only (§6.7, §7.3.6): the message text is the CA's prose.
      const text = messageOf(f.error);
      const kind = problemKindOf(f.error);
      if (kind === 'accountDoesNotExist') {
        return warn('account', f.url ?? f.directoryUrl, 'the stored account is unknown to this CA (a test CA that was restarted forgets its accounts): it will be registered again on the next issue',
          'nothing to do: issue registers the stored key again');
      }
      if (kind === 'unauthorized') {
        // A deactivated or revoked account is refused with `unauthorized` (RFC 8555 §7.3.6).
        return fail('account', f.url ?? f.directoryUrl, text, `move ${accountDir} aside so that issue registers a new account`);
      }
      const fix = f.error instanceof Error && 'fix' in f.error && typeof f.error.fix === 'string' ? f.error.fix : 'run check-dns again with --verbose';
      return fail('account', f.url ?? f.directoryUrl, text, fix);
    }
  }
}
