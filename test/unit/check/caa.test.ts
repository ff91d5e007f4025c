import { describe, expect, it } from 'vitest';
import { evaluateCaa, gatherCaa, parseIssueValue, type CaaFacts, type CaIdentities, type CaaLookup } from '../../../src/check/caa.js';
import { RRType } from '../../../src/dns/message.js';
import { FakeDns, galaxyZone } from './fake-zone.js';

const resolvers = [{ host: '192.0.2.53', port: 53 }];
const LE: CaIdentities = { identities: ['letsencrypt.org'], source: 'the ACME directory' };

describe('parseIssueValue', () => {
  it.each([
    ['letsencrypt.org', 'letsencrypt.org', {}],
    ['  LetsEncrypt.org. ', 'letsencrypt.org', {}],
    [';', '', {}],
    ['', '', {}],
    ['letsencrypt.org; validationmethods=dns-01,http-01; accounturi=https://ca/acct/1', 'letsencrypt.org', { validationmethods: 'dns-01,http-01', accounturi: 'https://ca/acct/1' }],
  ])('%j', (value, issuer, params) => {
    expect(parseIssueValue(value)).toEqual({ issuer, params });
  });
});

const prop = (tag: string, value: string, flags = 0) => ({ flags, tag, value });

/** CAA at the host (galaxy.example.org), nothing above; the lookups a climb from `domain` makes. */
function at(domain: string, records: ReturnType<typeof prop>[], owner = 'galaxy.example.org'): CaaFacts {
  const start = domain.replace(/^\*\./, '');
  const names: string[] = [];
  for (let n = start; n !== ''; n = n.includes('.') ? n.slice(n.indexOf('.') + 1) : '') names.push(n);
  const lookups: CaaLookup[] = names.map((name) =>
    name === owner && records.length > 0 ? { name, kind: 'records', records } : name === 'org' ? { name, kind: 'refused' } : { name, kind: 'empty' },
  );
  return { domain, zone: 'example.org', lookups };
}

const BASE = 'galaxy.example.org';
const WILD = '*.ep.interactivetool.galaxy.example.org';

describe('evaluateCaa', () => {
  it.each<[string, string, ReturnType<typeof prop>[], CaIdentities, 'ok' | 'warn' | 'fail', RegExp, RegExp?]>([
    ['no CAA at all', BASE, [], LE, 'ok', /no CAA records from galaxy\.example\.org up to the root: any CA may issue \(org not checked/],
    ['issue allows the CA', BASE, [prop('issue', 'letsencrypt.org')], LE, 'ok', /CAA at galaxy\.example\.org allows letsencrypt\.org \(issue\)/],
    ['issue allows the CA, wildcard name', WILD, [prop('issue', 'letsencrypt.org')], LE, 'ok', /allows letsencrypt\.org \(issue\)/],
    ['issue allows another CA', BASE, [prop('issue', 'pki.goog')], LE, 'fail', /allows only pki\.goog \(issue\), not this CA \(letsencrypt\.org from the ACME directory\)/, /add the record galaxy\.example\.org\. CAA 0 issue "letsencrypt\.org"/],
    ['issue ";" forbids every CA', BASE, [prop('issue', ';')], LE, 'fail', /forbids every CA \(issue ";"\)/, /replace it/],
    ['issuewild only, base name: not restricted', BASE, [prop('issuewild', 'pki.goog')], LE, 'ok', /has no issue property \(issuewild applies to wildcard names only\)/],
    ['issuewild only, wildcard: another CA', WILD, [prop('issuewild', 'pki.goog')], LE, 'fail', /allows only pki\.goog \(issuewild\)/, /CAA 0 issuewild "letsencrypt\.org"/],
    ['issuewild replaces issue for wildcards', WILD, [prop('issue', 'letsencrypt.org'), prop('issuewild', ';')], LE, 'fail', /forbids every CA \(issuewild ";"\) for wildcard names/],
    ['issuewild allows the CA for wildcards', WILD, [prop('issue', ';'), prop('issuewild', 'letsencrypt.org')], LE, 'ok', /allows letsencrypt\.org \(issuewild\)/],
    ['issue ";" with issuewild: base forbidden', BASE, [prop('issue', ';'), prop('issuewild', 'letsencrypt.org')], LE, 'fail', /forbids every CA/],
    ['only iodef: not restricted', BASE, [prop('iodef', 'mailto:caa@example.org')], LE, 'ok', /has no issue property: it does not restrict/],
    ['unknown critical tag', BASE, [prop('issue', 'letsencrypt.org'), prop('tbs', 'x', 128)], LE, 'fail', /critical property "tbs"/, /remove the critical flag/],
    ['known tag flagged critical is fine', BASE, [prop('issue', 'letsencrypt.org', 128)], LE, 'ok', /allows letsencrypt\.org/],
    ['tags are case-insensitive', BASE, [prop('ISSUE', 'LetsEncrypt.org')], LE, 'ok', /allows letsencrypt\.org/],
    ['identity unknown', BASE, [prop('issue', 'pki.goog')], {}, 'warn', /allows only pki\.goog \(issue\); the CA's CAA identity is unknown/, /caa_identities/],
    ['identity unknown but every CA forbidden', BASE, [prop('issue', ';')], {}, 'fail', /forbids every CA/],
    ['identities from the configuration', BASE, [prop('issue', 'ca.example.net')], { identities: ['ca.example.net'], source: 'caa_identities' }, 'ok', /allows ca\.example\.net/],
    ['validationmethods without dns-01', BASE, [prop('issue', 'letsencrypt.org; validationmethods=http-01')], LE, 'fail', /only with validationmethods=http-01, not dns-01/, /add dns-01 to validationmethods/],
    ['validationmethods with dns-01', BASE, [prop('issue', 'letsencrypt.org; validationmethods=http-01,dns-01')], LE, 'ok', /allows letsencrypt\.org/],
    ['accounturi of our account', BASE, [prop('issue', 'letsencrypt.org; accounturi=https://ca/acct/1')], { ...LE, accountUrl: 'https://ca/acct/1' }, 'ok', /allows letsencrypt\.org/],
    ['accounturi of another account', BASE, [prop('issue', 'letsencrypt.org; accounturi=https://ca/acct/2')], { ...LE, accountUrl: 'https://ca/acct/1' }, 'fail', /only for account https:\/\/ca\/acct\/2, not for the stored account https:\/\/ca\/acct\/1/, /accounturi=https:\/\/ca\/acct\/1/],
    ['accounturi and no account yet', BASE, [prop('issue', 'letsencrypt.org; accounturi=https://ca/acct/2')], LE, 'warn', /no account is stored yet/],
  ])('%s', (_, domain, records, ca, status, message, fix) => {
    const r = evaluateCaa(at(domain, records), ca);
    expect(r).toMatchObject({ check: 'caa', status, subject: domain });
    expect(r.message).toMatch(message);
    if (fix) expect(r.fix).toMatch(fix);
  });

  it('uses the set closest to the name (RFC 8659 climbing)', () => {
    const facts: CaaFacts = {
      domain: BASE,
      zone: 'example.org',
      lookups: [
        { name: BASE, kind: 'records', records: [prop('issue', 'letsencrypt.org')] },
        { name: 'example.org', kind: 'records', records: [prop('issue', ';')] },
      ],
    };
    expect(evaluateCaa(facts, LE).status).toBe('ok');
  });

  it('fails a lookup error below the relevant set: the CA would refuse', () => {
    const facts: CaaFacts = {
      domain: BASE,
      zone: 'example.org',
      lookups: [
        { name: BASE, kind: 'error', reason: 'answered SERVFAIL' },
        { name: 'example.org', kind: 'empty' },
      ],
    };
    const r = evaluateCaa(facts, LE);
    expect(r.status).toBe('fail');
    expect(r.message).toContain('the CAA lookup for galaxy.example.org failed (answered SERVFAIL)');
  });

  it('fails a refusal inside the zone, but only notes one above it', () => {
    const inside: CaaFacts = { domain: BASE, zone: 'example.org', lookups: [{ name: BASE, kind: 'refused' }] };
    expect(evaluateCaa(inside, LE).status).toBe('fail');
    const above: CaaFacts = { domain: BASE, zone: 'example.org', lookups: [{ name: BASE, kind: 'empty' }, { name: 'org', kind: 'refused' }] };
    expect(evaluateCaa(above, LE).status).toBe('ok');
  });
});

describe('gatherCaa', () => {
  it('climbs from the wildcard\'s base name, follows a CNAME and finds the zone', async () => {
    const dns = new FakeDns([
      galaxyZone([
        { name: 'galaxy.example.org', type: RRType.CAA, data: { flags: 0, tag: 'issue', value: 'letsencrypt.org' } },
        { name: 'alias.example.org', type: RRType.CNAME, data: 'galaxy.example.org' },
      ]),
    ]);
    const facts = await gatherCaa({ query: dns.query, resolvers }, WILD);
    expect(facts.zone).toBe('example.org');
    expect(facts.lookups.map((l) => `${l.name}:${l.kind}`)).toEqual([
      'ep.interactivetool.galaxy.example.org:empty',
      'interactivetool.galaxy.example.org:empty',
      'galaxy.example.org:records',
      'example.org:empty',
      'org:refused',
    ]);
    const aliased = await gatherCaa({ query: dns.query, resolvers }, 'alias.example.org');
    expect(aliased.lookups[0]).toMatchObject({ name: 'alias.example.org', kind: 'records' });
  });
});
