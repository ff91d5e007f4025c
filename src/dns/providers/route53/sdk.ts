/**
 * The four Route53 calls the provider needs, on @aws-sdk/client-route-53. The only module that
 * loads the SDK (lazily: it costs ~100 ms); everything it returns is plain data, and every failure
 * is an AwsCallError naming the IAM action that failed.
 */
import type { Route53Config } from './settings.js';
import { GxitError } from '../../../errors.js';
import { AwsCallError, type Route53Operation } from './errors.js';
import type { CredentialPlan } from './credentials.js';
import { normalizeRoute53Name, type TxtChange, type TxtSet } from './records.js';
import { assumeRoleProvider, stsEndpoint, type AwsCredentials } from './sts.js';
import type { HostedZoneInfo } from './zone.js';
import { sdkAgents } from '../../../net/proxy.js';

/** Every call takes the run's signal and passes it to the SDK (abortSignal), which aborts the request. */
export interface Route53Api {
  /** Hosted zones named exactly `name` (ListHostedZonesByName; other zones it lists are dropped). */
  zonesNamed(name: string, signal: AbortSignal): Promise<HostedZoneInfo[]>;
  /** The simple TXT record set at exactly `name`, if there is one (ListResourceRecordSets). */
  txtSet(zoneId: string, name: string, signal: AbortSignal): Promise<TxtSet | undefined>;
  /** Sends one change batch (ChangeResourceRecordSets); resolves to the change id. */
  change(zoneId: string, changes: readonly TxtChange[], comment: string, signal: AbortSignal): Promise<string>;
  /** PENDING or INSYNC (GetChange). */
  changeStatus(changeId: string, signal: AbortSignal): Promise<string>;
}

/** Route53 signs for us-east-1 in the aws partition; other partitions need their region. */
export const DEFAULT_REGION = 'us-east-1';

/** Per-request limits: Route53 answers in well under a second; a stuck connection must not hang a renewal. */
const CONNECTION_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 20_000;

export function describeService(cfg: Route53Config): string {
  return cfg.endpoint === undefined ? 'Route53' : `the Route53 endpoint ${cfg.endpoint.replace(/\/$/, '')}`;
}

const bareId = (id: string): string => id.replace(/^\/(hostedzone|change)\//, '');

export async function createSdkApi(cfg: Route53Config, plan: CredentialPlan, env: NodeJS.ProcessEnv = process.env): Promise<Route53Api> {
  // Node 20 is supported by this SDK release; its notice about future releases is not for our users.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const sdk = await import('@aws-sdk/client-route-53');
  const region = cfg.region ?? DEFAULT_REGION;
  const common = {
    region,
    ...(cfg.endpoint === undefined ? {} : { endpoint: cfg.endpoint }),
    // One retry layer only: route53-retry.ts.
    maxAttempts: 1,
    requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, ...sdkAgents({}, env) },
  };
  const source = plan.source;
  const base =
    source.kind === 'static'
      ? { credentials: { accessKeyId: source.accessKeyId, secretAccessKey: source.secretAccessKey, ...(source.sessionToken === undefined ? {} : { sessionToken: source.sessionToken }) } }
      : source.kind === 'profile'
        ? { profile: source.profile }
        : {};
  let credentials = {};
  if (plan.role !== undefined) {
    // The base credentials, resolved the way the SDK would for Route53 itself, are exchanged for the role's.
    const baseClient = new sdk.Route53Client({ ...common, ...base });
    const resolveBase = async (): Promise<AwsCredentials> => {
      try {
        return await baseClient.config.credentials();
      } catch (error) {
        throw new AwsCallError('sts:AssumeRole', error);
      }
    };
    const endpoint = stsEndpoint(env);
    credentials = { credentials: await assumeRoleProvider(resolveBase, plan.role, { region, ...(endpoint === undefined ? {} : { endpoint }) }) };
  }
  const client = new sdk.Route53Client({ ...common, ...(plan.role === undefined ? base : credentials) });

  async function call<T>(operation: Route53Operation, target: { zoneId?: string; changeId?: string }, signal: AbortSignal, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      // An interrupt is not an AWS failure: the caller sees the signal's reason.
      signal.throwIfAborted();
      throw error instanceof AwsCallError ? error : new AwsCallError(`route53:${operation}`, error, target);
    }
  }

  return {
    async zonesNamed(name, signal) {
      const zones: HostedZoneInfo[] = [];
      let start: { DNSName: string; HostedZoneId?: string } | undefined = { DNSName: name };
      // Zones of one name come first and in id order; page on only while the next page starts with that name.
      while (start !== undefined) {
        const page = await call('ListHostedZonesByName', {}, signal, () =>
          client.send(new sdk.ListHostedZonesByNameCommand({ ...start, MaxItems: 100 }), { abortSignal: signal }),
        );
        for (const z of page.HostedZones ?? []) {
          if (z.Id === undefined || z.Name === undefined || normalizeRoute53Name(z.Name) !== name) continue;
          zones.push({ id: bareId(z.Id), name, private: z.Config?.PrivateZone === true });
        }
        const next: string | undefined = page.NextDNSName;
        start =
          page.IsTruncated === true && next !== undefined && normalizeRoute53Name(next) === name && page.NextHostedZoneId !== undefined
            ? { DNSName: next, HostedZoneId: page.NextHostedZoneId }
            : undefined;
      }
      return zones;
    },

    async txtSet(zoneId, name, signal) {
      const page = await call('ListResourceRecordSets', { zoneId }, signal, () =>
        client.send(new sdk.ListResourceRecordSetsCommand({ HostedZoneId: zoneId, StartRecordName: name, StartRecordType: 'TXT', MaxItems: 1 }), {
          abortSignal: signal,
        }),
      );
      const set = (page.ResourceRecordSets ?? [])[0];
      if (set === undefined || set.Type !== 'TXT' || set.Name === undefined || normalizeRoute53Name(set.Name) !== name) return undefined;
      if (set.SetIdentifier !== undefined || set.AliasTarget !== undefined) {
        throw new GxitError('DNS_PROVIDER', `the TXT records at ${name} in hosted zone ${zoneId} use a routing policy or an alias (set identifier ${set.SetIdentifier ?? '-'})`, {
          subject: name,
          fix: 'gxit-cert writes simple TXT record sets only; remove the routing policy records at this name',
        });
      }
      return { name, ttl: set.TTL ?? 300, values: (set.ResourceRecords ?? []).map((r) => r.Value ?? '') };
    },

    async change(zoneId, changes, comment, signal) {
      const out = await call('ChangeResourceRecordSets', { zoneId }, signal, () =>
        client.send(
          new sdk.ChangeResourceRecordSetsCommand({
            HostedZoneId: zoneId,
            ChangeBatch: {
              Comment: comment,
              Changes: changes.map((c) => ({
                Action: c.action,
                ResourceRecordSet: { Name: `${c.name}.`, Type: 'TXT', TTL: c.ttl, ResourceRecords: c.values.map((Value) => ({ Value })) },
              })),
            },
          }),
          { abortSignal: signal },
        ),
      );
      const id = out.ChangeInfo?.Id;
      if (id === undefined) throw new AwsCallError('route53:ChangeResourceRecordSets', new Error('the answer has no ChangeInfo Id'), { zoneId });
      return bareId(id);
    },

    async changeStatus(changeId, signal) {
      const out = await call('GetChange', { changeId }, signal, () => client.send(new sdk.GetChangeCommand({ Id: changeId }), { abortSignal: signal }));
      return out.ChangeInfo?.Status ?? 'PENDING';
    },
  };
}
