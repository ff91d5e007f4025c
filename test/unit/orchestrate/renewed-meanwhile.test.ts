import { describe, expect, test } from 'vitest';
import { renewedMeanwhile } from '../../../src/orchestrate/decide.js';
import type { LineageSnapshot } from '../../../src/renew/facts.js';

const snapshot = (name: string, version?: number): LineageSnapshot =>
  version === undefined
    ? { name }
    : { name, lineage: { state: { name, domains: [name], keyType: 'ecdsa-p256', server: 'https://ca.test/dir', version }, liveVersion: version } };

describe('renewedMeanwhile: lineages another run renewed while this one waited for the lock', () => {
  test.each([
    { name: 'no versions seen: nothing moved', seen: undefined, now: [snapshot('a', 2)], moved: [] },
    { name: 'the same version', seen: new Map([['a', 2]]), now: [snapshot('a', 2)], moved: [] },
    { name: 'a newer version', seen: new Map([['a', 2]]), now: [snapshot('a', 3)], moved: ['a'] },
    { name: 'issued meanwhile', seen: new Map([['a', 0]]), now: [snapshot('a', 1)], moved: ['a'] },
    { name: 'still none', seen: new Map([['a', 0]]), now: [snapshot('a')], moved: [] },
    { name: 'only the one that moved', seen: new Map([['a', 1], ['b', 4]]), now: [snapshot('a', 1), snapshot('b', 5)], moved: ['b'] },
  ])('$name', ({ seen, now, moved }) => {
    expect([...renewedMeanwhile(seen, new Map(now.map((s) => [s.name, s])))]).toEqual(moved);
  });
});
