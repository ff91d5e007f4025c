/**
 * The acme-dns credentials file, in the format lego and certbot's acme-dns hook already write, so
 * existing registrations carry over:
 *   {"galaxy.example.org": {"username": "...", "password": "...", "fulldomain": "<uuid>.auth.example.org",
 *                           "subdomain": "<uuid>", "allowfrom": [], "server_url": "https://auth.example.org"}}
 * Keyed by the domain without "*.": a name and its wildcard share one registration. Pure parsing and
 * matching here; reading and writing the file are the caller's.
 */
import { GxitError } from '../../../errors.js';

export interface AcmeDnsAccount {
  username: string;
  /** The API key. A secret: never printed. */
  password: string;
  /** <subdomain>.<acme-dns domain>: where the TXT values are served, the CNAME target. */
  fulldomain: string;
  subdomain: string;
  allowfrom?: string[];
  /** The acme-dns server this registration belongs to (lego, certbot); dns.acme_dns.api otherwise. */
  server_url?: string;
}

/** domain (lower case, no "*.", no trailing dot) -> registration. */
export type AcmeDnsCredentials = Map<string, AcmeDnsAccount>;

export const domainKey = (domain: string): string => domain.trim().toLowerCase().replace(/\.$/, '').replace(/^\*\./, '');

/** Parses the file's text; `file` names it in errors. */
export function parseCredentials(text: string, file: string): AcmeDnsCredentials {
  let doc: unknown;
  try {
    doc = text.trim() === '' ? {} : JSON.parse(text);
  } catch (error) {
    throw new GxitError('CONFIG_INVALID', `${file}: not JSON (${error instanceof Error ? error.message : String(error)})`, {
      subject: file,
      fix: 'restore the file from a backup, or move it away and run gxit-cert acme-dns register again',
    });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw invalid(file, 'the top level is not an object keyed by domain');
  }
  const out: AcmeDnsCredentials = new Map();
  for (const [domain, entry] of Object.entries(doc)) {
    if (typeof entry !== 'object' || entry === null) throw invalid(file, `the entry for ${domain} is not an object`);
    const e = entry as Record<string, unknown>;
    for (const field of ['username', 'password', 'fulldomain', 'subdomain'] as const) {
      if (typeof e[field] !== 'string' || e[field] === '') throw invalid(file, `the entry for ${domain} has no "${field}"`);
    }
    const account: AcmeDnsAccount = {
      username: e.username as string,
      password: e.password as string,
      fulldomain: (e.fulldomain as string).toLowerCase().replace(/\.$/, ''),
      subdomain: e.subdomain as string,
    };
    if (Array.isArray(e.allowfrom)) account.allowfrom = e.allowfrom.map(String);
    if (typeof e.server_url === 'string' && e.server_url !== '') account.server_url = e.server_url;
    out.set(domainKey(domain), account);
  }
  return out;
}

/** The file's text: what lego writes (indented JSON keyed by domain), with a trailing newline. */
export function serializeCredentials(credentials: AcmeDnsCredentials): string {
  const doc: Record<string, AcmeDnsAccount> = {};
  for (const [domain, account] of [...credentials].sort(([a], [b]) => a.localeCompare(b))) doc[domain] = account;
  return `${JSON.stringify(doc, null, 2)}\n`;
}

function invalid(file: string, what: string): GxitError {
  return new GxitError('CONFIG_INVALID', `${file}: ${what}`, {
    subject: file,
    fix: 'each entry needs username, password, fulldomain and subdomain (the format lego and certbot write); or run gxit-cert acme-dns register',
  });
}

/** The domains of a certificate without a registration (pure). */
export function unregistered(domains: string[], credentials: AcmeDnsCredentials): string[] {
  return [...new Set(domains.map(domainKey))].filter((d) => !credentials.has(d));
}

/** acme-dns keeps the two latest values per subdomain: more in one order would push out a live one. */
export const VALUES_PER_SUBDOMAIN = 2;

/**
 * Before ordering: every domain has a registration, and no subdomain would have to hold more than
 * two values at once (a name and its wildcard: two; a third name sharing the subdomain: too many).
 */
export function checkOrder(certificate: string, domains: string[], credentials: AcmeDnsCredentials, file: string): void {
  const missing = unregistered(domains, credentials);
  if (missing.length > 0) {
    throw new GxitError('CONFIG_INVALID', `${certificate}: no acme-dns registration for ${missing.join(', ')} in ${file}`, {
      subject: certificate,
      fix: 'run gxit-cert acme-dns register and create the CNAME records it prints',
    });
  }
  const perSubdomain = new Map<string, string[]>();
  for (const domain of new Set(domains.map((d) => d.trim().toLowerCase()))) {
    const account = credentials.get(domainKey(domain)) as AcmeDnsAccount;
    perSubdomain.set(account.fulldomain, [...(perSubdomain.get(account.fulldomain) ?? []), domain]);
  }
  for (const [fulldomain, sharing] of perSubdomain) {
    if (sharing.length > VALUES_PER_SUBDOMAIN) {
      throw new GxitError('CONFIG_INVALID', `${certificate}: ${sharing.join(', ')} share the acme-dns subdomain ${fulldomain}, which keeps only ${VALUES_PER_SUBDOMAIN} values at a time`, {
        subject: certificate,
        fix: `give all but one base name (with its wildcard) its own registration: remove their entries from ${file} and run gxit-cert acme-dns register`,
      });
    }
  }
}
