import { describe, expect, it } from 'vitest';
import { challengeName, resolveChallengeTarget } from '../../../src/dns/challenge-name.js';
import { RRType } from '../../../src/dns/message.js';
import { fakeQuery, labZone } from './fake-dns.js';

const resolvers = [{ host: '127.0.0.2', port: 53 }];

describe('challengeName', () => {
  it.each([
    ['galaxy.example.org', '_acme-challenge.galaxy.example.org'],
    ['*.ep.interactivetool.galaxy.example.org', '_acme-challenge.ep.interactivetool.galaxy.example.org'],
    ['Galaxy.Example.org.', '_acme-challenge.galaxy.example.org'],
  ])('%s -> %s', (domain, expected) => {
    expect(challengeName(domain)).toBe(expected);
  });
});

describe('resolveChallengeTarget', () => {
  it('writes at the literal name when nothing is there', async () => {
    const target = await resolveChallengeTarget(fakeQuery([labZone]), resolvers, 'galaxy.example.org');
    expect(target).toEqual({ fqdn: '_acme-challenge.galaxy.example.org', delegatedVia: [], wildcardCovered: false });
  });

  it('does not follow the CNAME that the GxIT wildcard synthesizes at the challenge name', async () => {
    const target = await resolveChallengeTarget(fakeQuery([labZone]), resolvers, '*.ep.interactivetool.galaxy.example.org');
    expect(target.fqdn).toBe('_acme-challenge.ep.interactivetool.galaxy.example.org');
    expect(target.wildcardCovered).toBe(true);
    expect(target.delegatedVia).toEqual([]);
  });

  it('follows an explicit CNAME at the challenge name (delegation)', async () => {
    const target = await resolveChallengeTarget(fakeQuery([labZone]), resolvers, 'delegated.example.org');
    expect(target).toEqual({
      fqdn: 'delegated.acme.example.net',
      delegatedVia: ['_acme-challenge.delegated.example.org'],
      wildcardCovered: false,
    });
  });

  it('stops a CNAME loop with an error naming the challenge name', async () => {
    const looping = {
      apex: 'loop.test',
      records: [
        { name: '_acme-challenge.a.loop.test', type: RRType.CNAME, data: 'b.loop.test' },
        { name: 'b.loop.test', type: RRType.CNAME, data: '_acme-challenge.a.loop.test' },
      ],
    };
    await expect(resolveChallengeTarget(fakeQuery([looping]), resolvers, 'a.loop.test')).rejects.toMatchObject({
      code: 'DNS_CNAME_LOOP',
      subject: '_acme-challenge.a.loop.test',
    });
  });
});
