import type { ServerAddress } from '../config/types.js';
import { GxitError } from '../errors.js';
import { abortable, sleep as timerSleep, withLinkedSignal } from './abort.js';
import { RRType, type DnsMessage } from './message.js';
import { authoritativeNameservers, type Nameserver } from './nameservers.js';
import type { TxtRecord } from './provider.js';
import { formatServer, type QueryFn } from './resolver.js';
import { findZone } from './zone.js';

export interface PropagationOptions {
  query: QueryFn;
  resolvers: ServerAddress[];
  /** Port the authoritative servers answer on. */
  nameserverPort: number;
  timeoutMs: number;
  /** First poll interval; it grows by half each round up to maxIntervalMs. */
  intervalMs: number;
  maxIntervalMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  onProgress?: (pending: PendingCheck[]) => void;
  /**
   * Stops the wait at once (in-flight queries included: the signal reaches the transport through
   * `query`); the wait then rejects with the signal's reason.
   */
  signal?: AbortSignal;
}

export interface PendingCheck {
  fqdn: string;
  nameserver: string;
  missing: string[];
}

/** TXT values a reply serves at exactly this name (a CNAME at the name is not a TXT). */
export function txtValuesAt(reply: DnsMessage, fqdn: string): Set<string> {
  const values = new Set<string>();
  for (const rr of reply.answers) {
    if (rr.type !== RRType.TXT || rr.name !== fqdn) continue;
    values.add(Array.isArray(rr.data) ? rr.data.join('') : String(rr.data));
  }
  return values;
}

/** Values still missing from a reply; all of them when the server did not answer authoritatively. */
export function missingValues(reply: DnsMessage | undefined, fqdn: string, expected: string[]): string[] {
  if (!reply || reply.rcode !== 0 || !reply.aa) return expected;
  const served = txtValuesAt(reply, fqdn);
  return expected.filter((value) => !served.has(value));
}

/** Expected values per owner name. */
export function groupByName(records: TxtRecord[]): Map<string, string[]> {
  const byName = new Map<string, string[]>();
  for (const { fqdn, value } of records) byName.set(fqdn, [...(byName.get(fqdn) ?? []), value]);
  return byName;
}

interface Lag {
  address: ServerAddress;
  missing: string[];
}

interface Check {
  fqdn: string;
  expected: string[];
  nameserver: Nameserver;
  /** Undefined once every address of the nameserver serves every value. */
  lag: Lag | undefined;
}

/**
 * One nameserver serves the values only when every one of its addresses does: a CA may ask any of
 * them (anycast sites, IPv4 and IPv6 behind one name). Returns the address that lags and what it
 * lacks, or undefined when all of them serve everything.
 */
async function poll(query: QueryFn, check: Check): Promise<Lag | undefined> {
  const replies = await Promise.all(check.nameserver.addresses.map(async (address) => ({
    address,
    missing: missingValues(await query(address, check.fqdn, RRType.TXT).catch(() => undefined), check.fqdn, check.expected),
  })));
  const lagging = replies.find((r) => r.missing.length > 0);
  return lagging === undefined ? undefined : { address: lagging.address, missing: lagging.missing };
}

/**
 * Waits until every authoritative nameserver of each record's zone serves every expected value,
 * asking them all concurrently and often: no fixed sleep, and no trust in the first server that
 * answers (a lagging secondary is exactly what makes a CA see no record).
 */
export async function waitForPropagation(records: TxtRecord[], opts: PropagationOptions): Promise<void> {
  opts.signal?.throwIfAborted();
  // Many queries run at once: they listen to a signal of our own, the caller's gets one listener.
  return withLinkedSignal(opts.signal, (signal) => waitUntilServed(records, opts, signal));
}

async function waitUntilServed(records: TxtRecord[], opts: PropagationOptions, signal: AbortSignal): Promise<void> {
  const now = opts.now ?? Date.now;
  // Every wait and every query ends when the signal fires, whatever the injected functions do.
  const sleep = (ms: number): Promise<void> => (opts.sleep ? abortable(opts.sleep(ms), signal) : timerSleep(ms, signal));
  const query: QueryFn = (server, name, type, o) => abortable(opts.query(server, name, type, { ...o, signal }), signal);
  const deadline = now() + opts.timeoutMs;

  const zoneServers = new Map<string, Promise<Nameserver[]>>();
  const nameserversOf = (zone: string): Promise<Nameserver[]> => {
    let found = zoneServers.get(zone);
    if (!found) {
      found = authoritativeNameservers(query, opts.resolvers, zone, opts.nameserverPort);
      zoneServers.set(zone, found);
    }
    return found;
  };
  const perName = await abortable(Promise.all(
    [...groupByName(records)].map(async ([fqdn, expected]): Promise<Check[]> => {
      const zone = await findZone(query, opts.resolvers, fqdn, { recursionDesired: true });
      const nameservers = await nameserversOf(zone);
      return nameservers.map((nameserver) => {
        if (nameserver.addresses.length === 0) {
          throw new GxitError('DNS_NO_NAMESERVERS', `nameserver ${nameserver.name} of zone ${zone} has no address`, {
            subject: nameserver.name,
            fix: 'add A/AAAA records (or glue) for the nameserver, or check dns.resolvers',
          });
        }
        return { fqdn, expected, nameserver, lag: { address: nameserver.addresses[0] as ServerAddress, missing: expected } };
      });
    }),
  ), signal);
  const checks = perName.flat();

  let interval = opts.intervalMs;
  for (;;) {
    const open = checks.filter((c) => c.lag !== undefined);
    await abortable(Promise.all(open.map(async (c) => { c.lag = await poll(query, c); })), signal);
    const pending = checks.filter((c) => c.lag !== undefined);
    if (pending.length === 0) return;
    opts.onProgress?.(pending.map(describe));
    if (now() + interval > deadline) throw propagationTimeout(pending, opts.timeoutMs);
    await sleep(interval);
    interval = Math.min(Math.round(interval * 1.5), opts.maxIntervalMs ?? 1000);
  }
}

function describe(c: Check): PendingCheck {
  const lag = c.lag ?? { address: c.nameserver.addresses[0] as ServerAddress, missing: [] };
  return { fqdn: c.fqdn, nameserver: `${c.nameserver.name} at ${formatServer(lag.address)}`, missing: lag.missing };
}

function propagationTimeout(pending: Check[], timeoutMs: number): GxitError {
  const first = describe(pending[0] as Check);
  const others = pending.length > 1 ? ` (and ${pending.length - 1} more)` : '';
  return new GxitError(
    'DNS_PROPAGATION_TIMEOUT',
    `${first.nameserver} did not serve the TXT record at ${first.fqdn} within ${Math.round(timeoutMs / 1000)} s${others}`,
    {
      subject: first.fqdn,
      fix: 'check that every nameserver of the zone receives updates (NOTIFY/transfers from the primary), or raise dns.propagation_timeout',
    },
  );
}
