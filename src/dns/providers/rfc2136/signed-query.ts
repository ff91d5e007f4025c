/**
 * check-dns for rfc2136: a query signed with the TSIG key, whose signed reply proves the server knows the
 * key (name, algorithm and secret) before anything is written. One SOA query to every address of every
 * update server (a backup server that does not know the key would only fail when the first one is
 * down), for the first zone that address serves of the challenge targets.
 */
import type { ServerAddress } from '../../../config/types.js';
import { GxitError, isGxitError, messageOf } from '../../../errors.js';
import { buildQuery, parseMessage, RCode, RRType, rcodeName, type DnsMessage } from '../../message.js';
import { describeUnverifiedReply, describeUpdateFailure } from '../../rcode.js';
import { query } from '../../query.js';
import { formatServer, type QueryFn } from '../../resolver.js';
import type { ExchangeFn } from '../../transport.js';
import { signMessage, verifyResponse, type VerifyFailure } from '../../tsig.js';
import { withLinkedSignal } from '../../abort.js';
import { findZone } from '../../zone.js';
import type { ProviderCheckInput, ProviderCheckResult } from '../descriptor.js';
import { resolverLookup, systemLookup, updateTargets, type HostResolver, type UpdateTarget } from './servers.js';
import type { Rfc2136Config } from './settings.js';

/** Per attempt and attempts of the signed query (the configured values when lower). */
const LIMITS = { timeoutMs: 1000, retries: 2 } as const;

const CHECK = 'tsig';
const ok = (subject: string, message: string): ProviderCheckResult => ({ check: CHECK, status: 'ok', subject, message });
const fail = (subject: string, message: string, fix: string): ProviderCheckResult => ({ check: CHECK, status: 'fail', subject, message, fix });

/** The descriptor's check: the signed query to every update server address, with the preflight's shorter limits. */
export async function signedQueryChecks(settings: Rfc2136Config, input: ProviderCheckInput, resolveHost?: HostResolver): Promise<ProviderCheckResult[]> {
  const key = settings.tsig;
  if (input.targets.length === 0 || key === undefined) return [];
  // The same servers and key as issue, but no longer a wait than the other lookups of a preflight.
  const cfg = { ...settings, timeoutMs: Math.min(settings.timeoutMs, LIMITS.timeoutMs), retries: Math.min(settings.retries, LIMITS.retries) };
  const lookup: QueryFn = (server, name, type, opts) => query(server, name, type, { ...opts, exchange: input.exchange });
  const resolve = resolveHost ?? (input.resolvers !== undefined && input.resolvers.length > 0 ? resolverLookup(lookup, input.resolvers) : systemLookup);
  // The lookups run at once: they share a signal of our own (one listener on check-dns's).
  const results = await withLinkedSignal(input.signal, (signal) =>
    Promise.all(
      cfg.servers.map(async (server): Promise<AddressCheck[]> => {
        let targets: UpdateTarget[];
        try {
          targets = await updateTargets([server], resolve, signal);
        } catch (error) {
          if (signal.aborted) throw error;
          const label = formatServer(server);
          const subject = `key ${key.name} at ${label}`;
          return [{ label, result: isGxitError(error) ? fail(subject, error.message, error.fix ?? 'check dns.rfc2136.server') : fail(subject, messageOf(error), 'check dns.rfc2136.server') }];
        }
        const checked = await Promise.all(
          targets.map(async ({ address, label }) => {
            const facts = await gatherSignedQuery({ exchange: input.exchange, now: input.now, signal }, cfg, input.targets, address);
            return facts === undefined ? [] : [{ label, result: evaluateSignedQuery(facts, label) }];
          }),
        );
        return checked.flat();
      }),
    ),
  );
  return withFallback(results.flat());
}

/** One address's line, and how the configuration names that address. */
interface AddressCheck {
  label: string;
  result: ProviderCheckResult;
}

/**
 * While one address verifies, updates still get through (the addresses are tried in turn): the
 * others' failures are warnings that say so. Without any verified address they stay failures.
 */
function withFallback(checks: AddressCheck[]): ProviderCheckResult[] {
  const working = checks.find((c) => c.result.status === 'ok');
  return checks.map(({ result }) =>
    working !== undefined && result.status === 'fail' ? { ...result, status: 'warn', message: `${result.message} (updates still go through ${working.label})` } : result,
  );
}

const SIGNED_QUERY = 'a signed SOA query';

export type SignedQueryOutcome =
  | { kind: 'verified'; rcode: number }
  | { kind: 'tsig-error'; rcode: number; tsigError: number }
  | { kind: 'unverified'; rcode: number; reason: VerifyFailure; detail: string }
  | { kind: 'failed'; error: unknown };

export interface SignedQueryFacts {
  server: ServerAddress;
  keyName: string;
  algorithm: string;
  zone?: string;
  outcome: SignedQueryOutcome;
}

export interface SignedQueryDeps {
  exchange: ExchangeFn;
  /** Milliseconds since the epoch. */
  now: () => number;
  signal?: AbortSignal;
}

/**
 * Sends one SOA query, signed with the configured key, to `server` (an address of an update server)
 * for the first zone it serves of the challenge names (`fqdns`), and verifies the reply.
 */
export async function gatherSignedQuery(deps: SignedQueryDeps, cfg: Rfc2136Config, fqdns: string[], server: ServerAddress | undefined = cfg.servers[0]): Promise<SignedQueryFacts | undefined> {
  const key = cfg.tsig;
  if (!key || server === undefined) return undefined;
  const base = { server, keyName: key.name, algorithm: key.algorithm };
  const transport = { tcp: cfg.tcp, timeoutMs: cfg.timeoutMs, retries: cfg.retries, ...(deps.signal ? { signal: deps.signal } : {}) };
  const ask: QueryFn = async (server, name, type) => parseMessage(await deps.exchange(server, buildQuery(name, type), transport));
  let zone = cfg.zone;
  if (zone === undefined) {
    const found = await Promise.allSettled(fqdns.map((fqdn) => findZone(ask, [server], fqdn, { recursionDesired: false })));
    const first = found.find((f): f is PromiseFulfilledResult<string> => f.status === 'fulfilled');
    if (!first) {
      const error = found.find((f): f is PromiseRejectedResult => f.status === 'rejected')?.reason ?? new Error('no challenge name to look up');
      return { ...base, outcome: { kind: 'failed', error } };
    }
    zone = first.value;
  }
  try {
    const seconds = (): number => Math.floor(deps.now() / 1000);
    const { signed, requestMac } = signMessage(buildQuery(zone, RRType.SOA), key, { timeSigned: seconds() });
    const raw = await deps.exchange(server, signed, transport);
    const reply: DnsMessage = parseMessage(raw);
    const verdict = verifyResponse(raw, key, requestMac, { now: seconds() });
    if (verdict.ok) return { ...base, zone, outcome: { kind: 'verified', rcode: reply.rcode } };
    if (verdict.tsigError) return { ...base, zone, outcome: { kind: 'tsig-error', rcode: reply.rcode, tsigError: verdict.tsigError } };
    return { ...base, zone, outcome: { kind: 'unverified', rcode: reply.rcode, reason: verdict.reason, detail: verdict.detail } };
  } catch (error) {
    return { ...base, zone, outcome: { kind: 'failed', error } };
  }
}

/** The check's line for one address; `label` names it as the configuration does ("ns1.example.org (192.0.2.1:53)"). */
export function evaluateSignedQuery(f: SignedQueryFacts, label = formatServer(f.server)): ProviderCheckResult {
  const subject = `key ${f.keyName} at ${label}`;
  const o = f.outcome;
  const zone = f.zone ?? '?';
  const fromError = (error: GxitError): ProviderCheckResult => fail(subject, error.message, error.fix ?? 'check dns.rfc2136');
  switch (o.kind) {
    case 'failed':
      return isGxitError(o.error) ? fromError(o.error) : fail(subject, messageOf(o.error), 'check dns.rfc2136.server and port');
    case 'tsig-error':
      return fromError(
        describeUpdateFailure({ rcode: o.rcode, tsigError: o.tsigError, server: f.server, zone, keyName: f.keyName, names: [], operation: SIGNED_QUERY }),
      );
    case 'unverified':
      if (o.reason === 'unsigned' && o.rcode !== RCode.NOERROR) return rcodeResult(subject, f, o.rcode);
      return fromError(
        describeUnverifiedReply({ reason: o.reason, detail: o.detail, rcode: o.rcode, server: f.server, zone, keyName: f.keyName, operation: SIGNED_QUERY }),
      );
    case 'verified':
      if (o.rcode !== RCode.NOERROR) return rcodeResult(subject, f, o.rcode);
      return ok(subject, `the server knows the key (${f.algorithm}): it answered ${SIGNED_QUERY} for zone ${zone} with a valid signature`);
  }
}

function rcodeResult(subject: string, f: SignedQueryFacts, rcode: number): ProviderCheckResult {
  const server = formatServer(f.server);
  return fail(subject, `${server} answered ${SIGNED_QUERY} for zone ${f.zone ?? '?'} with ${rcodeName(rcode)}`,
    rcode === RCode.REFUSED || rcode === RCode.NOTAUTH
      ? `point dns.rfc2136.server at the primary server of ${f.zone ?? 'the zone'} and let it answer queries from this machine`
      : "check the DNS server's log");
}
