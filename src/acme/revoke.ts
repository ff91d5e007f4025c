/**
 * Revocation (RFC 8555 §7.6): signed with the account key (the account that ordered it, or any
 * account authorized for all its names), or with the certificate's own key (keyCompromise: proof
 * that whoever holds the key wants it dead, even without the account).
 */
import type * as Acme from 'acme-client';
import { callAcme } from './capture.js';
import { DEFAULT_RETRY_POLICY, installRetry } from './retry.js';

/** The part of acme-client's AcmeApi used to sign a request with a JWK instead of an account URL. */
interface JwkApi {
  apiResourceRequest(resource: string, payload: unknown, validStatusCodes: number[], opts: { includeJwsKid: boolean }): Promise<unknown>;
}

function isJwkApi(value: unknown): value is JwkApi {
  return typeof value === 'object' && value !== null && typeof Reflect.get(value, 'apiResourceRequest') === 'function';
}

export interface RevokeOptions {
  /** RFC 5280 reason code. */
  reasonCode: number;
  subject: string;
  directoryUrl: string;
  signal?: AbortSignal;
}

/** Revoke with an opened account. */
export async function revokeWithAccount(client: Acme.Client, certPem: string, opts: RevokeOptions): Promise<void> {
  const what = `could not revoke the certificate of ${opts.subject} at ${opts.directoryUrl}`;
  await callAcme({ code: 'ACME_REVOKE', what, subject: opts.subject, ...(opts.signal ? { signal: opts.signal } : {}) }, () =>
    client.revokeCertificate(certPem, { reason: opts.reasonCode }),
  );
}

/** Revoke signed by the certificate's private key (JWS with "jwk", no account). */
export async function revokeWithCertificateKey(acme: typeof Acme, keyPem: string, certPem: string, opts: RevokeOptions): Promise<void> {
  const client = new acme.Client({ directoryUrl: opts.directoryUrl, accountKey: keyPem });
  // The same retry policy as the account's client (badNonce, Retry-After; acme-client's own retries are off).
  installRetry(client, { policy: DEFAULT_RETRY_POLICY, backoff: { attempts: 25, minMs: 50, maxMs: 4000 } });
  const api: unknown = Reflect.get(client, 'api');
  if (!isJwkApi(api)) throw new Error('this acme-client cannot sign a revocation with the certificate key');
  const certificate = Buffer.from(certPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64').toString('base64url');
  const what = `could not revoke the certificate of ${opts.subject} at ${opts.directoryUrl} with its own key`;
  await callAcme({ code: 'ACME_REVOKE', what, subject: opts.subject, ...(opts.signal ? { signal: opts.signal } : {}) }, () =>
    api.apiResourceRequest('revokeCert', { certificate, reason: opts.reasonCode }, [200], { includeJwsKid: false }),
  );
}
