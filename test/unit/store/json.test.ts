import { describe, expect, it } from 'vitest';
import { parseJsonObject } from '../../../src/store/json.js';

describe('parseJsonObject', () => {
  it.each<[string, string, ReturnType<typeof parseJsonObject>]>([
    ['an object', '{"a":1,"b":[2]}', { ok: true, value: { a: 1, b: [2] } }],
    ['an empty object', '{}', { ok: true, value: {} }],
    ['an array', '[1]', { ok: false, reason: 'does not hold a JSON object' }],
    ['null', 'null', { ok: false, reason: 'does not hold a JSON object' }],
    ['a number', '42', { ok: false, reason: 'does not hold a JSON object' }],
    ['a string', '"x"', { ok: false, reason: 'does not hold a JSON object' }],
  ])('%s', (_, text, expected) => {
    expect(parseJsonObject(text)).toEqual(expected);
  });

  it('says why text is not JSON, with the parser\'s reason', () => {
    const result = parseJsonObject('{"a":');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(/^is not valid JSON \(.+\)$/);
  });
});
