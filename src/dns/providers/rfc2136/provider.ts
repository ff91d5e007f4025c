/**
 * RFC 2136 dynamic update, signed with TSIG (RFC 8945): BIND, Knot, PowerDNS, Windows DNS.
 *
 * One UPDATE per zone per call, so a batch is applied atomically by the server. Adds are class IN;
 * deletes name the exact value (class NONE), so foreign values and sibling challenges at the same
 * name survive. A reply counts as success only when its rcode is NOERROR and, with a key, its
 * TSIG signature verifies against our request.
 *
 * The caller's signal reaches every SOA query and UPDATE (the transport closes its socket when it
 * fires); an UPDATE already sent may still be applied, so its records stay "maybe added" for cleanup.
 */
import type { Rfc2136Config } from './settings.js';
import { GxitError, messageOf } from '../../../errors.js';
import { buildUpdate, isInZone, Opcode, parseMessage, type DnsMessage, type UpdateChanges } from '../../message.js';
import { query } from '../../query.js';
import { describeUnverifiedReply, describeUpdateFailure } from '../../rcode.js';
import { formatServer, normalizeName, type QueryFn } from '../../resolver.js';
import { exchange, type ExchangeFn } from '../../transport.js';
import { signMessage, verifyResponse } from '../../tsig.js';
import { findZone } from '../../zone.js';
import { withLinkedSignal } from '../../abort.js';
import { runProbe } from '../probe.js';
import type { DnsProvider, ProbeOptions, ProbeResult, TxtRecord } from '../../provider.js';

export interface Rfc2136Deps {
  exchange?: ExchangeFn;
  /** Clock in milliseconds since the epoch (TSIG time signed and reply time check). */
  now?: () => number;
}

export function createRfc2136Provider(cfg: Rfc2136Config, deps: Rfc2136Deps = {}): DnsProvider {
  const send = deps.exchange ?? exchange;
  const now = deps.now ?? Date.now;
  const server = formatServer(cfg.server);
  const transport = { tcp: cfg.tcp, timeoutMs: cfg.timeoutMs, retries: cfg.retries };
  const soaQuery: QueryFn = (target, name, type, opts) => query(target, name, type, { ...opts, ...transport, exchange: send });
  const configuredZone = cfg.zone === undefined ? undefined : normalizeName(cfg.zone);
  // Zone per owner name, for this provider's lifetime (one run); failures are not kept.
  const zones = new Map<string, Promise<string>>();

  function zoneOf(fqdn: string, signal: AbortSignal): Promise<string> {
    if (configuredZone !== undefined) {
      if (isInZone(fqdn, configuredZone)) return Promise.resolve(configuredZone);
      return Promise.reject(
        new GxitError('DNS_ZONE_NOT_FOUND', `${fqdn} is not inside the configured zone ${configuredZone}`, {
          subject: fqdn,
          fix: 'remove dns.rfc2136.zone so the zone of each name is found by SOA queries, or set it to the zone that holds this name',
        }),
      );
    }
    let zone = zones.get(fqdn);
    if (!zone) {
      zone = findZone(soaQuery, [cfg.server], fqdn, { recursionDesired: false, signal });
      zones.set(fqdn, zone);
      zone.catch(() => zones.delete(fqdn));
    }
    return zone;
  }

  async function byZone(records: TxtRecord[], signal: AbortSignal): Promise<Map<string, TxtRecord[]>> {
    const unique = new Map<string, TxtRecord>();
    for (const r of records) {
      const fqdn = normalizeName(r.fqdn);
      unique.set(`${fqdn} ${r.value}`, { fqdn, value: r.value });
    }
    const list = [...unique.values()];
    const owners = await Promise.all(list.map((r) => zoneOf(r.fqdn, signal)));
    const groups = new Map<string, TxtRecord[]>();
    list.forEach((r, i) => {
      const zone = owners[i] as string;
      groups.set(zone, [...(groups.get(zone) ?? []), r]);
    });
    return groups;
  }

  // Records this provider may have put on a server (certmagic: remember exactly what you added).
  // An UPDATE is atomic, so a reply that rejects it means none of its records were added; a lost
  // reply leaves them "maybe added", and cleanup deletes them all the same.
  const maybeAdded = new Set<string>();
  const keyOf = (r: { fqdn: string; value: string }): string => `${normalizeName(r.fqdn)} ${r.value}`;

  /** Sends one UPDATE; `onRejected` runs when the server definitely did not apply it. */
  async function update(zone: string, changes: UpdateChanges, signal: AbortSignal, onRejected: () => void = () => {}): Promise<void> {
    const names = [...changes.add, ...changes.remove].map((c) => c.name);
    const request = buildUpdate(zone, changes);
    const seconds = (): number => Math.floor(now() / 1000);
    const signed = cfg.tsig ? signMessage(request, cfg.tsig, { timeSigned: seconds() }) : undefined;
    const raw = await send(cfg.server, signed?.signed ?? request, { ...transport, signal });
    let reply: DnsMessage;
    try {
      reply = parseMessage(raw);
    } catch (error) {
      throw new GxitError('DNS_BAD_RESPONSE', `${server} sent a malformed reply to the update for zone ${zone}: ${messageOf(error)}`, {
        subject: `zone ${zone} at server ${server}`,
        fix: 'check that dns.rfc2136.server points at a DNS server',
        cause: error,
      });
    }
    if (reply.opcode !== Opcode.UPDATE) {
      throw new GxitError('DNS_BAD_RESPONSE', `${server} answered the update for zone ${zone} with opcode ${reply.opcode}`, {
        subject: `zone ${zone} at server ${server}`,
        fix: 'check that dns.rfc2136.server points at a DNS server that supports dynamic updates',
      });
    }
    const failure = { server: cfg.server, zone, keyName: cfg.tsig?.name, algorithm: cfg.tsig?.algorithm, names };
    const verdict = cfg.tsig && signed ? verifyResponse(raw, cfg.tsig, signed.requestMac, { now: seconds() }) : undefined;
    // A failure is reported as such even unverified: a forged failure can only stop us, never
    // make us believe a record exists. Success, though, must carry a valid signature.
    if (verdict && !verdict.ok && verdict.tsigError) {
      onRejected();
      throw describeUpdateFailure({ ...failure, rcode: reply.rcode, tsigError: verdict.tsigError });
    }
    if (reply.rcode !== 0) {
      onRejected();
      throw describeUpdateFailure({ ...failure, rcode: reply.rcode });
    }
    if (verdict && !verdict.ok && cfg.tsig) {
      throw describeUnverifiedReply({ reason: verdict.reason, detail: verdict.detail, rcode: reply.rcode, server: cfg.server, zone, keyName: cfg.tsig.name });
    }
  }

  /** All zones are sent at once; every update has finished (or failed) before an error is thrown. */
  async function perZone(
    records: TxtRecord[],
    signal: AbortSignal,
    changes: (batch: TxtRecord[]) => UpdateChanges,
    onRejected: (batch: TxtRecord[]) => void = () => {},
  ): Promise<void> {
    signal.throwIfAborted();
    if (records.length === 0) return;
    // Zone lookups and updates run at once: they share a signal of our own (one listener on the caller's).
    await withLinkedSignal(signal, async (linked) => {
      const groups = await byZone(records, linked);
      const results = await Promise.allSettled(
        [...groups].map(([zone, batch]) => update(zone, changes(batch), linked, () => onRejected(batch))),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    });
  }

  const present = async (records: TxtRecord[], signal: AbortSignal): Promise<void> => {
    signal.throwIfAborted();
    for (const r of records) maybeAdded.add(keyOf(r));
    return perZone(
      records,
      signal,
      (batch) => ({ add: batch.map((r) => ({ name: r.fqdn, value: r.value, ttl: cfg.ttl })), remove: [] }),
      (rejected) => rejected.forEach((r) => maybeAdded.delete(keyOf(r))),
    );
  };

  /** Deletes exactly the values this provider may have added; values it never added are left alone. */
  const cleanup = async (records: TxtRecord[], signal: AbortSignal): Promise<void> => {
    const ours = records.filter((r) => maybeAdded.has(keyOf(r)));
    await perZone(ours, signal, (batch) => ({ add: [], remove: batch.map((r) => ({ name: r.fqdn, value: r.value })) }));
    for (const r of ours) maybeAdded.delete(keyOf(r));
  };

  const probe = (name: string, opts: ProbeOptions): Promise<ProbeResult> =>
    runProbe(
      normalizeName(name),
      {
        locate: async (fqdn, signal) => `in zone ${await zoneOf(fqdn, signal)}`,
        add: (record, signal) => present([record], signal),
        remove: (record, signal) => cleanup([record], signal),
        how: `via ${server}${cfg.tsig ? ` with key ${cfg.tsig.name}` : ''}`,
      },
      opts,
    );

  return { name: 'rfc2136', present, cleanup, probe };
}
