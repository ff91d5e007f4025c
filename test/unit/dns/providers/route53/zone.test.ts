import { describe, expect, it } from 'vitest';
import {
  chooseZone,
  endsLookup,
  zoneChoiceError,
  zoneNameCandidates,
  type HostedZoneInfo,
} from '../../../../../src/dns/providers/route53/zone.js';

const pub = (id: string, name: string): HostedZoneInfo => ({ id, name, private: false });
const priv = (id: string, name: string): HostedZoneInfo => ({ id, name, private: true });
const NAME = '_acme-challenge.ep.interactivetool.r53.example.org';

describe('zoneNameCandidates', () => {
  it('lists the name and its parents, longest first', () => {
    expect(zoneNameCandidates('_acme-challenge.r53.example.org')).toEqual(['_acme-challenge.r53.example.org', 'r53.example.org', 'example.org', 'org']);
  });
});

describe('chooseZone', () => {
  it.each<[string, HostedZoneInfo[], boolean, ReturnType<typeof chooseZone>]>([
    ['the only public zone', [pub('Z1', 'example.org')], false, { kind: 'found', zone: pub('Z1', 'example.org') }],
    ['the longest matching suffix', [pub('Z1', 'example.org'), pub('Z2', 'r53.example.org')], false, { kind: 'found', zone: pub('Z2', 'r53.example.org') }],
    ['a zone delegated for the challenge name itself', [pub('Z1', 'example.org'), pub('Z3', NAME)], false, { kind: 'found', zone: pub('Z3', NAME) }],
    ['not a zone that merely ends in the same letters', [pub('Z1', 'example.org'), pub('Z9', 'le.org'), pub('Z8', 'xr53.example.org')], false, { kind: 'found', zone: pub('Z1', 'example.org') }],
    ['the public zone where a private one of the same name exists', [priv('ZP', 'r53.example.org'), pub('ZQ', 'r53.example.org')], false, { kind: 'found', zone: pub('ZQ', 'r53.example.org') }],
    ['the private zone with private_zone', [priv('ZP', 'r53.example.org'), pub('ZQ', 'r53.example.org')], true, { kind: 'found', zone: priv('ZP', 'r53.example.org') }],
    ['a shorter public zone over a longer private one', [priv('ZP', 'r53.example.org'), pub('Z1', 'example.org')], false, { kind: 'found', zone: pub('Z1', 'example.org') }],
    ['nothing in another domain', [pub('Z1', 'example.net')], false, { kind: 'none', otherKind: [] }],
    ['nothing public, but a private zone', [priv('ZP', 'r53.example.org')], false, { kind: 'none', otherKind: [priv('ZP', 'r53.example.org')] }],
    [
      'ambiguity between two public zones of one name',
      [pub('ZB', 'r53.example.org'), pub('ZA', 'r53.example.org'), pub('Z1', 'example.org')],
      false,
      { kind: 'ambiguous', name: 'r53.example.org', candidates: [pub('ZA', 'r53.example.org'), pub('ZB', 'r53.example.org')] },
    ],
    ['no ambiguity when the twins are private and a public zone is wanted', [priv('ZB', 'r53.example.org'), priv('ZA', 'r53.example.org'), pub('ZC', 'r53.example.org')], false, { kind: 'found', zone: pub('ZC', 'r53.example.org') }],
  ])('chooses %s', (_, zones, privateZone, expected) => {
    expect(chooseZone(NAME, zones, privateZone)).toEqual(expected);
  });

  it('stops looking up at the first candidate name holding a zone of the wanted kind', () => {
    expect(endsLookup([priv('ZP', 'r53.example.org')], false)).toBe(false);
    expect(endsLookup([priv('ZP', 'r53.example.org')], true)).toBe(true);
    expect(endsLookup([], false)).toBe(false);
  });
});

describe('zoneChoiceError', () => {
  it('lists the ambiguous candidates and suggests hosted_zone_id', () => {
    const choice = chooseZone(NAME, [pub('ZB', 'r53.example.org'), pub('ZA', 'r53.example.org')], false);
    if (choice.kind === 'found') throw new Error('expected ambiguity');
    const error = zoneChoiceError(NAME, choice, false);
    expect(error.code).toBe('DNS_ZONE_NOT_FOUND');
    expect(error.message).toBe(`2 public Route53 hosted zones are named r53.example.org (ZA, ZB); gxit-cert does not guess which one holds ${NAME}`);
    expect(error.fix).toContain('dns.route53.hosted_zone_id');
  });

  it('points at private_zone when only a private zone matches', () => {
    const error = zoneChoiceError(NAME, { kind: 'none', otherKind: [priv('ZP', 'r53.example.org')] }, false);
    expect(error.message).toBe(`no public Route53 hosted zone holds ${NAME}; only the private zone r53.example.org (ZP) does`);
    expect(error.fix).toContain('private_zone: true');
  });

  it('says which account to check when nothing matches', () => {
    const error = zoneChoiceError(NAME, { kind: 'none', otherKind: [] }, true);
    expect(error.message).toBe(`no private Route53 hosted zone of this AWS account holds ${NAME}`);
  });
});
