/** Host: each certificate name that is not a wildcard (and dns.expect_target) has an address. */
import { RCode } from '../dns/message.js';
import { isGxitError, messageOf } from '../errors.js';
import { describeAddressResolution, resolveAddresses, type AddressResolution } from './lookup.js';
import { fail, ok, type CheckResult } from './types.js';
import type { LookupDeps } from './wildcard.js';

export function gatherHost(deps: LookupDeps, host: string): Promise<AddressResolution> {
  return resolveAddresses(deps.query, deps.resolvers, host);
}

export function evaluateHost(r: AddressResolution): CheckResult {
  const chain = describeAddressResolution(r);
  if (r.addresses.length > 0) return ok('host', r.name, chain);
  if (r.error !== undefined) {
    return fail('host', r.name, `looking up ${r.name} failed: ${messageOf(r.error)}`,
      isGxitError(r.error) && r.error.fix ? r.error.fix : 'check that dns.resolvers (or the system resolver) answer');
  }
  if (r.rcode !== RCode.NOERROR && r.rcode !== RCode.NXDOMAIN) {
    return fail('host', r.name, `the lookup servers answered ${chain}`, `check that dns.resolvers (or the system resolver) answer queries for ${r.name}`);
  }
  const at = r.chain.length > 0 ? r.final : r.name;
  return fail('host', r.name, `has no address (A or AAAA): ${chain}`,
    `add an address record for the Galaxy server, e.g. "${at}. A <its IPv4 address>"`);
}
