import { describe, expect, it } from 'vitest';
import { RCode } from '../../../src/dns/message.js';
import { describeUnverifiedReply, describeUpdateFailure, type UpdateFailure } from '../../../src/dns/rcode.js';

const base: UpdateFailure = {
  rcode: 0,
  server: { host: '192.0.2.53', port: 53 },
  zone: 'example.org',
  keyName: 'acme-update.example.org',
  algorithm: 'hmac-sha256',
  names: ['_acme-challenge.example.org', '_acme-challenge.example.org', '_acme-challenge.www.example.org'],
};

describe('describeUpdateFailure', () => {
  it.each([
    // [rcode, tsigError, code, message must match, fix must match]
    [RCode.NOTAUTH, RCode.BADSIG, 'DNS_TSIG', /secret does not match the server's key acme-update\.example\.org \(BADSIG\)/, /dns\.rfc2136\.secret/],
    [RCode.NOTAUTH, RCode.BADKEY, 'DNS_TSIG', /does not know key acme-update\.example\.org with algorithm hmac-sha256 \(BADKEY\)/, /key name and algorithm/],
    [RCode.NOTAUTH, RCode.BADTIME, 'DNS_TSIG', /clocks .* differ by more than the TSIG fudge \(BADTIME\)/, /NTP/],
    [RCode.NOTAUTH, RCode.BADTRUNC, 'DNS_TSIG', /BADTRUNC/, /algorithm/],
    [RCode.NOTAUTH, 99, 'DNS_TSIG', /TSIG error RCODE99/, /log/],
    [RCode.REFUSED, undefined, 'DNS_RCODE', /refused the update for zone example\.org signed with key acme-update\.example\.org \(REFUSED\)/, /update-policy .* grants key acme-update\.example\.org TXT updates at _acme-challenge\.example\.org, _acme-challenge\.www\.example\.org, and that the key's secret and algorithm match/],
    [RCode.NOTAUTH, undefined, 'DNS_RCODE', /not authoritative for zone example\.org, or key acme-update\.example\.org is not authorized/, /primary server/],
    [RCode.NOTZONE, undefined, 'DNS_RCODE', /not inside zone example\.org \(NOTZONE\)/, /dns\.rfc2136\.zone/],
    [RCode.SERVFAIL, undefined, 'DNS_RCODE', /failed to apply the update to zone example\.org \(SERVFAIL\)/, /journal/],
    [RCode.FORMERR, undefined, 'DNS_RCODE', /could not parse .* \(FORMERR\)/, /log/],
    [RCode.NOTIMP, undefined, 'DNS_RCODE', /does not implement dynamic updates .* \(NOTIMP\)/, /allow-update/],
    [RCode.YXDOMAIN, undefined, 'DNS_RCODE', /prerequisite.*\(YXDOMAIN\)/, /log/],
    [RCode.YXRRSET, undefined, 'DNS_RCODE', /prerequisite.*\(YXRRSET\)/, /log/],
    [RCode.NXRRSET, undefined, 'DNS_RCODE', /prerequisite.*\(NXRRSET\)/, /log/],
    [13, undefined, 'DNS_RCODE', /rejected the update for zone example\.org \(RCODE13\)/, /log/],
  ] as const)('rcode %i, TSIG error %s -> %s', (rcode, tsigError, code, message, fix) => {
    const error = describeUpdateFailure({ ...base, rcode, tsigError });
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(error.message).toContain('192.0.2.53:53');
    expect(error.fix).toMatch(fix);
    expect(error.subject).toBe('zone example.org at server 192.0.2.53:53');
  });

  it('speaks of the address when there is no key', () => {
    const error = describeUpdateFailure({ ...base, keyName: undefined, algorithm: undefined, rcode: RCode.REFUSED });
    expect(error.fix).toContain("this machine's address");
  });

  it('formats IPv6 servers with brackets', () => {
    expect(describeUpdateFailure({ ...base, server: { host: '2001:db8::53', port: 5353 }, rcode: RCode.REFUSED }).message).toContain('[2001:db8::53]:5353');
  });
});

describe('describeUnverifiedReply', () => {
  it.each([
    ['unsigned', /is not signed/],
    ['badsig', /does not verify/],
    ['badkey', /not signed with key k\.example/],
    ['badtime', /outside the fudge/],
  ] as const)('%s', (reason, message) => {
    const error = describeUnverifiedReply({ reason, detail: 'detail', rcode: 0, server: base.server, zone: 'example.org', keyName: 'k.example' });
    expect(error.code).toBe('DNS_TSIG');
    expect(error.message).toMatch(message);
    expect(error.fix).toBeTruthy();
  });
});
