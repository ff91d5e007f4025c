/**
 * Zone and nameservers: the zone of each challenge name (SOA), its NS set, each nameserver address
 * asked over UDP and over TCP (a CA may use either), authoritative (AA) for the zone, and serving the
 * same SOA serial as the others. A nameserver that lags behind is exactly what makes a CA see no TXT
 * record, so a differing serial gets a short grace (an update may be on its way) and is then named.
 */
import type { ServerAddress } from '../config/types.js';
import { RCode, RRType, rcodeName, type DnsMessage, type SoaData } from '../dns/message.js';
import { authoritativeNameservers, type Nameserver } from '../dns/nameservers.js';
import { formatServer } from '../dns/resolver.js';
import { isGxitError, messageOf } from '../errors.js';
import { fail, ok, type CheckResult } from './types.js';
import type { LookupDeps } from './wildcard.js';

/** One question straight to one server, over TCP when asked; never cached. */
export type AskFn = (server: ServerAddress, name: string, type: number, opts: { tcp?: boolean }) => Promise<DnsMessage>;

export interface NameserverDeps extends LookupDeps {
  ask: AskFn;
  nameserverPort: number;
  /** How long a lagging serial may take to catch up before it is reported. */
  serialGraceMs: number;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
}

export type Outcome = { reply: DnsMessage; error?: undefined } | { reply?: undefined; error: unknown };

export interface ServerFacts {
  nameserver: string;
  /** Undefined when the nameserver has no address. */
  address?: ServerAddress;
  udp?: Outcome;
  tcp?: Outcome;
  /** The serial after the grace (re-asked while it lagged). */
  serial?: number;
}

export interface ZoneFacts {
  zone: string;
  /** The challenge names in this zone (for the message). */
  names: string[];
  nameservers?: Nameserver[];
  error?: unknown;
  servers: ServerFacts[];
}

async function settle(promise: Promise<DnsMessage>): Promise<Outcome> {
  try {
    return { reply: await promise };
  } catch (error) {
    return { error };
  }
}

/** The SOA serial of `zone` in an authoritative answer, else undefined. */
export function soaSerial(reply: DnsMessage | undefined, zone: string): number | undefined {
  if (!reply || reply.rcode !== RCode.NOERROR || !reply.aa) return undefined;
  const soa = reply.answers.find((rr) => rr.type === RRType.SOA && rr.name === zone);
  return soa ? (soa.data as SoaData).serial : undefined;
}

/** RFC 1982 serial number arithmetic (32 bit): a < b. */
export function serialBefore(a: number, b: number): boolean {
  const diff = (b - a + 2 ** 32) % 2 ** 32;
  return diff !== 0 && diff < 2 ** 31;
}

/** The newest serial and the servers behind it. */
export function laggingServers<T extends { serial?: number }>(servers: T[]): { newest?: number; lagging: T[] } {
  const serials = servers.map((s) => s.serial).filter((s): s is number => s !== undefined);
  if (serials.length === 0) return { lagging: [] };
  const newest = serials.reduce((a, b) => (serialBefore(a, b) ? b : a));
  return { newest, lagging: servers.filter((s) => s.serial !== undefined && serialBefore(s.serial, newest)) };
}

export async function gatherZone(deps: NameserverDeps, zone: string, names: string[]): Promise<ZoneFacts> {
  let nameservers: Nameserver[];
  try {
    // Sorted: servers rotate the order of an RRset, the report should not.
    nameservers = (await authoritativeNameservers(deps.query, deps.resolvers, zone, deps.nameserverPort)).sort((a, b) => a.name.localeCompare(b.name));
  } catch (error) {
    return { zone, names, error, servers: [] };
  }
  const servers = await Promise.all(
    nameservers.flatMap((ns): Promise<ServerFacts>[] => {
      if (ns.addresses.length === 0) return [Promise.resolve({ nameserver: ns.name })];
      return [...ns.addresses].sort((a, b) => formatServer(a).localeCompare(formatServer(b))).map(async (address) => {
        const [udp, tcp] = await Promise.all([
          settle(deps.ask(address, zone, RRType.SOA, {})),
          settle(deps.ask(address, zone, RRType.SOA, { tcp: true })),
        ]);
        const serial = soaSerial(udp.reply, zone) ?? soaSerial(tcp.reply, zone);
        return { nameserver: ns.name, address, udp, tcp, ...(serial === undefined ? {} : { serial }) };
      });
    }),
  );
  await waitForLaggards(deps, zone, servers);
  return { zone, names, nameservers, servers };
}

/** Re-asks the servers behind the newest serial until they reach it or the grace is over. */
async function waitForLaggards(deps: NameserverDeps, zone: string, servers: ServerFacts[]): Promise<void> {
  const { newest, lagging } = laggingServers(servers);
  if (newest === undefined || lagging.length === 0) return;
  const deadline = deps.now() + deps.serialGraceMs;
  let open = lagging;
  while (open.length > 0 && deps.now() < deadline) {
    await deps.sleep(100);
    await Promise.all(
      open.map(async (s) => {
        const again = await settle(deps.ask(s.address as ServerAddress, zone, RRType.SOA, {}));
        const serial = soaSerial(again.reply, zone);
        if (serial !== undefined) s.serial = serial;
      }),
    );
    open = open.filter((s) => s.serial !== undefined && serialBefore(s.serial, newest));
  }
}

function label(s: ServerFacts): string {
  return s.address ? `${s.nameserver} (${formatServer(s.address)})` : s.nameserver;
}

/** What is wrong with one reply to the SOA question, or undefined when it is an authoritative answer. */
function replyProblem(outcome: Outcome, zone: string): string | undefined {
  const reply = outcome.reply;
  if (reply === undefined) return messageOf(outcome.error);
  if (reply.rcode !== RCode.NOERROR) return `answered ${rcodeName(reply.rcode)}`;
  if (!reply.aa) return 'answered without the authoritative (AA) flag';
  if (soaSerial(reply, zone) === undefined) return `answered without the SOA of ${zone}`;
  return undefined;
}

export function evaluateNameserver(zone: string, s: ServerFacts): CheckResult {
  const subject = label(s);
  if (!s.address || !s.udp || !s.tcp) {
    return fail('nameserver', subject, `nameserver of zone ${zone} has no address (A or AAAA)`,
      `add an address record for ${s.nameserver} (and glue at the parent zone), or remove it from the NS records of ${zone}`);
  }
  const where = formatServer(s.address);
  const udp = replyProblem(s.udp, zone);
  const tcp = replyProblem(s.tcp, zone);
  const transportFailed = (o: Outcome): boolean => o.error !== undefined;
  if (transportFailed(s.udp) && transportFailed(s.tcp)) {
    return fail('nameserver', subject, `does not answer for zone ${zone} (UDP: ${udp}; TCP: ${tcp})`,
      `start the nameserver at ${where} or open port ${s.address.port} to it, or remove ${s.nameserver} from the NS records of ${zone}: the CA may ask any of them`);
  }
  if (transportFailed(s.tcp)) {
    return fail('nameserver', subject, `answers over UDP but not over TCP: ${tcp}`,
      `allow TCP port ${s.address.port} to ${where}: resolvers and CAs retry over TCP when a reply is too large`);
  }
  if (transportFailed(s.udp)) {
    return fail('nameserver', subject, `answers over TCP but not over UDP: ${udp}`, `allow UDP port ${s.address.port} to ${where}`);
  }
  const problem = udp ?? tcp;
  if (problem !== undefined) {
    return fail('nameserver', subject, `is not authoritative for zone ${zone}: it ${problem.replace(/^answered/, 'answered the SOA query')}`,
      `make ${s.nameserver} a primary or secondary server of ${zone}, or remove it from the zone's NS records (a lame delegation)`);
  }
  return ok('nameserver', subject, `authoritative for ${zone} over UDP and TCP, serial ${s.serial}`);
}

export function evaluateZone(f: ZoneFacts): CheckResult[] {
  const subject = `zone ${f.zone}`;
  if (f.error !== undefined || !f.nameservers) {
    return [fail('zone', subject, `the NS records of ${f.zone} could not be looked up: ${messageOf(f.error)}`,
      isGxitError(f.error) && f.error.fix ? f.error.fix : 'check that dns.resolvers (or the system resolver) answer for the zone')];
  }
  const lines = f.servers.map((s) => evaluateNameserver(f.zone, s));
  const names = f.nameservers.map((ns) => ns.name).join(', ');
  const details = [`challenge names: ${f.names.join(', ')}`, ...f.servers.map((s) => `${label(s)}: serial ${s.serial ?? '-'}`)];
  const { newest, lagging } = laggingServers(f.servers);
  if (lagging.length > 0) {
    const behind = lagging.map((s) => `${label(s)} serves serial ${s.serial}`).join(', ');
    const newestAt = f.servers.filter((s) => s.serial === newest).map((s) => s.nameserver);
    return [
      fail('zone', subject, `${behind}, but ${[...new Set(newestAt)].join(', ')} serve${newestAt.length === 1 ? 's' : ''} ${newest}: a CA that asks a lagging nameserver sees no TXT record`,
        `make sure ${[...new Set(lagging.map((s) => s.nameserver))].join(', ')} receive${lagging.length === 1 ? 's' : ''} NOTIFY and zone transfers from the primary (also-notify, allow-transfer), then compare the serials again`,
        details),
      ...lines,
    ];
  }
  const serial = newest === undefined ? '' : `, serial ${newest} on every nameserver that answered`;
  return [ok('zone', subject, `NS ${names}${serial}`, details), ...lines];
}
