import { describe, expect, test } from 'vitest';
import { checkProfile, offeredProfiles } from '../../../src/acme/profiles.js';

describe('ACME profiles', () => {
  test('offered: the names of meta.profiles, sorted; none without', () => {
    expect(offeredProfiles({ meta: { profiles: { tlsserver: '45 d', classic: '90 d' } } })).toEqual(['classic', 'tlsserver']);
    expect(offeredProfiles({ meta: {} })).toEqual([]);
    expect(offeredProfiles({ meta: { profiles: ['classic'] } })).toEqual([]);
    expect(offeredProfiles(null)).toEqual([]);
  });
  test('an unknown profile is CONFIG_INVALID naming the offered ones', () => {
    expect(() => checkProfile('classic', ['classic'], 'https://ca/dir', 'g')).not.toThrow();
    expect(() => checkProfile('x', ['classic', 'tlsserver'], 'https://ca/dir', 'g')).toThrow(/does not offer the profile "x" \(it offers classic, tlsserver\)/);
    expect(() => checkProfile('x', [], 'https://ca/dir', 'g')).toThrow(/it offers no profiles/);
  });
});
