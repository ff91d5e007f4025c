import { describe, expect, it } from 'vitest';
import { hookEnvironment, hookPath, type HookLineage } from '../../../src/hooks/env.js';

const lineage: HookLineage = {
  name: 'hk.example.org',
  domains: ['hk.example.org', '*.ep.interactivetool.hk.example.org'],
  live: { dir: '/s/live/hk', cert: '/s/live/hk/cert.pem', chain: '/s/live/hk/chain.pem', fullchain: '/s/live/hk/fullchain.pem', privkey: '/s/live/hk/privkey.pem' },
  version: 4,
};

const parent: NodeJS.ProcessEnv = {
  PATH: '/usr/bin:/bin',
  HOME: '/root',
  LANG: 'C.UTF-8',
  GXIT_CERT_TSIG_SECRET: 'c2VjcmV0',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG',
  AWS_ACCESS_KEY_ID: 'AKIA',
  SSH_AUTH_SOCK: '/tmp/agent',
  TSIG_SECRET: 'x',
};

describe('hookEnvironment', () => {
  it('gives a deploy hook certbot\'s and gxit-cert\'s variables, and nothing secret', () => {
    expect(hookEnvironment(parent, { phase: 'deploy', dryRun: false, lineage })).toEqual({
      PATH: '/usr/bin:/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin',
      HOME: '/root',
      LANG: 'C.UTF-8',
      GXIT_CERT_HOOK: 'deploy',
      RENEWED_LINEAGE: '/s/live/hk',
      RENEWED_DOMAINS: 'hk.example.org *.ep.interactivetool.hk.example.org',
      GXIT_CERT_NAME: 'hk.example.org',
      GXIT_CERT_DOMAINS: 'hk.example.org *.ep.interactivetool.hk.example.org',
      GXIT_CERT_LIVE_DIR: '/s/live/hk',
      GXIT_CERT_FULLCHAIN: '/s/live/hk/fullchain.pem',
      GXIT_CERT_CERT: '/s/live/hk/cert.pem',
      GXIT_CERT_CHAIN: '/s/live/hk/chain.pem',
      GXIT_CERT_KEY: '/s/live/hk/privkey.pem',
      GXIT_CERT_VERSION: '4',
    });
  });

  it('never passes a variable that is not on the list', () => {
    for (const phase of ['pre', 'deploy', 'post', 'on_failure'] as const) {
      const env = hookEnvironment(parent, { phase, dryRun: true, lineage, error: 'x', planned: [], renewed: [lineage], failed: [] });
      for (const name of ['GXIT_CERT_TSIG_SECRET', 'AWS_SECRET_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'SSH_AUTH_SOCK', 'TSIG_SECRET']) expect(env[name]).toBeUndefined();
      expect(Object.values(env).join(' ')).not.toMatch(/c2VjcmV0|wJalrXUtnFEMI/);
    }
  });

  it('tells an on_failure hook what failed', () => {
    const env = hookEnvironment(parent, { phase: 'on_failure', dryRun: false, lineage, error: 'validation of hk.example.org failed' });
    expect(env).toMatchObject({ GXIT_CERT_HOOK: 'on_failure', FAILED_DOMAINS: lineage.domains.join(' '), GXIT_CERT_ERROR: 'validation of hk.example.org failed' });
    expect(env.RENEWED_LINEAGE).toBeUndefined();
  });

  it('gives a post hook the outcome of the run', () => {
    const other: HookLineage = { ...lineage, name: 'b.example.org', domains: ['b.example.org'] };
    const env = hookEnvironment(parent, { phase: 'post', dryRun: false, renewed: [lineage], failed: [{ name: other.name, domains: other.domains }] });
    expect(env).toMatchObject({
      RENEWED_DOMAINS: lineage.domains.join(' '),
      FAILED_DOMAINS: 'b.example.org',
      GXIT_CERT_RENEWED: 'hk.example.org',
      GXIT_CERT_FAILED: 'b.example.org',
      GXIT_CERT_OUTCOME: 'failure',
    });
    expect(hookEnvironment(parent, { phase: 'post', dryRun: true, renewed: [lineage], failed: [] })).toMatchObject({ GXIT_CERT_OUTCOME: 'success', GXIT_CERT_DRY_RUN: '1', FAILED_DOMAINS: '' });
  });

  it('names the planned lineages to a pre hook', () => {
    expect(hookEnvironment({}, { phase: 'pre', dryRun: false, planned: ['a', 'b'] })).toMatchObject({ GXIT_CERT_HOOK: 'pre', GXIT_CERT_LINEAGES: 'a b' });
  });
});

describe('hookPath', () => {
  it.each<[string | undefined, string]>([
    [undefined, '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    ['/usr/bin:/bin', '/usr/bin:/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin'],
    ['/opt/x/bin::/usr/sbin', '/opt/x/bin:/usr/sbin:/usr/local/sbin:/usr/local/bin:/usr/bin:/sbin:/bin'],
  ])('%s', (given, expected) => {
    expect(hookPath(given)).toBe(expected);
  });
});
