import { describe, expect, it } from 'vitest';
import type { CertificateConfig } from '../../../src/config/types.js';
import { planIssuance, type LineageFacts } from '../../../src/renew/issue-plan.js';

const cert: CertificateConfig = {
  name: 'galaxy.example.org',
  domains: ['galaxy.example.org', '*.ep.interactivetool.galaxy.example.org'],
  keyType: 'ecdsa-p256',
};
const server = 'https://ca/dir';

function plan(facts: LineageFacts | undefined, force = false) {
  const existing = new Map(facts ? [[cert.name, facts]] : []);
  return planIssuance([cert], existing, { force, server })[0];
}

describe('planIssuance', () => {
  it.each<[string, LineageFacts | undefined, boolean, string | undefined]>([
    ['no lineage', undefined, false, 'new'],
    ['same names in another order', { domains: [...cert.domains].reverse(), keyType: 'ecdsa-p256', server }, false, undefined],
    ['same names, forced', { domains: cert.domains, keyType: 'ecdsa-p256', server }, true, 'forced'],
    ['a name added', { domains: ['galaxy.example.org'], keyType: 'ecdsa-p256', server }, false, 'expanded'],
    ['a name replaced', { domains: ['galaxy.example.org', '*.interactivetool.galaxy.example.org'], server }, false, 'domains-changed'],
    ['another key type', { domains: cert.domains, keyType: 'rsa-2048', server }, false, 'key-type-changed'],
    ['another CA', { domains: cert.domains, keyType: 'ecdsa-p256', server: 'https://staging/dir' }, false, 'ca-changed'],
  ])('%s', (_label, facts, force, reason) => {
    expect(plan(facts, force)?.reason).toBe(reason);
  });
});

describe('a revoked live certificate', () => {
  it('is a reason to order, before force and due', () => {
    const certificate = { name: 'g', domains: ['g.example.org'], keyType: 'ecdsa-p256' as const };
    const facts = new Map([['g', { domains: ['g.example.org'], keyType: 'ecdsa-p256' as const, server: 's', revoked: true }]]);
    expect(planIssuance([certificate], facts, { force: true, server: 's' })[0]?.reason).toBe('revoked');
    expect(planIssuance([certificate], new Map([['g', { ...facts.get('g')!, revoked: false }]]), { force: false, server: 's' })[0]?.reason).toBeUndefined();
  });
});

describe('the ACME profile is part of the lineage', () => {
  it('a change (added, removed, other) is a reason to order', () => {
    const certificate = { name: 'g', domains: ['g.example.org'], keyType: 'ecdsa-p256' as const };
    const facts = (profile?: string) => new Map([['g', { domains: ['g.example.org'], keyType: 'ecdsa-p256' as const, server: 's', ...(profile === undefined ? {} : { profile }) }]]);
    const reason = (config: string | undefined, stored: string | undefined) =>
      planIssuance([{ ...certificate, ...(config === undefined ? {} : { profile: config }) }], facts(stored), { force: false, server: 's' })[0]?.reason;
    expect(reason('tlsserver', 'tlsserver')).toBeUndefined();
    expect(reason(undefined, undefined)).toBeUndefined();
    expect(reason('tlsserver', undefined)).toBe('profile-changed');
    expect(reason(undefined, 'shortlived')).toBe('profile-changed');
    expect(reason('classic', 'shortlived')).toBe('profile-changed');
  });
});
