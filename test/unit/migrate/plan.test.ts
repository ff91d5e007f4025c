import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { CertbotLineage } from '../../../src/migrate/certbot-tree.js';
import { parseConfigObj } from '../../../src/migrate/configobj.js';
import { planImport, type ImportInput } from '../../../src/migrate/plan.js';
import { mapRenewalConf } from '../../../src/migrate/renewal-conf.js';
import type { KeyType } from '../../../src/config/types.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/certbot');

/** `key`: the type of the current key, or 'P-521' for one gxit-cert does not make. */
function lineage(name: string, conf: string, key: KeyType | 'P-521' = 'ecdsa-p256'): CertbotLineage {
  const root = parseConfigObj(conf).root;
  const keyType = key === 'P-521' ? undefined : key;
  const facts = { domains: [name, `*.ep.interactivetool.${name}`], serial: 'ab', notAfter: '2027-01-01T00:00:00.000Z', keyType, ...(key === 'P-521' ? { keyTypeProblem: 'an EC key on secp521r1' } : {}) };
  const version = { number: 1, files: { cert: '', privkey: '', chain: '', fullchain: '' }, facts };
  return { name, confPath: `/etc/letsencrypt/renewal/${name}.conf`, confText: conf, conf: root, mapping: mapRenewalConf(name, root), live: version, versions: [version], warnings: [] };
}

const RFC = (extra = ''): string => `[renewalparams]\naccount = abc\nauthenticator = dns-rfc2136\nserver = https://ca.test/dir\ndns_rfc2136_credentials = /etc/letsencrypt/rfc.ini\nkey_type = ecdsa\n${extra}`;

function input(over: Partial<ImportInput> = {}): ImportInput {
  return {
    certbotDir: '/etc/letsencrypt',
    stateDir: '/etc/gxit-cert',
    lineages: [lineage('galaxy.example.org', RFC('renew_hook = systemctl reload nginx\n'))],
    account: { id: 'abc', server: 'https://ca.test/dir', keyPem: 'PEM', url: 'https://ca.test/acct/1', dir: '/x', email: 'admin@example.org' },
    scripts: [],
    rfc2136Ini: { server: '192.0.2.53', port: '53', name: 'certbot-training.', algorithm: 'HMAC-SHA512', hasSecret: true },
    hooksDir: '/usr/lib/node_modules/gxit-cert/hooks',
    now: new Date('2026-12-03T10:00:00Z'),
    ...over,
  };
}

describe('planImport', () => {
  it('writes a configuration that names the CA, the lineage, the credentials file and the hook', () => {
    const plan = planImport(input());
    expect(plan.warnings).toEqual([]);
    expect(parse(plan.configText)).toEqual({
      email: 'admin@example.org',
      server: 'https://ca.test/dir',
      state_dir: '/etc/gxit-cert',
      key_type: 'ecdsa-p256',
      certificates: [{ name: 'galaxy.example.org', domains: ['galaxy.example.org', '*.ep.interactivetool.galaxy.example.org'] }],
      dns: { provider: 'rfc2136', rfc2136: { server: '192.0.2.53', port: 53, name: 'certbot-training.', algorithm: 'HMAC-SHA512', secret_file: '/etc/letsencrypt/rfc.ini' } },
      hooks: { deploy: ['systemctl reload nginx'] },
    });
    expect(plan.configText).toMatch(/^# gxit-cert configuration, imported from certbot's \/etc\/letsencrypt on 2026-12-03\./);
  });

  it('turns the role script into install-files plus its commands, and keeps other scripts as argv hooks', () => {
    const plan = planImport(input({
      scripts: [
        { phase: 'post', path: '/etc/letsencrypt/renewal-hooks/post/ansible.sh', text: readFileSync(path.join(fixtures, 'ansible.sh'), 'utf8') },
        { phase: 'pre', path: '/etc/letsencrypt/renewal-hooks/pre/stop.sh', text: '#!/bin/sh\nsystemctl stop x\n' },
      ],
    }));
    const hooks = (parse(plan.configText) as { hooks: Record<string, unknown[]> }).hooks;
    expect(hooks.pre).toEqual([['/etc/letsencrypt/renewal-hooks/pre/stop.sh']]);
    expect(hooks.deploy).toEqual([
      'systemctl reload nginx',
      ['/usr/lib/node_modules/gxit-cert/hooks/install-files', '--fullchain', '/etc/ssl/certs/fullchain.pem', '--cert', '/etc/ssl/certs/cert.pem', '--key', '/etc/ssl/private/privkey.pem', '--owner', 'root', '--group', 'ssl-cert', '--cert-mode', '0644', '--key-mode', '0640', '--user', 'nginx', '--user', 'rabbitmq'],
      'systemctl restart nginx || true',
      'systemctl restart rabbitmq-server || true',
    ]);
    expect(plan.warnings).toEqual([]);
  });

  it('warns about a hook that reads certbot\'s live/ directory by its path', () => {
    const plan = planImport(input({ lineages: [lineage('g', RFC('renew_hook = cp /etc/letsencrypt/live/g/fullchain.pem /srv/x\n'))] }));
    expect(plan.warnings).toEqual(['renew_hook of renewal/g.conf reads /etc/letsencrypt/live, which gxit-cert does not update; point it at $RENEWED_LINEAGE (set for deploy hooks) or /etc/gxit-cert/live']);
  });

  it('puts several lineages of one CA into one configuration, with a key type per certificate where it differs', () => {
    const plan = planImport(input({ lineages: [lineage('a.example.org', RFC()), lineage('b.example.org', RFC('rsa_key_size = 3072\n').replace('key_type = ecdsa', 'key_type = rsa'), 'rsa-3072')] }));
    const doc = parse(plan.configText) as { certificates: { name: string; key_type?: string }[] };
    expect(doc.certificates.map((c) => [c.name, c.key_type])).toEqual([['a.example.org', undefined], ['b.example.org', 'rsa-3072']]);
    expect(plan.lineages.map((p) => p.keyType)).toEqual(['ecdsa-p256', 'rsa-3072']);
  });

  it('carries reuse_key and preferred_chain over per certificate', () => {
    const plan = planImport(input({ lineages: [
      lineage('a.example.org', RFC('reuse_key = True\npreferred_chain = ISRG Root X1\n')),
      lineage('b.example.org', RFC('reuse_key = False\n')),
    ] }));
    expect(plan.warnings).toEqual([]);
    const written = parse(plan.configText) as { certificates: Record<string, unknown>[] };
    expect(written.certificates).toEqual([
      { name: 'a.example.org', domains: ['a.example.org', '*.ep.interactivetool.a.example.org'], reuse_key: true, preferred_chain: 'ISRG Root X1' },
      { name: 'b.example.org', domains: ['b.example.org', '*.ep.interactivetool.b.example.org'] },
    ]);
    expect(plan.configText).toMatch(/reuse_key: true +# reuse_key of certbot/);
  });

  it('warns when the next key differs from the current one (certbot would switch too)', () => {
    const plan = planImport(input({ lineages: [lineage('g', RFC(), 'rsa-2048')] }));
    expect(plan.warnings).toEqual(['g: the current key is rsa-2048; the next renewal makes a ecdsa-p256 key, as certbot would']);
  });

  it.each([
    ['another CA', RFC().replace('https://ca.test/dir', 'https://other.test/dir'), 'USAGE'],
    ['another credentials file', RFC().replace('/etc/letsencrypt/rfc.ini', '/etc/other.ini'), 'USAGE'],
  ])('refuses lineages with %s in one configuration', (_what, conf, code) => {
    expect(() => planImport(input({ lineages: [lineage('a', RFC()), lineage('b', conf)] }))).toThrow(expect.objectContaining({ code, subject: 'b' }));
  });

  it('refuses a lineage whose key type gxit-cert cannot make', () => {
    const conf = RFC().replace('key_type = ecdsa', 'key_type = ecdsa\nelliptic_curve = secp521r1');
    expect(() => planImport(input({ lineages: [lineage('g', conf, 'P-521')] }))).toThrow('g: the key is an EC key on secp521r1, which gxit-cert cannot renew');
  });

  it('comments out email when certbot did not record it, and asks for dns: when the authenticator was not DNS', () => {
    const plan = planImport(input({
      account: { id: 'abc', server: 'https://ca.test/dir', keyPem: 'PEM', url: 'https://ca.test/acct/1', dir: '/x' },
      lineages: [lineage('g', '[renewalparams]\naccount = abc\nauthenticator = webroot\nserver = https://ca.test/dir\nkey_type = ecdsa\n')],
    }));
    expect(plan.configText).toContain("# email: admin@example.org  # certbot did not record the address; set it for the CA's expiry mail");
    expect(plan.configText).toContain('# certbot validated with webroot; gxit-cert needs DNS-01 through one of its providers (docs/providers.md): fill this in\n# dns:\n#   provider: rfc2136\n');
    expect(parse(plan.configText)).not.toHaveProperty('dns');
  });
});
