// What the configuration pipeline hands the Route53 provider: native sections, the Galaxy role's
// form, and the propagation check for private zones.
import { describe, expect, it } from 'vitest';
import { evaluateConfigText } from '../../../../../src/config/load.js';
import type { SecretFile } from '../../../../../src/config/secrets.js';
import { credentialPlan } from '../../../../../src/dns/providers/route53/credentials.js';
import { PROVIDERS } from '../../../../../src/dns/providers/registry.js';
import { rfc2136Of, route53Of } from '../settings.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const files: Record<string, SecretFile> = { '/etc/gxit-cert/aws.secret': { data: `${SECRET}\n`, mode: 0o100600 } };
const evaluate = (text: string) =>
  evaluateConfigText(text, '/etc/gxit-cert/config.yml', { providers: PROVIDERS,
    readSecretFile: (path) => {
      const file = files[path];
      if (!file) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
      return file;
    },
  });

const native = (route53: string, dnsExtra = '') => `email: admin@example.org
certificates:
  - domains: [galaxy.example.org, "*.ep.interactivetool.galaxy.example.org"]
dns:
  provider: route53
${dnsExtra}  route53:
${route53}`;

describe('dns.route53 configuration', () => {
  it('reads static keys with the secret from a file, and defaults', () => {
    const { config, problems } = evaluate(native('    access_key_id: AKIAIOSFODNN7EXAMPLE\n    secret_access_key_file: aws.secret\n    hosted_zone_id: /hostedzone/Z0123456789ABC\n'));
    expect(problems).toEqual([]);
    expect(route53Of(config)).toEqual({
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: SECRET,
      hostedZoneId: 'Z0123456789ABC',
      privateZone: false,
      ttl: 60,
    });
    expect(config?.dns.propagationCheck).toBe(true);
    const plan = credentialPlan(route53Of(config)!);
    expect(plan.description).toBe('dns.route53.access_key_id');
    expect(plan.secrets).toEqual([SECRET]);
  });

  it('turns the propagation check off for a private zone unless the file asks for it', () => {
    expect(evaluate(native('    private_zone: true\n')).config?.dns.propagationCheck).toBe(false);
    expect(evaluate(native('    private_zone: true\n', '  propagation_check: true\n')).config?.dns.propagationCheck).toBe(true);
    expect(evaluate(native('    private_zone: false\n')).config?.dns.propagationCheck).toBe(true);
  });

  it('describes profiles, the default chain and roles without secrets', () => {
    const profile = route53Of(evaluate(native('    profile: galaxy\n    role_arn: arn:aws:iam::123456789012:role/gxit-cert\n    external_id: eu\n')).config)!;
    expect(credentialPlan(profile)).toEqual({
      source: { kind: 'profile', profile: 'galaxy' },
      role: { roleArn: 'arn:aws:iam::123456789012:role/gxit-cert', externalId: 'eu' },
      description: 'role arn:aws:iam::123456789012:role/gxit-cert (assumed with profile galaxy)',
      secrets: [],
    });
  });

  it('takes the Galaxy role form with credentials left to ~/.aws', () => {
    const { config, problems, warnings } = evaluate(`certbot_domains:
  - galaxy.example.org
  - "*.ep.interactivetool.galaxy.example.org"
certbot_admin_email: admin@example.org
certbot_environment: production
certbot_dns_provider: route53
`);
    expect(problems).toEqual([]);
    expect(warnings).toEqual([]);
    expect(config?.dns.provider).toBe('route53');
    expect(route53Of(config)).toEqual({ privateZone: false, ttl: 60 });
    expect(credentialPlan(route53Of(config)!).source).toEqual({ kind: 'chain' });
  });

  it('takes route53 keys given as certbot_dns_credentials', () => {
    const { config, problems } = evaluate(`certbot_domains: [galaxy.example.org]
certbot_admin_email: admin@example.org
certbot_dns_provider: route53
certbot_dns_credentials:
  profile: galaxy
  hosted_zone_id: Z0123456789ABC
`);
    expect(problems).toEqual([]);
    expect(route53Of(config)).toEqual({ profile: 'galaxy', hostedZoneId: 'Z0123456789ABC', privateZone: false, ttl: 60 });
  });
});
