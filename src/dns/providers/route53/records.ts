/**
 * Route53 TXT record sets: value encoding and the pure planning of change batches.
 *
 * Route53 replaces a whole record set per change (UPSERT), so adding a challenge value means writing
 * the set with every value already there plus ours, and removing one means writing the set without it.
 * Values already present are carried over exactly as Route53 returned them (foreign values may use
 * escapes or several character-strings); only our own values are encoded here.
 */
import type { TxtRecord } from '../../provider.js';

/** A TXT record set as read from a hosted zone. `values` are Route53's quoted form, as returned. */
export interface TxtSet {
  /** Owner name: lower case, no trailing dot, escapes decoded. */
  name: string;
  ttl: number;
  values: string[];
}

/** One change of a batch; DELETE carries the exact set as read (Route53 rejects anything else). */
export interface TxtChange {
  action: 'UPSERT' | 'DELETE';
  name: string;
  ttl: number;
  values: string[];
}

/** Longest character-string of a TXT record, in bytes. */
const MAX_STRING = 255;

/**
 * A value in Route53's TXT syntax: double quotes, `\"` and `\\`, octal `\ooo` for bytes outside
 * printable ASCII; values over 255 bytes split into several character-strings (DNS joins them).
 */
export function encodeTxt(value: string): string {
  const bytes = Buffer.from(value, 'utf8');
  const strings: string[] = [];
  for (let start = 0; start < bytes.length || strings.length === 0; start += MAX_STRING) {
    let text = '';
    for (const byte of bytes.subarray(start, start + MAX_STRING)) {
      if (byte === 0x22 || byte === 0x5c) text += `\\${String.fromCharCode(byte)}`;
      else if (byte >= 0x20 && byte <= 0x7e) text += String.fromCharCode(byte);
      else text += `\\${byte.toString(8).padStart(3, '0')}`;
    }
    strings.push(`"${text}"`);
  }
  return strings.join(' ');
}

/**
 * The value a Route53 TXT value stands for (character-strings joined), or undefined when it is not
 * in the quoted syntax. Only used to recognise our own values among what is there.
 */
export function decodeTxt(raw: string): string | undefined {
  const bytes: number[] = [];
  let i = 0;
  let strings = 0;
  while (i < raw.length) {
    const c = raw[i]!;
    if (c === ' ' || c === '\t') {
      i += 1;
      continue;
    }
    if (c !== '"') return undefined;
    i += 1;
    let closed = false;
    while (i < raw.length) {
      const d = raw[i]!;
      if (d === '"') {
        closed = true;
        i += 1;
        break;
      }
      if (d === '\\') {
        const octal = /^[0-7]{3}/.exec(raw.slice(i + 1, i + 4));
        if (octal) {
          bytes.push(parseInt(octal[0], 8) & 0xff);
          i += 4;
        } else if (i + 1 < raw.length) {
          bytes.push(...Buffer.from(raw[i + 1]!, 'utf8'));
          i += 2;
        } else {
          return undefined;
        }
        continue;
      }
      bytes.push(...Buffer.from(d, 'utf8'));
      i += 1;
    }
    if (!closed) return undefined;
    strings += 1;
  }
  return strings === 0 ? undefined : Buffer.from(bytes).toString('utf8');
}

/**
 * A name as Route53 returns it (`\052.example.org.`, any case) in the form the rest of the tool
 * uses: lower case, escapes decoded, no trailing dot.
 */
export function normalizeRoute53Name(name: string): string {
  const decoded = name.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
  return decoded.toLowerCase().replace(/\.$/, '');
}

/** Our values per owner name, each once; names sorted, so a batch does not depend on challenge order. */
export function valuesByName(records: readonly TxtRecord[]): Map<string, string[]> {
  const byName = new Map<string, string[]>();
  for (const { fqdn, value } of records) {
    const name = normalizeRoute53Name(fqdn);
    const values = byName.get(name) ?? [];
    if (!values.includes(value)) values.push(value);
    byName.set(name, values);
  }
  return new Map([...byName].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function isOneOf(raw: string, values: readonly string[]): boolean {
  const decoded = decodeTxt(raw);
  return decoded !== undefined && values.includes(decoded);
}

/**
 * Changes that add our values: per name one UPSERT of the current set plus the values missing from it
 * (base and wildcard values at one name go into one set). A set that exists keeps its TTL; a name that
 * already holds all our values needs no change.
 */
export function planPresent(
  records: readonly TxtRecord[],
  current: ReadonlyMap<string, TxtSet | undefined>,
  ttl: number,
): TxtChange[] {
  const changes: TxtChange[] = [];
  for (const [name, ours] of valuesByName(records)) {
    const set = current.get(name);
    const there = set?.values ?? [];
    const missing = ours.filter((value) => !there.some((raw) => decodeTxt(raw) === value));
    if (missing.length === 0) continue;
    changes.push({ action: 'UPSERT', name, ttl: set?.ttl ?? ttl, values: [...there, ...missing.map(encodeTxt)] });
  }
  return changes;
}

/**
 * Changes that remove exactly our values: the rest of a set is written back (UPSERT); a set holding
 * nothing else is deleted with its exact current content. Names without our values need no change.
 */
export function planCleanup(records: readonly TxtRecord[], current: ReadonlyMap<string, TxtSet | undefined>): TxtChange[] {
  const changes: TxtChange[] = [];
  for (const [name, ours] of valuesByName(records)) {
    const set = current.get(name);
    if (set === undefined) continue;
    const rest = set.values.filter((raw) => !isOneOf(raw, ours));
    if (rest.length === set.values.length) continue;
    changes.push(
      rest.length === 0
        ? { action: 'DELETE', name, ttl: set.ttl, values: [...set.values] }
        : { action: 'UPSERT', name, ttl: set.ttl, values: rest },
    );
  }
  return changes;
}
