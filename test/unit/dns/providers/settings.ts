import type { Config } from '../../../../src/config/types.js';
import { rfc2136 } from '../../../../src/dns/providers/rfc2136/descriptor.js';
import type { Rfc2136Config } from '../../../../src/dns/providers/rfc2136/settings.js';
import { route53 } from '../../../../src/dns/providers/route53/descriptor.js';
import type { Route53Config } from '../../../../src/dns/providers/route53/settings.js';

/** The rfc2136 settings of a configuration (undefined for another provider), as the provider gets them. */
export function rfc2136Of(config: Config | undefined): Rfc2136Config | undefined {
  return config === undefined ? undefined : rfc2136.open(config.dns.settings);
}

/** The route53 settings of a configuration (undefined for another provider). */
export function route53Of(config: Config | undefined): Route53Config | undefined {
  return config === undefined ? undefined : route53.open(config.dns.settings);
}
