/**
 * One redaction for everything the tool echoes back: configuration values and keys, URLs and paths.
 *
 * A user's input is quoted in messages so they can find it, but some inputs are secrets written in the
 * wrong place (a TSIG secret as a mapping key, a password in a URL, a shadow file given as --config),
 * and any input may hold control characters that would split one error line into several, or
 * bidirectional marks that make a line read differently than it is. So:
 *
 * - `redactUrlUserinfo`: `scheme://user:password@host` -> `scheme://user:***@host` anywhere in a text;
 * - `looksLikeSecret`: base64 or hex tokens, crypt(3) hashes, PEM blocks;
 * - `escapeControl`: C0/C1 controls, DEL, bidi and zero-width marks as \u escapes;
 * - `showValue`/`showKey`/`showPath`: the three ways a value, a key or a path appears in a message.
 */

/**
 * Userinfo with a password in any `scheme://` URL of the text. The lookbehind and the bounded scheme
 * keep it linear: without them a long run of letters costs quadratic time (100,000 took 19 s).
 */
const URL_USERINFO = /(?<![a-z0-9+.-])([a-z][a-z0-9+.-]{0,31}:\/\/)([^\s/?#@:]*):([^\s/?#@]*)@/gi;

export function redactUrlUserinfo(text: string): string {
  return text.replace(URL_USERINFO, (_match, scheme: string, user: string) => `${scheme}${looksLikeSecret(user) ? '***' : user}:***@`);
}

/** C0 and C1 controls, DEL, bidirectional overrides/isolates/marks, zero-width characters, BOM, U+2028/9. */
// eslint-disable-next-line no-control-regex
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff\ufffd]/g;

export function hasUnsafeChars(text: string): boolean {
  UNSAFE_CHARS.lastIndex = 0;
  const found = UNSAFE_CHARS.test(text);
  UNSAFE_CHARS.lastIndex = 0;
  return found;
}

/** The text with every unsafe character written as \uXXXX (so a message stays one honest line). */
export function escapeControl(text: string): string {
  return text.replace(UNSAFE_CHARS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** ANSI escape sequences: CSI (colours, cursor moves), OSC (window titles, hyperlinks) and two-byte escapes. */
// eslint-disable-next-line no-control-regex
const ANSI_ESCAPE = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[@-Z\\-_])|\u009b[0-?]*[ -/]*[@-~]/g;

/**
 * One line of another program's output (a hook's), safe to print: ANSI escape sequences removed (they
 * could recolour, move the cursor or retitle the terminal), a trailing CR dropped, and every other
 * unsafe character escaped as by escapeControl.
 */
export function cleanOutputLine(line: string): string {
  return escapeControl(line.replace(ANSI_ESCAPE, '').replace(/\r$/, ''));
}

/**
 * Whether a value looks like a secret: a long base64 token (TSIG secret, AWS secret key), a long hex
 * string, a crypt(3) password hash (`$6$salt$hash`) or a PEM block.
 */
export function looksLikeSecret(value: string): boolean {
  const text = value.trim();
  if (text.includes('-----BEGIN')) return true;
  if (/^\$[0-9a-z]{1,3}\$[^\s$]*\$/i.test(text) || /^\$[0-9a-z]{1,3}\$[./0-9A-Za-z]{8,}/.test(text)) return true;
  if (text.length >= 32 && /^[0-9a-f]+$/i.test(text)) return true;
  if (text.length < 16) return false;
  const mixed = /[a-z]/.test(text) && /[A-Z]/.test(text) && /[0-9]/.test(text);
  // Standard base64 (a path such as /var/lib/gxit-cert is not one: it starts with "/").
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(text) && !text.startsWith('/')) return /[+/=]/.test(text) || mixed;
  // base64url tokens (API tokens, EAB keys).
  return text.length >= 20 && /^[A-Za-z0-9_-]+$/.test(text) && mixed;
}

const SECRET_PLACEHOLDER = '(a value that looks like a secret, not shown)';

/** A value quoted for a message: redacted when it looks like a secret, userinfo masked, controls escaped, at most 80 characters. */
export function showValue(value: string): string {
  if (looksLikeSecret(value) || value.split(/[\s:]+/).some((part) => part.length >= 16 && looksLikeSecret(part))) return SECRET_PLACEHOLDER;
  const clean = escapeControl(redactUrlUserinfo(value));
  const shown = clean.length > 80 ? `${clean.slice(0, 77)}...` : clean;
  return JSON.stringify(shown).replace(/\\\\u/g, '\\u');
}

/** Keys the configuration can have look like names; anything else is not echoed verbatim. */
const PLAIN_KEY = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * A mapping key as it appears in a key path: itself when it is a plain name, else a placeholder
 * (a key that is a secret, a line of a non-YAML file, or one with control characters).
 */
export function showKey(key: string): string {
  if (PLAIN_KEY.test(key) && !looksLikeSecret(key)) return key;
  if (!looksLikeSecret(key) && !/[:$]/.test(key) && key.length <= 64 && !hasUnsafeChars(key)) return JSON.stringify(key);
  return '(a key that is not a name, not shown)';
}

/** A file path for a message: controls escaped (a newline in a path must not start a new line). */
export function showPath(path: string): string {
  return escapeControl(path);
}

/** A whole message line: URL userinfo masked and controls escaped (the last guard before printing). */
export function redactLine(line: string): string {
  return escapeControl(redactUrlUserinfo(line));
}
