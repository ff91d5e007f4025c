import type { DnsConfig } from '../../config/types.js';
import { GxitError } from '../../errors.js';
import type { DnsProvider } from './types.js';

/**
 * One descriptor per provider: its name, what it needs, and how to load it. The modules are
 * imported only when their provider is used (the AWS SDK costs ~100 ms to load).
 */
export interface ProviderDescriptor {
  name: DnsConfig['provider'];
  summary: string;
  load(dns: DnsConfig): Promise<DnsProvider>;
}

export const PROVIDERS: readonly ProviderDescriptor[] = [
  {
    name: 'rfc2136',
    summary: 'RFC 2136 dynamic updates signed with TSIG (BIND, Knot, PowerDNS, ...)',
    async load(dns) {
      const { createRfc2136Provider } = await import('./rfc2136.js');
      if (!dns.rfc2136) throw missingSection('rfc2136');
      return createRfc2136Provider(dns.rfc2136);
    },
  },
  {
    name: 'route53',
    summary: 'Amazon Route 53 through the AWS SDK (hosted zone found by name, or hosted_zone_id)',
    async load(dns) {
      const { createRoute53Provider } = await import('./route53.js');
      if (!dns.route53) throw missingSection('route53');
      return createRoute53Provider(dns.route53, { changeTimeoutMs: dns.propagationTimeout * 1000 });
    },
  },
];

export async function loadProvider(dns: DnsConfig): Promise<DnsProvider> {
  const descriptor = PROVIDERS.find((p) => p.name === dns.provider);
  if (!descriptor) {
    throw new GxitError('CONFIG_INVALID', `dns.provider: unknown provider "${dns.provider}"`, {
      subject: 'dns.provider',
      fix: `use one of: ${PROVIDERS.map((p) => p.name).join(', ')}`,
    });
  }
  return descriptor.load(dns);
}

function missingSection(name: string): GxitError {
  return new GxitError('CONFIG_INVALID', `dns.${name}: section missing for dns.provider ${name}`, {
    subject: `dns.${name}`,
    fix: `add a dns.${name} section (see the README's configuration reference)`,
  });
}
