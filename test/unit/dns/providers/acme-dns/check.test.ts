// check-dns for acme-dns: each challenge target proves (or not) the CNAME to its registration.
import { describe, expect, it } from 'vitest';
import { evaluateCnames } from '../../../../../src/dns/providers/acme-dns/check.js';
import type { AcmeDnsCredentials } from '../../../../../src/dns/providers/acme-dns/credentials.js';

const creds: AcmeDnsCredentials = new Map([
  ['galaxy.example.org', { username: 'u', password: 'secret-pw', fulldomain: 'aaa.auth.example.org', subdomain: 'aaa' }],
  ['ep.interactivetool.galaxy.example.org', { username: 'u2', password: 'secret-pw2', fulldomain: 'bbb.auth.example.org', subdomain: 'bbb' }],
]);

describe('evaluateCnames', () => {
  it('passes a target that is a registration\'s fulldomain, names the CNAME a missing one needs, and the command for an unregistered name', () => {
    const results = evaluateCnames(['aaa.auth.example.org', '_acme-challenge.ep.interactivetool.galaxy.example.org', '_acme-challenge.other.example.org'], creds, '/etc/gxit-cert/acme-dns.json');
    expect(results).toEqual([
      { check: 'cname', status: 'ok', subject: 'aaa.auth.example.org', message: '_acme-challenge.galaxy.example.org leads by CNAME to the acme-dns name aaa.auth.example.org' },
      {
        check: 'cname',
        status: 'fail',
        subject: '_acme-challenge.ep.interactivetool.galaxy.example.org',
        message: 'is not a CNAME to its acme-dns name bbb.auth.example.org',
        fix: 'create "_acme-challenge.ep.interactivetool.galaxy.example.org. CNAME bbb.auth.example.org." in the zone of ep.interactivetool.galaxy.example.org',
      },
      {
        check: 'cname',
        status: 'fail',
        subject: '_acme-challenge.other.example.org',
        message: 'no registration in /etc/gxit-cert/acme-dns.json is served at _acme-challenge.other.example.org',
        fix: 'run gxit-cert acme-dns register and create the CNAME records it prints',
      },
    ]);
    expect(JSON.stringify(results)).not.toContain('secret-pw');
  });
});
