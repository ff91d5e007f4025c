/**
 * RFC 2136 dynamic update, signed with TSIG (RFC 8945): BIND, Knot, PowerDNS, Windows DNS.
 *
 * One UPDATE per zone per call, so a batch is applied atomically by the server. Adds are class IN;
 * deletes name the exact value (class NONE), so foreign values and sibling challenges at the same
 * name survive. A reply counts as success only when its rcode is NOERROR and, with a key, its
 * TSIG signature verifies against our request.
 *
 * Update servers (dns.rfc2136.server, one or a list; host names give all their addresses) are tried
 * in turn: the first one that accepts a zone's UPDATE wins, and the cleanup of those records goes to
 * that same address. The per-attempt timeout applies to each address.
 *
 * Honest cleanup: only records that may have reached a server are removed. A batch that a server
 * rejected, or that never left this machine (zone not found, connection refused), needs no cleanup.
 * A batch sent to an address that never answered anything may or may not have been applied: it is
 * not sent a second round of deletes (that would only wait for the same timeouts again); cleanup
 * says so, and the journal (orchestrate/journal.ts) keeps the values for the next run.
 *
 * The caller's signal reaches every SOA query and UPDATE (the transport closes its socket when it fires).
 */
import type { DnsCommon } from '../../../config/types.js';
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
import { resolverLookup, systemLookup, updateTargets, type HostResolver, type UpdateTarget } from './servers.js';

export interface Rfc2136Deps {
  exchange?: ExchangeFn;
  /** Clock in milliseconds since the epoch (TSIG time signed and reply time check). */
  now?: () => number;
  /** How host names in dns.rfc2136.server are looked up; default: dns.resolvers, else the system resolver. */
  resolveHost?: HostResolver;
}

/** How one batch fared at one address. */
type Outcome =
  | { kind: 'accepted' }
  /** The server answered and did not apply it, or the request never left (refused connection, no zone). */
  | { kind: 'not-applied'; error: unknown }
  /** Sent, but no valid answer came back: it may have been applied. */
  | { kind: 'unknown'; error: unknown };

const NO_ANSWER = new Set(['DNS_TIMEOUT']);

export function createRfc2136Provider(cfg: Rfc2136Config, deps: Rfc2136Deps = {}, dns: Pick<DnsCommon, 'resolvers'> = {}): DnsProvider {
  const send = deps.exchange ?? exchange;
  const now = deps.now ?? Date.now;
  const transport = { tcp: cfg.tcp, timeoutMs: cfg.timeoutMs, retries: cfg.retries };
  const soaQuery: QueryFn = (target, name, type, opts) => query(target, name, type, { ...opts, ...transport, exchange: send });
  const lookupQuery: QueryFn = (target, name, type, opts) => query(target, name, type, { ...opts, exchange: send });
  const resolveHost = deps.resolveHost ?? (dns.resolvers && dns.resolvers.length > 0 ? resolverLookup(lookupQuery, dns.resolvers) : systemLookup);
  const configuredZone = cfg.zone === undefined ? undefined : normalizeName(cfg.zone);
  const keyOf = (r: { fqdn: string; value: string }): string => `${normalizeName(r.fqdn)} ${r.value}`;
  const serversText = cfg.servers.map(formatServer).join(', ');

  // The addresses to try, found once per provider (one run); a failed lookup is tried again next time.
  let targets: Promise<UpdateTarget[]> | undefined;
  const targetsOf = (signal: AbortSignal): Promise<UpdateTarget[]> => {
    if (targets === undefined) {
      const found = updateTargets(cfg.servers, resolveHost, signal);
      targets = found;
      found.catch(() => {
        targets = undefined;
      });
    }
    return targets;
  };

  // Per address: did it ever answer (any reply)? One that never did gets no second round of timeouts.
  const answered = new Set<string>();
  const silent = new Set<string>();
  // Where each record is (accepted) or may be (sent, no answer): certmagic's rule, remember what you added.
  const acceptedAt = new Map<string, UpdateTarget>();
  const maybeAt = new Map<string, UpdateTarget[]>();

  // Zone per (address, owner name), for this provider's lifetime; failures are not kept.
  const zones = new Map<string, Promise<string>>();
  function zoneOf(target: UpdateTarget, fqdn: string, signal: AbortSignal): Promise<string> {
    if (configuredZone !== undefined) {
      if (isInZone(fqdn, configuredZone)) return Promise.resolve(configuredZone);
      return Promise.reject(
        new GxitError('DNS_ZONE_NOT_FOUND', `${fqdn} is not inside the configured zone ${configuredZone}`, {
          subject: fqdn,
          fix: 'remove dns.rfc2136.zone so the zone of each name is found by SOA queries, or set it to the zone that holds this name',
        }),
      );
    }
    const key = `${target.label} ${fqdn}`;
    let zone = zones.get(key);
    if (!zone) {
      zone = findZone(soaQuery, [target.address], fqdn, { recursionDesired: false, signal });
      zone.then(() => answered.add(target.label), (error: unknown) => noteSilence(target, error));
      zones.set(key, zone);
      zone.catch(() => zones.delete(key));
    }
    return zone;
  }

  function noteSilence(target: UpdateTarget, error: unknown): void {
    if (error instanceof GxitError && NO_ANSWER.has(error.code) && !answered.has(target.label)) silent.add(target.label);
    else if (error instanceof GxitError && error.code === 'DNS_ZONE_NOT_FOUND') answered.add(target.label);
  }

  /** Sends one UPDATE to one address and says what became of it. */
  async function update(target: UpdateTarget, zone: string, changes: UpdateChanges, signal: AbortSignal): Promise<Outcome> {
    const server = target.address;
    const names = [...changes.add, ...changes.remove].map((c) => c.name);
    const request = buildUpdate(zone, changes);
    const seconds = (): number => Math.floor(now() / 1000);
    const signed = cfg.tsig ? signMessage(request, cfg.tsig, { timeSigned: seconds() }) : undefined;
    let raw: Buffer;
    try {
      raw = await send(server, signed?.signed ?? request, { ...transport, signal });
    } catch (error) {
      noteSilence(target, error);
      // A refused connection or port-unreachable: the request never reached a DNS server.
      if (error instanceof GxitError && error.code === 'DNS_UNREACHABLE') return { kind: 'not-applied', error };
      return { kind: 'unknown', error };
    }
    answered.add(target.label);
    silent.delete(target.label);
    let reply: DnsMessage;
    try {
      reply = parseMessage(raw);
    } catch (error) {
      return {
        kind: 'unknown',
        error: new GxitError('DNS_BAD_RESPONSE', `${target.label} sent a malformed reply to the update for zone ${zone}: ${messageOf(error)}`, {
          subject: `zone ${zone} at server ${target.label}`,
          fix: 'check that dns.rfc2136.server points at a DNS server',
          cause: error,
        }),
      };
    }
    if (reply.opcode !== Opcode.UPDATE) {
      return {
        kind: 'unknown',
        error: new GxitError('DNS_BAD_RESPONSE', `${target.label} answered the update for zone ${zone} with opcode ${reply.opcode}`, {
          subject: `zone ${zone} at server ${target.label}`,
          fix: 'check that dns.rfc2136.server points at a DNS server that supports dynamic updates',
        }),
      };
    }
    const failure = { server, zone, keyName: cfg.tsig?.name, algorithm: cfg.tsig?.algorithm, names };
    const verdict = cfg.tsig && signed ? verifyResponse(raw, cfg.tsig, signed.requestMac, { now: seconds() }) : undefined;
    // A failure is reported as such even unverified: a forged failure can only stop us, never
    // make us believe a record exists. Success, though, must carry a valid signature.
    if (verdict && !verdict.ok && verdict.tsigError) {
      return { kind: 'not-applied', error: describeUpdateFailure({ ...failure, rcode: reply.rcode, tsigError: verdict.tsigError }) };
    }
    if (reply.rcode !== 0) return { kind: 'not-applied', error: describeUpdateFailure({ ...failure, rcode: reply.rcode }) };
    if (verdict && !verdict.ok && cfg.tsig) {
      return {
        kind: 'unknown',
        error: describeUnverifiedReply({ reason: verdict.reason, detail: verdict.detail, rcode: reply.rcode, server, zone, keyName: cfg.tsig.name }),
      };
    }
    return { kind: 'accepted' };
  }

  /** Groups records by their zone as this address sees it. */
  async function byZone(target: UpdateTarget, records: TxtRecord[], signal: AbortSignal): Promise<Map<string, TxtRecord[]>> {
    const owners = await Promise.all(records.map((r) => zoneOf(target, r.fqdn, signal)));
    const groups = new Map<string, TxtRecord[]>();
    records.forEach((r, i) => {
      const zone = owners[i] as string;
      groups.set(zone, [...(groups.get(zone) ?? []), r]);
    });
    return groups;
  }

  function unique(records: TxtRecord[]): TxtRecord[] {
    const found = new Map<string, TxtRecord>();
    for (const r of records) found.set(keyOf(r), { fqdn: normalizeName(r.fqdn), value: r.value });
    return [...found.values()];
  }

  /**
   * Tries the addresses in turn for what is still pending; every zone's batch goes on to the next
   * address only when the previous one did not accept it. Resolves when all were accepted.
   */
  async function writeAnywhere(
    records: TxtRecord[],
    signal: AbortSignal,
    changes: (batch: TxtRecord[]) => UpdateChanges,
    onSent: (target: UpdateTarget, batch: TxtRecord[]) => void,
    onOutcome: (target: UpdateTarget, batch: TxtRecord[], outcome: Outcome) => void,
  ): Promise<void> {
    signal.throwIfAborted();
    if (records.length === 0) return;
    await withLinkedSignal(signal, async (linked) => {
      const all = await targetsOf(linked);
      let pending = unique(records);
      const errors: unknown[] = [];
      for (const target of all) {
        if (pending.length === 0) break;
        linked.throwIfAborted();
        let groups: Map<string, TxtRecord[]>;
        try {
          groups = await byZone(target, pending, linked);
        } catch (error) {
          linked.throwIfAborted();
          errors.push(error);
          continue;
        }
        const results = await Promise.all(
          [...groups].map(async ([zone, batch]) => {
            onSent(target, batch);
            const outcome = await update(target, zone, changes(batch), linked);
            onOutcome(target, batch, outcome);
            return { batch, outcome };
          }),
        );
        linked.throwIfAborted();
        const accepted = new Set(results.filter((r) => r.outcome.kind === 'accepted').flatMap((r) => r.batch.map(keyOf)));
        for (const r of results) if (r.outcome.kind !== 'accepted') errors.push(r.outcome.error);
        pending = pending.filter((r) => !accepted.has(keyOf(r)));
      }
      if (pending.length > 0) throw firstOf(errors, all.length);
    });
  }

  /** The first failure, saying how many addresses were tried when there was more than one. */
  function firstOf(errors: unknown[], tried: number): unknown {
    const first = errors[0];
    if (tried <= 1 || !(first instanceof GxitError)) return first;
    return new GxitError(first.code, `${first.message} (and ${tried - 1} more update server address(es) of ${serversText} failed too)`, {
      ...(first.subject === undefined ? {} : { subject: first.subject }),
      ...(first.fix === undefined ? {} : { fix: first.fix }),
      cause: first,
    });
  }

  const present = async (records: TxtRecord[], signal: AbortSignal): Promise<void> => {
    signal.throwIfAborted();
    await writeAnywhere(
      records,
      signal,
      (batch) => ({ add: batch.map((r) => ({ name: r.fqdn, value: r.value, ttl: cfg.ttl })), remove: [] }),
      (target, batch) => {
        for (const r of batch) maybeAt.set(keyOf(r), [...(maybeAt.get(keyOf(r)) ?? []), target]);
      },
      (target, batch, outcome) => {
        for (const r of batch) {
          const key = keyOf(r);
          if (outcome.kind === 'accepted') acceptedAt.set(key, target);
          if (outcome.kind === 'not-applied') maybeAt.set(key, (maybeAt.get(key) ?? []).filter((t) => t !== target));
        }
      },
    );
  };

  /** Deletes at one address; throws its error when it did not accept. */
  async function removeAt(target: UpdateTarget, records: TxtRecord[], signal: AbortSignal): Promise<void> {
    const groups = await byZone(target, records, signal);
    const results = await Promise.all([...groups].map(([zone, batch]) => update(target, zone, { add: [], remove: batch.map((r) => ({ name: r.fqdn, value: r.value })) }, signal)));
    for (const r of results) if (r.kind !== 'accepted') throw r.error;
  }

  /**
   * Deletes exactly the values this provider may have added, at the addresses they may be at;
   * values it never sent are left alone, and an address that never answered is not asked again.
   */
  const cleanup = async (records: TxtRecord[], signal: AbortSignal): Promise<void> => {
    signal.throwIfAborted();
    const perTarget = new Map<UpdateTarget, TxtRecord[]>();
    const unanswered: TxtRecord[] = [];
    for (const r of unique(records)) {
      const key = keyOf(r);
      const accepted = acceptedAt.get(key);
      // Accepted: the cleanup goes to that server (the servers of one list serve the same zones).
      const places = accepted !== undefined ? [accepted] : (maybeAt.get(key) ?? []);
      const reachable = places.filter((t) => !silent.has(t.label));
      if (places.length > reachable.length) unanswered.push(r);
      for (const t of reachable) perTarget.set(t, [...(perTarget.get(t) ?? []), r]);
    }
    await withLinkedSignal(signal, async (linked) => {
      const results = await Promise.allSettled(
        [...perTarget].map(async ([target, batch]) => {
          await removeAt(target, batch, linked);
          for (const r of batch) {
            const key = keyOf(r);
            if (acceptedAt.get(key) === target) {
              acceptedAt.delete(key);
              maybeAt.delete(key);
              continue;
            }
            const rest = (maybeAt.get(key) ?? []).filter((t) => t !== target);
            if (rest.length === 0) maybeAt.delete(key);
            else maybeAt.set(key, rest);
          }
        }),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    });
    if (unanswered.length > 0) {
      const where = [...new Set(unanswered.flatMap((r) => (maybeAt.get(keyOf(r)) ?? []).filter((t) => silent.has(t.label)).map((t) => t.label)))].join(', ');
      throw new GxitError('DNS_TIMEOUT', `${where} never answered, so whether it applied the update for ${[...new Set(unanswered.map((r) => r.fqdn))].join(', ')} is unknown; it was not asked again`, {
        subject: `server ${where}`,
        fix: 'check that the server is running and reachable; a later run removes the values once it answers',
      });
    }
  };

  /** An earlier run's values: the first address that accepts the deletes wins (deleting an absent value is a no-op). */
  const removeLeftovers = async (records: TxtRecord[], signal: AbortSignal): Promise<void> => {
    await writeAnywhere(records, signal, (batch) => ({ add: [], remove: batch.map((r) => ({ name: r.fqdn, value: r.value })) }), () => undefined, () => undefined);
  };

  const firstTarget = (signal: AbortSignal): Promise<UpdateTarget> =>
    targetsOf(signal).then((all) => all[0] ?? Promise.reject(new GxitError('INTERNAL', 'dns.rfc2136.server lists no server')));

  const probe = (name: string, opts: ProbeOptions): Promise<ProbeResult> =>
    runProbe(
      normalizeName(name),
      {
        locate: async (fqdn, signal) => `in zone ${await zoneOf(await firstTarget(signal), fqdn, signal)}`,
        add: (record, signal) => present([record], signal),
        remove: (record, signal) => cleanup([record], signal),
        how: `via ${serversText}${cfg.tsig ? ` with key ${cfg.tsig.name}` : ''}`,
      },
      opts,
    );

  const identity = `servers ${serversText}${configuredZone === undefined ? '' : `, zone ${configuredZone}`}${cfg.tsig ? `, key ${cfg.tsig.name}` : ', no key'}`;
  return { name: 'rfc2136', identity, present, cleanup, removeLeftovers, probe };
}
