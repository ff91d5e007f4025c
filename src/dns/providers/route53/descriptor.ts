/**
 * route53: Amazon Route 53 through the AWS SDK. The SDK (~100 ms to load) is imported only in load().
 */
import { defineProvider } from '../descriptor.js';
import { defaultRoute53, resolveRoute53, ROUTE53_DEFAULTS, ROUTE53_KEYS, validateRoute53, type Route53Draft } from './section.js';
import type { Route53Config } from './settings.js';

export const route53 = defineProvider<Route53Draft, Route53Config>({
  name: 'route53',
  summary: 'Amazon Route 53 through the AWS SDK (hosted zone found by name, or hosted_zone_id)',
  keys: ROUTE53_KEYS,
  secretKeys: ['secret_access_key', 'session_token'],
  defaults: ROUTE53_DEFAULTS,
  // No missingFix: every key is optional (the SDK's default credential chain, the zone found by name).
  ansible: {
    provider: 'route53',
    credentialKeys: {},
    credentialsFix: 'add certbot_dns_credentials: with the dns.route53 keys you need (profile, hosted_zone_id, role_arn, ...)',
  },
  validate: (check, section) => (section === undefined ? defaultRoute53() : validateRoute53(check, section)),
  // A private hosted zone is not served by the public nameservers that the propagation check asks:
  // unless the file says otherwise, Route53's own INSYNC is the signal.
  propagationCheck: (draft) => (draft.privateZone ? false : undefined),
  resolve: resolveRoute53,
  async load(settings, dns) {
    const { createRoute53Provider } = await import('./provider.js');
    return createRoute53Provider(settings, { changeTimeoutMs: dns.propagationTimeoutMs });
  },
});
