import { describe, expect, it } from 'vitest';
import { acmeError } from '../../../src/acme/errors.js';
import { dnssecHint } from '../../../src/acme/dnssec-hint.js';

const authz = (detail: string): string =>
  JSON.stringify({ status: 'invalid', identifier: { type: 'dns', value: 'galaxy.example.org' }, challenges: [{ type: 'dns-01', status: 'invalid', error: { type: 'urn:ietf:params:acme:error:unauthorized', detail, status: 403 } }] });

describe('dnssecHint', () => {
  it.each([
    ['DNS problem: SERVFAIL looking up TXT for _acme-challenge.galaxy.example.org - the domain\'s nameservers may be malfunctioning', 'SERVFAIL looking up TXT'],
    ['DNS problem: looking up TXT for _acme-challenge.galaxy.example.org: DNSSEC: Bogus: RRSIG with malformed signature', 'DNSSEC: Bogus'],
    ['Error retrieving TXT records for DNS challenge ("DNS lookup for \\"_acme-challenge.galaxy.example.org\\" returned an unsuccessful response: \'\\\\x02\'")', 'returned SERVFAIL'],
  ])('points a CA error about %s at check-dns, quoting the detail', (detail, quoted) => {
    const hint = dnssecHint(`validation failed: ${authz(detail)}`);
    expect(hint).toContain(quoted);
    expect(hint).toMatch(/^the CA's lookup failed: .*; that is how a validating resolver answers a broken DNSSEC chain or an unsigned record in a signed zone: run `gxit-cert check-dns` to find the record, key tag and nameserver$/);
  });

  it('says nothing about other errors', () => {
    expect(dnssecHint(authz('Incorrect TXT record "x" found at _acme-challenge.galaxy.example.org'))).toBeUndefined();
    expect(dnssecHint('connect ECONNREFUSED 127.0.0.1:14000')).toBeUndefined();
  });

  it('is the fix of the error line issue and renew print', () => {
    const error = acmeError('ACME_CHALLENGE', 'validation of galaxy.example.org failed', new Error(authz('DNS problem: SERVFAIL looking up TXT for x')), 'galaxy.example.org');
    expect(error.fix).toContain('run `gxit-cert check-dns`');
    expect(error.fix).toContain('SERVFAIL looking up TXT for x');
    expect(acmeError('ACME_CHALLENGE', 'v', new Error(authz('Incorrect TXT record')), 's').fix).not.toContain('DNSSEC');
    // A problem document (an error response) is read the same way.
    const problem = { type: 'urn:ietf:params:acme:error:dns', status: 400, detail: 'DNS problem: SERVFAIL looking up CAA for example.org' };
    expect(acmeError('ACME_ORDER', 'the CA refused the order', new Error('x'), 's', { problem }).fix).toMatch(/^the CA's lookup failed: DNS problem: SERVFAIL looking up CAA for example\.org; that is how a validating resolver/);
    expect(acmeError('ACME_ORDER', 'o', new Error('x'), 's', { problem: { ...problem, detail: 'no such host' } }).fix).toBe('the CA did not see the TXT record: run `gxit-cert check-dns` to find which nameserver lacks it');
  });
});
