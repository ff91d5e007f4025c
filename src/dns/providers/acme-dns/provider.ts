/**
 * `provider: acme-dns`: the TXT values go to an acme-dns server (github.com/acme-dns/acme-dns) that
 * the challenge names are delegated to by CNAME (`_acme-challenge.<name> CNAME <fulldomain>`, created
 * once by whoever runs the zone). The challenge target found by following that CNAME is the
 * registration's fulldomain; an update sets one of the two values acme-dns keeps per subdomain.
 *
 * acme-dns has no delete: cleanup has nothing to remove. The two latest values stay at the
 * fulldomain until the next order replaces them (random tokens of finished validations, and no
 * record in the site's own zone).
 */
import { randomBytes } from 'node:crypto';
import { GxitError, messageOf } from '../../../errors.js';
import type { DnsProvider, ProbeOptions, ProbeResult, TxtRecord } from '../../provider.js';
import { update, type FetchFn } from './client.js';
import type { AcmeDnsSettings } from './settings.js';
import { checkOrder, domainKey, VALUES_PER_SUBDOMAIN, type AcmeDnsAccount, type AcmeDnsCredentials } from './credentials.js';

export interface AcmeDnsDeps {
  fetch?: FetchFn;
}


/**
 * The registration a record is written with (pure): the one whose fulldomain the challenge name's
 * CNAME led to. A challenge name that was not delegated means the CNAME is missing.
 */
export function accountFor(record: TxtRecord, credentials: AcmeDnsCredentials, file: string): { domain: string; account: AcmeDnsAccount } {
  const fqdn = record.fqdn.toLowerCase().replace(/\.$/, '');
  const byTarget = [...credentials].filter(([, a]) => a.fulldomain === fqdn);
  const wanted = record.domain === undefined ? undefined : domainKey(record.domain);
  const match = byTarget.find(([d]) => d === wanted) ?? byTarget[0];
  if (match) return { domain: match[0], account: match[1] };
  const domain = wanted ?? (fqdn.startsWith('_acme-challenge.') ? fqdn.slice('_acme-challenge.'.length) : undefined);
  const registered = domain === undefined ? undefined : credentials.get(domain);
  if (domain !== undefined && registered) {
    throw new GxitError('DNS_PROVIDER', `_acme-challenge.${domain} is not a CNAME to its acme-dns name ${registered.fulldomain}`, {
      subject: `_acme-challenge.${domain}`,
      fix: `create "_acme-challenge.${domain}. CNAME ${registered.fulldomain}." in the zone of ${domain} (gxit-cert acme-dns register prints the records)`,
    });
  }
  throw new GxitError('CONFIG_INVALID', `no acme-dns registration in ${file} is served at ${fqdn}`, {
    subject: fqdn,
    fix: 'run gxit-cert acme-dns register and create the CNAME records it prints',
  });
}

/** A probe value acme-dns accepts: it takes only 43-character base64url values, like a real challenge. */
export function probeValue(): string {
  return `gxit-cert-probe-${randomBytes(21).toString('base64url').slice(0, 27)}`;
}

export function createAcmeDnsProvider(settings: AcmeDnsSettings, credentials: AcmeDnsCredentials, deps: AcmeDnsDeps = {}): DnsProvider {
  const opts = (signal?: AbortSignal) => ({ timeoutMs: settings.timeoutMs, ...(deps.fetch ? { fetch: deps.fetch } : {}), ...(signal ? { signal } : {}) });

  const present = async (records: TxtRecord[], signal?: AbortSignal): Promise<void> => {
    const unique = [...new Map(records.map((r) => [`${r.fqdn.toLowerCase()} ${r.value}`, r as TxtRecord])).values()];
    const targets = unique.map((r) => ({ record: r, ...accountFor(r, credentials, settings.credentialsFile) }));
    // Checked before the first update: a third value would push out one the CA is about to read.
    const perSubdomain = new Map<string, number>();
    for (const t of targets) perSubdomain.set(t.account.fulldomain, (perSubdomain.get(t.account.fulldomain) ?? 0) + 1);
    for (const [fulldomain, count] of perSubdomain) {
      if (count > VALUES_PER_SUBDOMAIN) {
        throw new GxitError('DNS_PROVIDER', `${count} challenge values for the acme-dns subdomain ${fulldomain}, which keeps only ${VALUES_PER_SUBDOMAIN}`, {
          subject: fulldomain,
          fix: 'give each base name (with its wildcard) its own acme-dns registration',
        });
      }
    }
    const results = await Promise.allSettled(targets.map((t) => update(settings.api, t.account, t.record.value, t.domain, opts(signal))));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  };

  // acme-dns has no delete; the values are replaced by the next order's.
  const cleanup = async (): Promise<void> => {};

  const probe = async (fqdn: string, probeOpts: ProbeOptions): Promise<ProbeResult> => {
    let target: { domain: string; account: AcmeDnsAccount };
    try {
      target = accountFor({ fqdn, value: '' }, credentials, settings.credentialsFile);
    } catch (error) {
      return { ok: false, detail: messageOf(error), ...(error instanceof GxitError && error.fix ? { fix: error.fix } : {}) };
    }
    const record = { fqdn: target.account.fulldomain, value: probeValue() };
    const what = `TXT "${record.value}" at ${record.fqdn} via acme-dns ${target.account.server_url ?? settings.api} (registration of ${target.domain})`;
    try {
      await update(settings.api, target.account, record.value, target.domain, opts(probeOpts.signal));
    } catch (error) {
      return { ok: false, detail: messageOf(error), ...(error instanceof GxitError && error.fix ? { fix: error.fix } : {}) };
    }
    try {
      await probeOpts.whilePresent?.(record);
    } catch (error) {
      return { ok: false, detail: `set ${what}, but ${messageOf(error)}` };
    }
    return { ok: true, retained: true, detail: `set ${what} (acme-dns keeps the two latest values; the next order replaces it)` };
  };

  return {
    name: 'acme-dns',
    present,
    cleanup,
    probe,
    checkOrder: (certificate, domains) => checkOrder(certificate, domains, credentials, settings.credentialsFile),
  };
}
