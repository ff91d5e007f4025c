import { describe, expect, it } from 'vitest';
import {
  decodeTxt,
  encodeTxt,
  normalizeRoute53Name,
  planCleanup,
  planPresent,
  type TxtSet,
} from '../../../../../src/dns/providers/route53/records.js';

const BASE = '_acme-challenge.r53.example.org';
const GXIT = '_acme-challenge.ep.interactivetool.r53.example.org';
const A = 'LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0';
const B = 'qW3oDQ5Tm3-SNWkP1BnJ0dTvBfnJ9C0sK5xVn9b6bBo';

const sets = (...list: TxtSet[]): Map<string, TxtSet | undefined> => new Map(list.map((s) => [s.name, s]));

describe('Route53 TXT value syntax', () => {
  it.each([
    ['plain ACME value', A, `"${A}"`],
    ['empty', '', '""'],
    ['quote and backslash', 'a"b\\c', '"a\\"b\\\\c"'],
    ['non-ASCII and control bytes as octal', 'é\n', '"\\303\\251\\012"'],
  ])('encodes %s', (_, value, raw) => {
    expect(encodeTxt(value)).toBe(raw);
    expect(decodeTxt(raw)).toBe(value);
  });

  it('splits values over 255 bytes into character-strings and joins them again', () => {
    const long = 'x'.repeat(300);
    const raw = encodeTxt(long);
    expect(raw).toBe(`"${'x'.repeat(255)}" "${'x'.repeat(45)}"`);
    expect(decodeTxt(raw)).toBe(long);
  });

  it.each([
    ['unquoted', 'abc', undefined],
    ['unterminated', '"abc', undefined],
    ['nothing', '', undefined],
    ['two strings', '"ab" "cd"', 'abcd'],
    ['escaped quote', '"a\\"b"', 'a"b'],
    ['decimal-looking escape that is not octal', '"\\9x"', '9x'],
  ])('decodes %s', (_, raw, value) => {
    expect(decodeTxt(raw)).toBe(value);
  });

  it.each([
    ['\\052.ep.interactivetool.r53.example.org.', '*.ep.interactivetool.r53.example.org'],
    ['_ACME-Challenge.R53.Example.Org.', '_acme-challenge.r53.example.org'],
    ['r53.example.org', 'r53.example.org'],
  ])('normalizes the name %s', (raw, name) => {
    expect(normalizeRoute53Name(raw)).toBe(name);
  });
});

describe('planPresent', () => {
  it('creates one set per name, base and wildcard values of one name together', () => {
    const changes = planPresent(
      [
        { fqdn: BASE, value: A },
        { fqdn: BASE, value: B },
        { fqdn: GXIT, value: A },
      ],
      new Map(),
      60,
    );
    // Sorted by name, whatever the order of the challenges.
    expect(changes).toEqual([
      { action: 'UPSERT', name: GXIT, ttl: 60, values: [`"${A}"`] },
      { action: 'UPSERT', name: BASE, ttl: 60, values: [`"${A}"`, `"${B}"`] },
    ]);
  });

  it('keeps foreign values exactly as read and the set TTL', () => {
    const changes = planPresent([{ fqdn: BASE, value: A }], sets({ name: BASE, ttl: 300, values: ['"foreign" "split"', '"v=spf1 -all"'] }), 60);
    expect(changes).toEqual([{ action: 'UPSERT', name: BASE, ttl: 300, values: ['"foreign" "split"', '"v=spf1 -all"', `"${A}"`] }]);
  });

  it('needs no change where our values are already there, however they are written', () => {
    expect(planPresent([{ fqdn: BASE, value: A }], sets({ name: BASE, ttl: 60, values: [`"${A.slice(0, 10)}" "${A.slice(10)}"`] }), 60)).toEqual([]);
  });

  it('adds a value given twice only once, and matches names in any case', () => {
    expect(planPresent([{ fqdn: BASE.toUpperCase(), value: A }, { fqdn: BASE, value: A }], new Map(), 60)).toEqual([
      { action: 'UPSERT', name: BASE, ttl: 60, values: [`"${A}"`] },
    ]);
  });
});

describe('planCleanup', () => {
  it('deletes a set holding only our values, with its exact current content', () => {
    expect(planCleanup([{ fqdn: BASE, value: A }, { fqdn: BASE, value: B }], sets({ name: BASE, ttl: 120, values: [`"${B}"`, `"${A}"`] }))).toEqual([
      { action: 'DELETE', name: BASE, ttl: 120, values: [`"${B}"`, `"${A}"`] },
    ]);
  });

  it('writes back the foreign values and a sibling challenge that is not ours to remove', () => {
    expect(planCleanup([{ fqdn: BASE, value: A }], sets({ name: BASE, ttl: 60, values: ['"foreign"', `"${A}"`, `"${B}"`] }))).toEqual([
      { action: 'UPSERT', name: BASE, ttl: 60, values: ['"foreign"', `"${B}"`] },
    ]);
  });

  it('changes nothing where our values are gone or the set does not exist', () => {
    expect(planCleanup([{ fqdn: BASE, value: A }, { fqdn: GXIT, value: A }], sets({ name: BASE, ttl: 60, values: ['"foreign"'] }))).toEqual([]);
  });

  it('keeps values it cannot parse', () => {
    expect(planCleanup([{ fqdn: BASE, value: A }], sets({ name: BASE, ttl: 60, values: ['unquoted', `"${A}"`] }))).toEqual([
      { action: 'UPSERT', name: BASE, ttl: 60, values: ['unquoted'] },
    ]);
  });
});
