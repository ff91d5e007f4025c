import { describe, expect, test } from 'vitest';
import { nextBackoff, notifiedLineage } from '../../../src/cli/watch-command.js';

describe('watch', () => {
  test('reconnect backoff doubles from 0.5 s up to 30 s', () => {
    const waits: number[] = [];
    let wait: number | undefined;
    for (let i = 0; i < 9; i++) waits.push((wait = nextBackoff(wait)));
    expect(waits).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  test.each([
    { payload: '{"lineage":"a.example.org","version":3}', expected: { name: 'a.example.org', version: 3 } },
    { payload: '{"lineage":"a.example.org"}', expected: { name: 'a.example.org' } },
    { payload: '{"lineage":"a.example.org","version":"3"}', expected: { name: 'a.example.org' } },
    { payload: '{"lineage":"other.example.org","version":3}', expected: undefined },
    { payload: '{"version":3}', expected: undefined },
    { payload: 'not json', expected: undefined },
    { payload: '["a.example.org"]', expected: undefined },
    { payload: undefined, expected: undefined },
  ])('notification $payload names $expected', ({ payload, expected }) => {
    expect(notifiedLineage(payload, new Set(['a.example.org']))).toEqual(expected);
  });
});
