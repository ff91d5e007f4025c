/**
 * certbot's ACME accounts: accounts/<netloc><path of the directory URL>/<id>/ with
 *   private_key.json   the account key as a JWK (RSA in every certbot release; 0400)
 *   regr.json          { "body": {...}, "uri": "<account URL>" } (older releases add new_authzr_uri, terms_of_service)
 *   meta.json          { "creation_dt", "creation_host", ... }
 * Pure conversions; the files are read by tree.ts.
 */
import { createPrivateKey, type JsonWebKey } from 'node:crypto';
import { posix } from 'node:path';

/** certbot's server_path: netloc + path of the directory URL ("acme-v02.api.letsencrypt.org/directory"). */
export function certbotServerPath(directoryUrl: string): string | undefined {
  let url: URL;
  try {
    url = new URL(directoryUrl);
  } catch {
    return undefined;
  }
  // URL drops a default port; certbot keeps the netloc as written.
  const written = /^[a-z]+:\/\/([^/?#]+)/i.exec(directoryUrl)?.[1] ?? url.host;
  return posix.join(written, url.pathname);
}

/** certbot's account files are JSON objects; the reason completes "<file> ...". */
function parseJsonObject(text: string): { ok: true; value: Record<string, unknown> } | { ok: false; reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'is not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'is not a JSON object' };
  return { ok: true, value: value as Record<string, unknown> };
}

export type JwkResult = { ok: true; pem: string; kty: string } | { ok: false; reason: string };

/** The account key of private_key.json as PKCS#8 PEM (node:crypto reads RSA and EC JWKs). */
export function jwkToPem(text: string): JwkResult {
  const parsed = parseJsonObject(text);
  if (!parsed.ok) return parsed;
  const jwk = parsed.value as JsonWebKey;
  if (typeof jwk.kty !== 'string') return { ok: false, reason: 'has no "kty"' };
  if (jwk.d === undefined) return { ok: false, reason: 'holds no private key ("d" is missing)' };
  try {
    const key = createPrivateKey({ key: jwk, format: 'jwk' });
    return { ok: true, pem: key.export({ type: 'pkcs8', format: 'pem' }).toString(), kty: jwk.kty };
  } catch (error) {
    return { ok: false, reason: `is not a usable ${jwk.kty} key (${error instanceof Error ? error.message : String(error)})` };
  }
}

export interface Registration {
  url: string;
  /** From body.contact (older certbot releases kept it there), without "mailto:". */
  email?: string;
}

export type RegrResult = { ok: true; value: Registration } | { ok: false; reason: string };

export function parseRegr(text: string): RegrResult {
  const parsed = parseJsonObject(text);
  if (!parsed.ok) return parsed;
  const record = parsed.value;
  const uri = record.uri;
  if (typeof uri !== 'string' || !/^https?:\/\//.test(uri)) return { ok: false, reason: 'has no account "uri"' };
  const body = record.body;
  let email: string | undefined;
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    const contact = (body as Record<string, unknown>).contact;
    if (Array.isArray(contact)) {
      const mail = contact.find((c): c is string => typeof c === 'string' && c.startsWith('mailto:'));
      if (mail !== undefined) email = mail.slice('mailto:'.length);
    }
  }
  return { ok: true, value: { url: uri, ...(email === undefined ? {} : { email }) } };
}
