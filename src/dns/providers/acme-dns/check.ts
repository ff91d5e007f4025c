/**
 * check-dns for acme-dns: every challenge name must be a CNAME to the fulldomain of its registration.
 * check-dns has followed the CNAMEs already; a target that is a registration's fulldomain proves the
 * delegation, a target still named _acme-challenge.<domain> means the CNAME is missing.
 */
import { messageOf } from '../../../errors.js';
import type { ProviderCheckInput, ProviderCheckResult } from '../descriptor.js';
import { readCredentialsFile } from './credentials-file.js';
import type { AcmeDnsCredentials } from './credentials.js';
import type { AcmeDnsSettings } from './settings.js';

const PREFIX = '_acme-challenge.';
/** The name of this check in check-dns output. */
const CHECK = 'cname';

/** One result per challenge target (pure). */
export function evaluateCnames(targets: string[], credentials: AcmeDnsCredentials, file: string): ProviderCheckResult[] {
  return targets.map((target): ProviderCheckResult => {
    const delegatedFrom = [...credentials].filter(([, a]) => a.fulldomain === target).map(([d]) => d);
    if (delegatedFrom.length > 0) {
      return { check: CHECK, status: 'ok', subject: target, message: `${delegatedFrom.map((d) => PREFIX + d).join(', ')} lead${delegatedFrom.length === 1 ? 's' : ''} by CNAME to the acme-dns name ${target}` };
    }
    const domain = target.startsWith(PREFIX) ? target.slice(PREFIX.length) : undefined;
    const registered = domain === undefined ? undefined : credentials.get(domain);
    if (domain !== undefined && registered) {
      return {
        check: CHECK,
        status: 'fail',
        subject: target,
        message: `is not a CNAME to its acme-dns name ${registered.fulldomain}`,
        fix: `create "${target}. CNAME ${registered.fulldomain}." in the zone of ${domain}`,
      };
    }
    return {
      check: CHECK,
      status: 'fail',
      subject: target,
      message: `no registration in ${file} is served at ${target}`,
      fix: 'run gxit-cert acme-dns register and create the CNAME records it prints',
    };
  });
}

export async function cnameChecks(settings: AcmeDnsSettings, input: ProviderCheckInput): Promise<ProviderCheckResult[]> {
  let credentials: AcmeDnsCredentials;
  try {
    credentials = readCredentialsFile(settings.credentialsFile);
  } catch (error) {
    return [{ check: CHECK, status: 'fail', subject: settings.credentialsFile, message: messageOf(error), fix: 'run gxit-cert acme-dns register' }];
  }
  return evaluateCnames(input.targets, credentials, settings.credentialsFile);
}
