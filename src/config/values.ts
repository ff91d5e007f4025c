/**
 * Pure parsers for the values a configuration holds: domain names, server addresses, ACME directory
 * URLs, TSIG algorithm names, e-mail addresses, base64 secrets. Each returns the normalized value or
 * a reason (one phrase, no secret in it). Usable for command-line flags too.
 */
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { hasUnsafeChars } from '../redact.js';
import {
  KEY_TYPES,
  LETSENCRYPT_DIRECTORY,
  LETSENCRYPT_STAGING_DIRECTORY,
  type KeyType,
  type ServerAddress,
  type TsigAlgorithm,
} from './types.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(reason: string): Parsed<T> => ({ ok: false, reason });

// ---------------------------------------------------------------------------------------------- TSIG

/** The six TSIG HMAC algorithms by their canonical (RFC 8945) names, strongest first. */
export const TSIG_ALGORITHMS: readonly TsigAlgorithm[] = [
  'hmac-sha512',
  'hmac-sha384',
  'hmac-sha256',
  'hmac-sha224',
  'hmac-sha1',
  'hmac-md5.sig-alg.reg.int',
];

/** How the algorithms are written in a configuration (BIND / certbot spelling). */
export const TSIG_ALGORITHM_SPELLINGS = 'hmac-sha512, hmac-sha384, hmac-sha256, hmac-sha224, hmac-sha1, hmac-md5';

/**
 * Canonical TSIG algorithm for a name in any case, with or without a trailing dot:
 * "HMAC-SHA512", "hmac-sha512.", "hmac-md5", "HMAC-MD5.SIG-ALG.REG.INT." ... Undefined when unknown.
 * The DNS code (dns/tsig.ts) uses this parser too.
 */
export function parseTsigAlgorithm(text: string): TsigAlgorithm | undefined {
  const name = text.trim().toLowerCase().replace(/\.$/, '');
  if (name === 'hmac-md5' || name === 'hmac-md5.sig-alg.reg.int') return 'hmac-md5.sig-alg.reg.int';
  return TSIG_ALGORITHMS.find((algorithm) => algorithm === name);
}

/** A TSIG key name: lower case, no trailing dot; labels of letters, digits, `-` and `_`. */
export function normalizeKeyName(text: string): Parsed<string> {
  const name = text.trim().toLowerCase().replace(/\.$/, '');
  if (name === '') return fail('is empty');
  if (name.length > 253) return fail('is longer than 253 characters');
  for (const label of name.split('.')) {
    if (label === '') return fail('has an empty label (two dots in a row)');
    if (label.length > 63) return fail('has a label longer than 63 characters');
    if (!/^[a-z0-9_-]+$/.test(label)) return fail('may only contain letters, digits, "-", "_" and dots');
  }
  return ok(name);
}

/**
 * Decodes a base64 secret strictly (standard alphabet, padding optional, whitespace ignored).
 * Undefined when it is not base64 or decodes to nothing. Never echo the input.
 */
export function decodeBase64Secret(text: string): Buffer | undefined {
  const compact = text.replace(/\s+/g, '');
  if (compact === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return undefined;
  const unpadded = compact.replace(/=+$/, '');
  if (unpadded.length % 4 === 1) return undefined;
  if (compact.includes('=') && compact.length % 4 !== 0) return undefined;
  const secret = Buffer.from(compact, 'base64');
  return secret.length > 0 ? secret : undefined;
}

// -------------------------------------------------------------------------------------- key types

export const KEY_TYPE_SPELLINGS = KEY_TYPES.join(', ');

export function parseKeyType(text: string): KeyType | undefined {
  const name = text.trim().toLowerCase();
  return KEY_TYPES.find((type) => type === name);
}

// ---------------------------------------------------------------------------------------- domains

/**
 * A certificate domain: lower case (IDNs as A-labels), trailing dot stripped, `*.` only as the whole
 * first label, at least two labels, valid hostname labels, not an IP address.
 */
export function normalizeDomain(text: string): Parsed<string> {
  let name = text.trim().toLowerCase();
  if (name === '') return fail('is empty');
  if (/\s/.test(name)) return fail('contains white space');
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (isIP(name) !== 0 || isIP(name.replace(/^\[|\]$/g, '')) !== 0) return fail('is an IP address; certificates here are for domain names');
  let wildcard = false;
  if (name.startsWith('*.')) {
    wildcard = true;
    name = name.slice(2);
  }
  if (name.includes('*')) return fail('may contain "*" only as the whole first label ("*.example.org")');
  if (/[^\x00-\x7f]/.test(name)) {
    const ascii = domainToASCII(name);
    if (ascii === '') return fail('is not a valid international domain name');
    name = ascii;
  }
  const checked = checkHostname(name, 2);
  if (!checked.ok) return checked;
  if (/^[0-9]+$/.test(name.split('.').at(-1) ?? '')) return fail('ends in a numeric label');
  return ok(wildcard ? `*.${name}` : name);
}

/** A zone name: like a domain, but no wildcard; a single label (a TLD) is allowed. */
export function normalizeZone(text: string): Parsed<string> {
  const name = text.trim().toLowerCase().replace(/\.$/, '');
  if (name === '') return fail('is empty');
  if (name.includes('*')) return fail('is a zone name and cannot contain "*"');
  return checkHostname(name, 1);
}

function checkHostname(name: string, minLabels: number): Parsed<string> {
  if (name.length > 253) return fail('is longer than 253 characters');
  const labels = name.split('.');
  if (labels.some((label) => label === '')) return fail('has an empty label (a leading dot or two dots in a row)');
  if (labels.length < minLabels) return fail('needs at least two labels ("galaxy.example.org")');
  for (const label of labels) {
    if (label.length > 63) return fail(`has a label longer than 63 characters`);
    if (!/^[a-z0-9-]+$/.test(label)) return fail(`has an invalid label "${label}" (letters, digits and "-" only)`);
    if (label.startsWith('-') || label.endsWith('-')) return fail(`has a label "${label}" that starts or ends with "-"`);
  }
  return ok(name);
}

/** A lineage name: a single directory name. */
export function checkLineageName(text: string): Parsed<string> {
  const name = text.trim();
  if (name === '') return fail('is empty');
  if (name.length > 128) return fail('is longer than 128 characters');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) return fail('must start with a letter or digit and contain only letters, digits, ".", "_" and "-"');
  return ok(name);
}

// -------------------------------------------------------------------------------------- addresses

/** "host:port", with an IPv6 address in brackets: how every message names a server. */
export function formatServerAddress(server: ServerAddress): string {
  return server.host.includes(':') ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
}

/**
 * A DNS server: `host`, `host:port`, `IPv6`, or `[IPv6]:port`. `requireIp` rejects host names.
 * Returns whether a port was written, so callers can detect a conflict with a separate port key.
 */
export function parseServerAddress(text: string, defaultPort: number, requireIp: boolean): Parsed<ServerAddress & { portGiven: boolean }> {
  const raw = text.trim();
  if (raw === '') return fail('is empty');
  let host = raw;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(raw);
  if (bracketed) {
    host = bracketed[1] ?? '';
    portText = bracketed[2];
    if (isIP(host) !== 6) return fail('has brackets around something that is not an IPv6 address');
  } else if (isIP(raw) === 6) {
    host = raw;
  } else if (raw.includes(':')) {
    const at = raw.lastIndexOf(':');
    host = raw.slice(0, at);
    portText = raw.slice(at + 1);
    if (host.includes(':')) return fail('looks like an IPv6 address with a port: write it as "[address]:port"');
  }
  let port = defaultPort;
  if (portText !== undefined) {
    const parsed = parsePort(portText);
    if (parsed === undefined) return fail(`has an invalid port "${portText}" (1-65535)`);
    port = parsed;
  }
  if (isIP(host) === 0) {
    if (requireIp) return fail('must be an IP address (optionally with :port), not a host name');
    const checked = checkHostname(host.toLowerCase().replace(/\.$/, ''), 1);
    if (!checked.ok) return fail(`is neither an IP address nor a host name: it ${checked.reason}`);
    host = checked.value;
  }
  return ok({ host, port, portGiven: portText !== undefined });
}

function parsePort(text: string): number | undefined {
  if (!/^[0-9]{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** Hosts for which plain http is allowed (test CAs and fakes on this machine). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

/** An https URL (http only for localhost / 127.x / ::1). */
export function parseServiceUrl(text: string): Parsed<string> {
  const raw = text.trim();
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail('is not a URL');
  }
  if (url.protocol === 'http:') {
    if (!isLoopbackHost(url.hostname)) return fail('uses http, which is allowed only for localhost and 127.x addresses');
  } else if (url.protocol !== 'https:') {
    return fail(`uses ${url.protocol.replace(/:$/, '')}, not https`);
  }
  if (url.username !== '' || url.password !== '') return fail('must not contain a user name or password');
  return ok(url.href);
}

export const ACME_SERVER_NAMES: Readonly<Record<string, string>> = {
  letsencrypt: LETSENCRYPT_DIRECTORY,
  'letsencrypt-staging': LETSENCRYPT_STAGING_DIRECTORY,
};

/** `letsencrypt`, `letsencrypt-staging` or an ACME directory URL. */
export function parseAcmeServer(text: string): Parsed<string> {
  const named = ACME_SERVER_NAMES[text.trim().toLowerCase()];
  if (named !== undefined) return ok(named);
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text.trim())) return fail('is neither letsencrypt, letsencrypt-staging nor a directory URL');
  return parseServiceUrl(text);
}

// ---------------------------------------------------------------------------------------- e-mail

/** A plausible e-mail address: one "@", a local part without spaces, a domain with a dot. */
export function checkEmail(text: string): Parsed<string> {
  const address = text.trim();
  // Control characters, NUL, bidirectional marks and U+FFFD (what invalid UTF-8 decodes to) would end up
  // in the CA's account record and in every message that names the address.
  if (hasUnsafeChars(address)) return fail('contains control characters, invisible or bidirectional marks, or invalid UTF-8');
  if (/[^\x21-\x7e]/.test(address.slice(address.lastIndexOf('@') + 1))) return fail('is not an e-mail address (its domain must be written in ASCII, e.g. xn--...)');
  if (address.startsWith('mailto:')) return fail('starts with "mailto:"');
  const at = address.lastIndexOf('@');
  if (at <= 0 || at !== address.indexOf('@')) return fail('is not an e-mail address');
  const local = address.slice(0, at);
  const domain = address.slice(at + 1).toLowerCase();
  if (/[\s<>(),;:"\\[\]]/.test(local) || local.length > 64) return fail('is not an e-mail address');
  const checked = checkHostname(domain.replace(/\.$/, ''), 2);
  if (!checked.ok) return fail('is not an e-mail address (its domain is not valid)');
  return ok(`${local}@${checked.value}`);
}

// ---------------------------------------------------------------------------------- showing values

/**
 * How values are quoted in messages: one redaction for the whole tool (src/redact.ts), so a TSIG secret
 * or an AWS key written under the wrong key, or a URL password, is never echoed.
 */
export { looksLikeSecret, showValue } from '../redact.js';

// ----------------------------------------------------------------------------------- suggestions

function normalizeForMatch(text: string): string {
  return text.toLowerCase().replace(/[-_\s]/g, '');
}

/** Damerau-Levenshtein distance (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i += 1) {
    for (let j = 1; j < cols; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const row = d[i]!;
      const prev = d[i - 1]!;
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The candidate closest to `word` when it is close enough to be a likely typo, else undefined. */
export function closest(word: string, candidates: readonly string[], maxDistance?: number): string | undefined {
  const target = normalizeForMatch(word);
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(target, normalizeForMatch(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const limit = maxDistance ?? Math.max(1, Math.min(3, Math.floor(target.length / 3)));
  return bestDistance <= limit ? best : undefined;
}
