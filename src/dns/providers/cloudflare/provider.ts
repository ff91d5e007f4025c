/**
 * `provider: cloudflare`: TXT records through the Cloudflare API v4 with an API token. The zone of
 * each name is found by asking for every parent name at once (or given as zone_id); a batch
 * (`POST /zones/{id}/dns_records/batch`, atomic) adds all records of a zone in one request, and
 * cleanup deletes exactly the record ids it created (found again by name and content when this
 * process did not create them), so foreign TXT records at the same name stay.
 */
import { GxitError } from '../../../errors.js';
import { runProbe } from '../probe.js';
import type { DnsProvider, ProbeOptions, ProbeResult, TxtRecord } from '../../provider.js';
import { CloudflareApiError, createApi, isAuthFailure, type FetchFn } from './api.js';
import type { CloudflareSettings } from './settings.js';

export interface CloudflareDeps {
  fetch?: FetchFn;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

interface Zone {
  id: string;
  name: string;
}

interface DnsRecord {
  id: string;
  name: string;
  type: string;
  content: string;
}

const canonical = (name: string): string => name.trim().toLowerCase().replace(/\.$/, '');
/** Cloudflare may hand TXT content back quoted ("...") or bare. */
const unquoted = (content: string): string => (/^".*"$/s.test(content) ? content.slice(1, -1) : content);

/** The fqdn and its parents down to two labels, longest first (pure). */
export function zoneCandidates(fqdn: string): string[] {
  const labels = canonical(fqdn).split('.');
  const out: string[] = [];
  for (let i = 0; i <= labels.length - 2; i++) out.push(labels.slice(i).join('.'));
  return out;
}

export function createCloudflareProvider(settings: CloudflareSettings, deps: CloudflareDeps = {}): DnsProvider {
  const api = createApi({
    endpoint: settings.endpoint,
    token: settings.apiToken,
    timeoutMs: settings.timeoutMs,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
  });
  const zones = new Map<string, Promise<Zone>>();
  /** "fqdn value" -> record id, for the records this provider created. */
  const created = new Map<string, string>();
  const keyOf = (r: TxtRecord): string => `${canonical(r.fqdn)} ${r.value}`;

  /** Turns an API failure into one line that says what to check. */
  function explain(error: unknown, what: string, subject: string): unknown {
    if (!(error instanceof CloudflareApiError)) return error;
    if (isAuthFailure(error)) {
      return new GxitError('DNS_ACCESS_DENIED', `Cloudflare refused ${what}: ${error.errors.map((e) => `${e.code} ${e.message}`).join('; ') || `HTTP ${error.status}`} (token from ${settings.tokenSource})`, {
        subject,
        fix: 'use an API token with the permissions Zone:Read and DNS:Edit for this zone (Cloudflare dashboard: My Profile > API Tokens)',
        cause: error,
      });
    }
    return new GxitError('DNS_PROVIDER', `Cloudflare refused ${what}: ${error.message}`, {
      subject,
      fix: 'see the Cloudflare error code in the message (developers.cloudflare.com/api), then run gxit-cert check-dns',
      cause: error,
    });
  }

  async function findZone(fqdn: string, signal?: AbortSignal): Promise<Zone> {
    if (settings.zoneId !== undefined) {
      const id = settings.zoneId;
      const doc = await api.call<Zone>('GET', `/zones/${encodeURIComponent(id)}`, undefined, signal).catch((e: unknown) => {
        throw explain(e, `zone ${id}`, fqdn);
      });
      const zone = { id: doc.result.id, name: canonical(doc.result.name) };
      if (fqdn !== zone.name && !fqdn.endsWith(`.${zone.name}`)) {
        throw new GxitError('DNS_ZONE_NOT_FOUND', `${fqdn} is not inside the Cloudflare zone ${zone.name} (dns.cloudflare.zone_id ${id})`, {
          subject: fqdn,
          fix: 'remove dns.cloudflare.zone_id so the zone is found by name, or set it to the zone that holds this name',
        });
      }
      return zone;
    }
    const candidates = zoneCandidates(fqdn);
    const found = await Promise.all(
      candidates.map((name) =>
        api.list<Zone>('/zones', { name }, signal).catch((e: unknown) => {
          throw explain(e, `the zone lookup for ${name}`, fqdn);
        }),
      ),
    );
    for (const [i, name] of candidates.entries()) {
      const matches = (found[i] ?? []).filter((z) => canonical(z.name) === name);
      if (matches.length > 1) {
        throw new GxitError('DNS_ZONE_NOT_FOUND', `${matches.length} Cloudflare zones are named ${name} (${matches.map((z) => z.id).join(', ')}); gxit-cert does not guess which one holds ${fqdn}`, {
          subject: fqdn,
          fix: 'set dns.cloudflare.zone_id to the zone the domain is delegated to',
        });
      }
      const zone = matches[0];
      if (zone) return { id: zone.id, name };
    }
    throw new GxitError('DNS_ZONE_NOT_FOUND', `no Cloudflare zone this token can see holds ${fqdn} (tried ${candidates.join(', ')})`, {
      subject: fqdn,
      fix: 'check that the domain is a zone in this Cloudflare account and that the API token includes it (Zone:Read), or set dns.cloudflare.zone_id',
    });
  }

  function zoneOf(fqdn: string, signal?: AbortSignal): Promise<Zone> {
    const name = canonical(fqdn);
    let zone = zones.get(name);
    if (!zone) {
      zone = findZone(name, signal);
      zones.set(name, zone);
      zone.catch(() => zones.delete(name));
    }
    return zone;
  }

  async function byZone(records: TxtRecord[], signal?: AbortSignal): Promise<Map<string, { zone: Zone; records: TxtRecord[] }>> {
    const unique = [...new Map(records.map((r) => [keyOf(r), { fqdn: canonical(r.fqdn), value: r.value }])).values()];
    const owners = await Promise.all(unique.map((r) => zoneOf(r.fqdn, signal)));
    const groups = new Map<string, { zone: Zone; records: TxtRecord[] }>();
    unique.forEach((r, i) => {
      const zone = owners[i] as Zone;
      const group = groups.get(zone.id) ?? { zone, records: [] };
      group.records.push(r);
      groups.set(zone.id, group);
    });
    return groups;
  }

  async function settleAll(tasks: Promise<void>[]): Promise<void> {
    const results = await Promise.allSettled(tasks);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  const present = async (records: TxtRecord[], signal?: AbortSignal): Promise<void> => {
    const groups = await byZone(records, signal);
    await settleAll(
      [...groups.values()].map(async ({ zone, records: batch }) => {
        const posts = batch.map((r) => ({ type: 'TXT', name: r.fqdn, content: r.value, ttl: settings.ttl }));
        let doc;
        try {
          doc = await api.call<{ posts?: DnsRecord[] }>('POST', `/zones/${zone.id}/dns_records/batch`, { posts }, signal);
        } catch (error) {
          throw explain(error, `adding ${batch.length} TXT record(s) in zone ${zone.name}`, batch[0]?.fqdn ?? zone.name);
        }
        for (const r of doc.result.posts ?? []) created.set(`${canonical(r.name)} ${unquoted(r.content)}`, r.id);
      }),
    );
  };

  /** Ids of exactly these values: the ones we created, else found by name and content. */
  async function idsOf(zone: Zone, batch: TxtRecord[], signal?: AbortSignal): Promise<string[]> {
    const ids: string[] = [];
    const unknown = batch.filter((r) => {
      const id = created.get(keyOf(r));
      if (id !== undefined) ids.push(id);
      return id === undefined;
    });
    const names = [...new Set(unknown.map((r) => r.fqdn))];
    const listed = await Promise.all(names.map((name) => api.list<DnsRecord>(`/zones/${zone.id}/dns_records`, { type: 'TXT', name }, signal)));
    const wanted = new Set(unknown.map(keyOf));
    for (const r of listed.flat()) if (wanted.has(`${canonical(r.name)} ${unquoted(r.content)}`)) ids.push(r.id);
    return ids;
  }

  const cleanup = async (records: TxtRecord[], signal?: AbortSignal): Promise<void> => {
    if (records.length === 0) return;
    const groups = await byZone(records, signal);
    await settleAll(
      [...groups.values()].map(async ({ zone, records: batch }) => {
        try {
          const ids = await idsOf(zone, batch, signal);
          if (ids.length > 0) {
            try {
              await api.call('POST', `/zones/${zone.id}/dns_records/batch`, { deletes: ids.map((id) => ({ id })) }, signal);
            } catch (error) {
              // A batch is atomic: one id already gone (81044) fails it all. Delete one by one then.
              if (!(error instanceof CloudflareApiError) || !error.has(81044)) throw error;
              await settleAll(ids.map(async (id) => {
                await api.call('DELETE', `/zones/${zone.id}/dns_records/${id}`, undefined, signal).catch((e: unknown) => {
                  if (!(e instanceof CloudflareApiError && e.has(81044))) throw e;
                });
              }));
            }
          }
          for (const r of batch) created.delete(keyOf(r));
        } catch (error) {
          throw explain(error, `removing ${batch.length} TXT record(s) in zone ${zone.name}`, batch[0]?.fqdn ?? zone.name);
        }
      }),
    );
  };

  const probe = (fqdn: string, opts: ProbeOptions): Promise<ProbeResult> =>
    runProbe(
      canonical(fqdn),
      {
        locate: async (name, signal) => {
          const zone = await zoneOf(name, signal);
          return `in Cloudflare zone ${zone.name} (${zone.id})`;
        },
        add: (record, signal) => present([record], signal),
        remove: (record, signal) => cleanup([record], signal),
        how: `with the token from ${settings.tokenSource}`,
      },
      opts,
    );

  return { name: 'cloudflare', present, cleanup, probe };
}

