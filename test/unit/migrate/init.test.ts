import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { LETSENCRYPT_STAGING_DIRECTORY } from '../../../src/config/types.js';
import { deriveInit, hostOfUrl, type InitInput } from '../../../src/migrate/init.js';

const base = (over: Partial<InitInput>): InitInput => ({ flags: {}, hooksDir: '/usr/lib/gxit-cert/hooks', now: new Date('2026-12-03T10:00:00Z'), ...over });

const TRAINING_VARS = {
  certbot_domains: ['galaxy.example.org', '*.ep.interactivetool.galaxy.example.org'],
  certbot_admin_email: 'admin@example.org',
  certbot_environment: 'staging',
  certbot_dns_provider: 'rfc2136',
  certbot_dns_credentials: { server: '192.0.2.53', port: 53, name: 'certbot-training.', secret: 'c2VjcmV0', algorithm: 'HMAC-SHA512' },
  certbot_share_key_users: ['nginx', 'rabbitmq'],
  certbot_post_renewal: 'systemctl restart nginx || true\nsystemctl restart rabbitmq-server || true\n',
  galaxy_config: { galaxy: { galaxy_infrastructure_url: 'https://{{ inventory_hostname }}' } },
};

describe('hostOfUrl', () => {
  it.each([
    ['https://galaxy.example.org', 'galaxy.example.org'],
    ['https://Galaxy.Example.org:8443/galaxy/', 'galaxy.example.org'],
    ['galaxy.example.org', 'galaxy.example.org'],
    ['http://localhost:8080', undefined],
    ['http://192.0.2.1', undefined],
  ])('%s -> %s', (url, host) => {
    expect(hostOfUrl(url)).toBe(host);
  });
});

describe('deriveInit', () => {
  it('takes the names from galaxy.yml: the host and *.ep.<interactivetools_prefix>.<host>', () => {
    const r = deriveInit(base({ galaxy: { galaxy: { galaxy_infrastructure_url: 'https://usegalaxy.example.org/', interactivetools_prefix: 'gxit' } }, flags: { email: 'a@b.org' } }));
    expect(r.domains).toEqual(['usegalaxy.example.org', '*.ep.gxit.usegalaxy.example.org']);
    const doc = parse(r.configText) as Record<string, unknown>;
    expect(doc.certificates).toEqual([{ name: 'usegalaxy.example.org', domains: r.domains }]);
    expect(doc.email).toBe('a@b.org');
    expect(r.missing).toEqual(['the DNS provider and its credentials (dns:)']);
    expect(r.holdsSecret).toBe(false);
  });

  it('uses the default prefix "interactivetool" and notes interactivetools_enable: false', () => {
    const r = deriveInit(base({ galaxy: { galaxy: { galaxy_infrastructure_url: 'https://g.example.org', interactivetools_enable: false } } }));
    expect(r.domains).toEqual(['g.example.org', '*.ep.interactivetool.g.example.org']);
    expect(r.warnings).toEqual(['galaxy.yml: interactivetools_enable is false; the wildcard name is included for when Interactive Tools are switched on']);
  });

  it('reads the training\'s group_vars: email, staging, credentials (a secret: 0600), install-files and the post-renewal commands', () => {
    const r = deriveInit(base({ groupVars: TRAINING_VARS, groupVarsPath: 'group_vars/galaxyservers.yml' }));
    expect(r.holdsSecret).toBe(true);
    expect(r.missing).toEqual([]);
    expect(r.warnings).toEqual(['group_vars/galaxyservers.yml galaxy_config.galaxy: galaxy_infrastructure_url is an Ansible template (https://{{ inventory_hostname }}); give the rendered value (or --host/--email)']);
    expect(parse(r.configText)).toEqual({
      email: 'admin@example.org',
      server: LETSENCRYPT_STAGING_DIRECTORY,
      state_dir: '/etc/gxit-cert',
      key_type: 'ecdsa-p256',
      certificates: [{ name: 'galaxy.example.org', domains: TRAINING_VARS.certbot_domains }],
      dns: { provider: 'rfc2136', rfc2136: TRAINING_VARS.certbot_dns_credentials },
      hooks: {
        deploy: [
          ['/usr/lib/gxit-cert/hooks/install-files', '--user', 'nginx', '--user', 'rabbitmq'],
          'systemctl restart nginx || true',
          'systemctl restart rabbitmq-server || true',
        ],
      },
    });
  });

  it('prefers galaxy.yml\'s names and says which role domains it leaves out', () => {
    const vars = { ...TRAINING_VARS, certbot_domains: ['galaxy.example.org', 'old.example.org'] };
    const r = deriveInit(base({ galaxy: { galaxy: { galaxy_infrastructure_url: 'https://galaxy.example.org' } }, groupVars: vars }));
    expect(r.domains).toEqual(['galaxy.example.org', '*.ep.interactivetool.galaxy.example.org']);
    expect(r.warnings).toContain('certbot_domains also names old.example.org: not included (names from galaxy_infrastructure_url of galaxy.yml); add them to certificates[0].domains if they are still served');
  });

  it('takes names, CA and the credentials file from certbot\'s lineage; flags win', () => {
    const certbot = { dir: '/etc/letsencrypt', name: 'g', domains: ['g.example.org'], server: 'https://ca.test/dir', credentials: '/etc/letsencrypt/rfc.ini', ini: { server: '192.0.2.1', hasSecret: true }, route53: false };
    const r = deriveInit(base({ certbot, flags: { email: 'x@y.org', server: 'https://other.test/dir', resolvers: ['127.0.0.2:53'] } }));
    const doc = parse(r.configText) as { server: string; dns: unknown; certificates: unknown };
    expect(doc.server).toBe('https://other.test/dir');
    expect(doc.dns).toEqual({ provider: 'rfc2136', resolvers: ['127.0.0.2:53'], rfc2136: { server: '192.0.2.1', secret_file: '/etc/letsencrypt/rfc.ini' } });
    expect(doc.certificates).toEqual([{ name: 'g.example.org', domains: ['g.example.org'] }]);
    expect(r.holdsSecret).toBe(false);
  });

  it('with nothing given writes placeholders and lists what is missing', () => {
    const r = deriveInit(base({}));
    expect(r.missing).toEqual([
      'the Galaxy host name (--host, or --galaxy-config galaxy.yml with galaxy_infrastructure_url)',
      'an email address for the CA (--email, or certbot_admin_email)',
      'the DNS provider and its credentials (dns:)',
    ]);
    expect(r.configText).toContain('# TODO: the Galaxy host name');
    expect(r.configText).toContain('# email: admin@example.org');
  });
});
