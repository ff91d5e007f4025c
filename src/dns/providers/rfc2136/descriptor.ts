/**
 * rfc2136: dynamic updates (RFC 2136) signed with TSIG (RFC 8945) to the zone's primary server.
 * The implementation (./provider.ts) and the signed check-dns query (./signed-query.ts) load lazily.
 */
import { defineProvider } from '../descriptor.js';
import { RFC2136_DEFAULTS, RFC2136_KEYS, resolveRfc2136, validateRfc2136, type Rfc2136Draft } from './section.js';
import type { Rfc2136Config } from './settings.js';

export const rfc2136 = defineProvider<Rfc2136Draft, Rfc2136Config>({
  name: 'rfc2136',
  summary: 'RFC 2136 dynamic updates signed with TSIG (BIND, Knot, PowerDNS, ...)',
  keys: RFC2136_KEYS,
  secretKeys: ['secret'],
  defaults: RFC2136_DEFAULTS,
  missingFix: 'add an rfc2136: section with server: and, for TSIG, name:, secret_file: and algorithm:',
  ansible: {
    provider: 'rfc2136',
    // certbot-dns-rfc2136 signs its SOA query when asked; gxit-cert always signs when it has a key.
    credentialKeys: { sign_query: null },
    credentialsFix: 'add certbot_dns_credentials: with server, name, secret and algorithm of the TSIG key',
  },
  validate: (check, section) => (section === undefined ? undefined : validateRfc2136(check, section)),
  resolve: resolveRfc2136,
  async load(settings, dns) {
    const { createRfc2136Provider } = await import('./provider.js');
    return createRfc2136Provider(settings, {}, dns);
  },
  async checks(settings, input) {
    const { signedQueryChecks } = await import('./signed-query.js');
    return signedQueryChecks(settings, input);
  },
});
