/**
 * Amazon Route 53 (REST API 2013-04-01) through the AWS SDK.
 *
 * present(): per hosted zone, read the TXT sets at the challenge names, then send ONE change batch
 * with an UPSERT per name holding what is there plus our values (base and wildcard values at one name
 * share a set), then poll GetChange until INSYNC. cleanup(): the same read, then one batch that writes
 * each set back without our values, or deletes it (with its exact content) when nothing else is left.
 * A batch refused because the zone moved on (PriorRequestNotComplete, a DELETE of a set that
 * changed) is rebuilt from a fresh read; throttling backs off with jitter (route53-retry.ts).
 *
 * Whether the records are served is checked by dns/propagation.ts, not here.
 *
 * The caller's signal reaches every SDK request (abortSignal), every retry wait and every GetChange
 * poll; a batch already sent may still be applied, so its values stay "maybe added" for cleanup.
 */
import type { Route53Config } from './settings.js';
import { GxitError, messageOf } from '../../../errors.js';
import { credentialPlan } from './credentials.js';
import {
  AwsCallError,
  IamPolicyHint,
  classify,
  describeFailure,
  factsOf,
  minimalIamPolicy,
  redactedError,
  type AwsAction,
  type FailureClass,
} from './errors.js';
import { planCleanup, planPresent, normalizeRoute53Name, valuesByName, type TxtChange, type TxtSet } from './records.js';
import { RetriesExhausted, pollDelays, withRetries, type RetryDeps } from './retry.js';
import { DEFAULT_REGION, createSdkApi, describeService, type Route53Api } from './sdk.js';
import { chooseZone, endsLookup, zoneChoiceError, zoneNameCandidates, type HostedZoneInfo } from './zone.js';
import { abortable, sleep as timerSleep, withLinkedSignal } from '../../abort.js';
import { runProbe } from '../probe.js';
import type { DnsProvider, ProbeOptions, ProbeResult, TxtRecord } from '../../provider.js';

export interface Route53Deps {
  /** The Route53 calls; default: the AWS SDK, loaded when the provider is created. */
  api?: Route53Api;
  /** Longest wait for a change to become INSYNC, milliseconds (dns.propagation_timeout). */
  changeTimeoutMs?: number;
  /** First GetChange poll interval; later ones grow by half up to pollMaxMs. */
  pollFirstMs?: number;
  pollMaxMs?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
  random?: () => number;
  /** For AWS_ENDPOINT_URL_STS (role_arn). Default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** The zone a batch goes to. `name` is unknown when the id comes from the configuration. */
interface ZoneRef {
  id: string;
  name?: string;
  fromConfig: boolean;
}

const PRESENT_COMMENT = 'gxit-cert: ACME DNS-01 challenge values';
const CLEANUP_COMMENT = 'gxit-cert: remove ACME DNS-01 challenge values';

export function createRoute53Provider(cfg: Route53Config, deps: Route53Deps = {}): DnsProvider {
  const plan = credentialPlan(cfg);
  const service = describeService(cfg);
  const region = cfg.region ?? DEFAULT_REGION;
  const clock: RetryDeps = {
    sleep: deps.sleep ?? timerSleep,
    now: deps.now ?? Date.now,
    random: deps.random ?? Math.random,
  };
  const changeTimeoutMs = deps.changeTimeoutMs ?? 120_000;
  // Loading the SDK starts now, so that it overlaps with the ACME order placed meanwhile.
  const apiReady: Promise<Route53Api> = deps.api ? Promise.resolve(deps.api) : createSdkApi(cfg, plan, deps.env);
  apiReady.catch(() => undefined);
  const configuredZone: ZoneRef | undefined = cfg.hostedZoneId === undefined ? undefined : { id: cfg.hostedZoneId, fromConfig: true };

  const classifyError = (error: unknown): FailureClass => (error instanceof GxitError ? 'fatal' : classify(factsOf(error)));
  const knownZoneIds = new Set<string>(configuredZone ? [configuredZone.id] : []);

  /** The final error for a failure: one line, the cause redacted, the IAM policy added for AccessDenied. */
  function fail(error: unknown, at: { action: AwsAction; zone?: ZoneRef; names?: string[]; changeId?: string }): GxitError {
    if (error instanceof GxitError) return error;
    let last = error;
    let attempts: number | undefined;
    let seconds: number | undefined;
    if (error instanceof RetriesExhausted) {
      last = error.error;
      attempts = error.attempts;
      seconds = error.seconds;
      if (last instanceof GxitError) return last;
    }
    const call = last instanceof AwsCallError ? last : undefined;
    const facts = factsOf(last);
    const cause = redactedError(last, plan.secrets);
    const described = describeFailure(facts, {
      action: call?.action ?? at.action,
      service: call?.target.service ?? service,
      credentials: plan.description,
      region,
      ...(at.zone === undefined ? {} : { zone: at.zone }),
      ...((call?.target.changeId ?? at.changeId) === undefined ? {} : { changeId: call?.target.changeId ?? at.changeId }),
      ...(at.names === undefined ? {} : { names: at.names }),
      ...(attempts === undefined ? {} : { attempts }),
      ...(seconds === undefined ? {} : { seconds }),
    }, cause);
    if (described.code !== 'DNS_ACCESS_DENIED' || !(call?.action ?? at.action).startsWith('route53:')) return described;
    const zoneIds = new Set([...knownZoneIds, ...(at.zone ? [at.zone.id] : [])]);
    const policy = minimalIamPolicy([...zoneIds], configuredZone === undefined);
    return new GxitError(described.code, described.message, {
      ...(described.subject === undefined ? {} : { subject: described.subject }),
      ...(described.fix === undefined ? {} : { fix: described.fix }),
      cause: new IamPolicyHint(policy, cause),
    });
  }

  async function api(): Promise<Route53Api> {
    try {
      return await apiReady;
    } catch (error) {
      throw new GxitError('INTERNAL', `the AWS SDK could not be loaded: ${messageOf(error)}`, {
        subject: '@aws-sdk/client-route-53',
        fix: 'reinstall gxit-cert with its dependencies (npm ci)',
        cause: error,
      });
    }
  }

  // ------------------------------------------------------------------------------------ zones

  // Per run: zones by exact name, and the zone of each owner name. Failures are not kept.
  const zonesByName = new Map<string, Promise<HostedZoneInfo[]>>();
  const zoneByOwner = new Map<string, Promise<ZoneRef>>();

  function zonesNamed(name: string, signal: AbortSignal): Promise<HostedZoneInfo[]> {
    let found = zonesByName.get(name);
    if (found === undefined) {
      found = api().then((a) => withRetries(() => a.zonesNamed(name, signal), classifyError, { ...clock, signal }));
      zonesByName.set(name, found);
      found.catch(() => zonesByName.delete(name));
    }
    return found;
  }

  async function lookUpZone(fqdn: string, signal: AbortSignal): Promise<ZoneRef> {
    const seen: HostedZoneInfo[] = [];
    // Longest candidate first; one ListHostedZonesByName per candidate name until a zone of the wanted kind has it.
    for (const candidate of zoneNameCandidates(fqdn)) {
      let zones: HostedZoneInfo[];
      try {
        zones = await zonesNamed(candidate, signal);
      } catch (error) {
        signal.throwIfAborted();
        throw fail(error, { action: 'route53:ListHostedZonesByName', names: [fqdn] });
      }
      seen.push(...zones);
      if (endsLookup(zones, cfg.privateZone)) break;
    }
    const choice = chooseZone(fqdn, seen, cfg.privateZone);
    if (choice.kind !== 'found') throw zoneChoiceError(fqdn, choice, cfg.privateZone);
    knownZoneIds.add(choice.zone.id);
    return { id: choice.zone.id, name: choice.zone.name, fromConfig: false };
  }

  function zoneOf(fqdn: string, signal: AbortSignal): Promise<ZoneRef> {
    if (configuredZone !== undefined) return Promise.resolve(configuredZone);
    let zone = zoneByOwner.get(fqdn);
    if (zone === undefined) {
      zone = lookUpZone(fqdn, signal);
      zoneByOwner.set(fqdn, zone);
      zone.catch(() => zoneByOwner.delete(fqdn));
    }
    return zone;
  }

  async function byZone(records: readonly TxtRecord[], signal: AbortSignal): Promise<{ zone: ZoneRef; records: TxtRecord[] }[]> {
    const normalized = records.map((r) => ({ fqdn: normalizeRoute53Name(r.fqdn), value: r.value }));
    const zones = await Promise.all(normalized.map((r) => zoneOf(r.fqdn, signal)));
    const groups = new Map<string, { zone: ZoneRef; records: TxtRecord[] }>();
    normalized.forEach((r, i) => {
      const zone = zones[i]!;
      const group = groups.get(zone.id) ?? { zone, records: [] };
      group.records.push(r);
      groups.set(zone.id, group);
    });
    return [...groups.values()];
  }

  // ---------------------------------------------------------------------------------- changes

  /**
   * Read the sets at the batch's names, plan, send one batch; repeated from the read on when the batch
   * is refused for a retryable reason. Resolves to the change id, or undefined when nothing had to change.
   */
  async function writeZone(
    zone: ZoneRef,
    records: TxtRecord[],
    planChanges: (current: Map<string, TxtSet | undefined>) => TxtChange[],
    comment: string,
    signal: AbortSignal,
  ): Promise<string | undefined> {
    const names = [...valuesByName(records).keys()];
    const a = await api();
    let action: AwsAction = 'route53:ListResourceRecordSets';
    try {
      return await withRetries(
        async () => {
          action = 'route53:ListResourceRecordSets';
          const sets = await Promise.all(names.map((name) => a.txtSet(zone.id, name, signal)));
          const changes = planChanges(new Map(names.map((name, i) => [name, sets[i]])));
          if (changes.length === 0) return undefined;
          action = 'route53:ChangeResourceRecordSets';
          return await a.change(zone.id, changes, comment, signal);
        },
        classifyError,
        { ...clock, signal },
      );
    } catch (error) {
      signal.throwIfAborted();
      throw fail(error, { action, zone, names });
    }
  }

  /** Polls GetChange with short, growing intervals until INSYNC. */
  async function waitInSync(changeId: string, zone: ZoneRef, signal: AbortSignal): Promise<void> {
    const a = await api();
    const started = clock.now();
    const nextDelay = pollDelays(deps.pollFirstMs ?? 50, deps.pollMaxMs ?? 2000);
    for (;;) {
      await abortable(clock.sleep(nextDelay(), signal), signal);
      let status: string;
      try {
        status = await withRetries(() => a.changeStatus(changeId, signal), classifyError, { ...clock, signal });
      } catch (error) {
        signal.throwIfAborted();
        throw fail(error, { action: 'route53:GetChange', zone, changeId });
      }
      if (status === 'INSYNC') return;
      if (clock.now() - started >= changeTimeoutMs) {
        const zoneText = zone.name ? `hosted zone ${zone.id} (${zone.name})` : `hosted zone ${zone.id}`;
        throw new GxitError('DNS_PROPAGATION_TIMEOUT', `Route53 change ${changeId} in ${zoneText} is still ${status} after ${Math.round(changeTimeoutMs / 1000)} s`, {
          subject: zoneText,
          fix: 'Route53 applies changes within about a minute; check the AWS Health Dashboard, or raise dns.propagation_timeout',
        });
      }
    }
  }

  /** Runs one operation per zone, all at once; every zone has finished before the first failure is thrown. */
  async function perZone(
    records: readonly TxtRecord[],
    signal: AbortSignal,
    each: (zone: ZoneRef, batch: TxtRecord[], signal: AbortSignal) => Promise<void>,
  ): Promise<void> {
    signal.throwIfAborted();
    if (records.length === 0) return;
    // Lookups, batches and polls of all zones run at once on a signal of our own (one listener on the caller's).
    await withLinkedSignal(signal, async (linked) => {
      const groups = await byZone(records, linked);
      const results = await Promise.allSettled(groups.map((g) => each(g.zone, g.records, linked)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    });
  }

  // Values this provider may have written (certmagic's rule: remember exactly what you added).
  const maybeAdded = new Set<string>();
  const keyOf = (r: TxtRecord): string => `${normalizeRoute53Name(r.fqdn)} ${r.value}`;

  async function add(records: readonly TxtRecord[], wait: boolean, signal: AbortSignal): Promise<void> {
    await perZone(records, signal, async (zone, batch, linked) => {
      // From here on a batch may reach the zone; a name whose zone was never found got nothing.
      for (const r of batch) maybeAdded.add(keyOf(r));
      const changeId = await writeZone(zone, batch, (current) => planPresent(batch, current, cfg.ttl), PRESENT_COMMENT, linked);
      if (changeId !== undefined && wait) await waitInSync(changeId, zone, linked);
    });
  }

  /** Removes our values; the change is not waited for (nothing depends on it being served). */
  async function remove(records: readonly TxtRecord[], signal: AbortSignal): Promise<void> {
    const ours = records.filter((r) => maybeAdded.has(keyOf(r)));
    await perZone(ours, signal, async (zone, batch, linked) => {
      await writeZone(zone, batch, (current) => planCleanup(batch, current), CLEANUP_COMMENT, linked);
      for (const r of batch) maybeAdded.delete(keyOf(r));
    });
  }

  const probe = (name: string, opts: ProbeOptions): Promise<ProbeResult> =>
    runProbe(
      normalizeRoute53Name(name),
      {
        locate: async (fqdn, signal) => {
          const zone = await zoneOf(fqdn, signal);
          return zone.name ? `in hosted zone ${zone.id} (${zone.name})` : `in hosted zone ${zone.id}`;
        },
        // Whoever looks at the value meanwhile asks the nameservers: wait until Route53 serves it.
        add: (record, signal) => add([record], opts.whilePresent !== undefined, signal),
        remove: (record, signal) => remove([record], signal),
        how: `via ${service} with ${plan.description}`,
      },
      opts,
    );

  /** An earlier run's values: this instance never added them, but exactly they are removed all the same. */
  async function removeLeftovers(records: readonly TxtRecord[], signal: AbortSignal): Promise<void> {
    for (const r of records) maybeAdded.add(keyOf(r));
    await remove(records, signal);
  }

  const identity = [
    cfg.hostedZoneId === undefined ? 'hosted zone by name' : `hosted zone ${cfg.hostedZoneId}`,
    ...(cfg.profile === undefined ? [] : [`profile ${cfg.profile}`]),
    ...(cfg.roleArn === undefined ? [] : [`role ${cfg.roleArn}`]),
    ...(cfg.endpoint === undefined ? [] : [`endpoint ${cfg.endpoint}`]),
  ].join(', ');

  return {
    name: 'route53',
    identity,
    present: (records, signal) => add(records, true, signal),
    cleanup: remove,
    removeLeftovers,
    probe,
  };
}
