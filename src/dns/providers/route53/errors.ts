/**
 * Route53 (and STS) failures: what kind of failure an error is (retry it or not) and the one line
 * that tells the user what failed and what to do. Pure: the facts of an error go in, a
 * classification or a GxitError comes out.
 *
 * AWS error messages are never shown whole: they may quote the canonical request (signed headers,
 * a session token among them). Only short, known-safe parts make it into a message, and the cause
 * kept for --verbose is a redacted copy.
 */
import { GxitError, messageOf } from '../../../errors.js';

/** The API actions the provider calls, as IAM names them (without the "route53:" prefix). */
export type Route53Operation = 'ListHostedZonesByName' | 'ListResourceRecordSets' | 'ChangeResourceRecordSets' | 'GetChange';
export type AwsAction = `route53:${Route53Operation}` | 'sts:AssumeRole';

/** A failed call, as the API layer reports it. */
export class AwsCallError extends Error {
  constructor(
    readonly action: AwsAction,
    readonly original: unknown,
    /** `service`: where the call went, when it is not Route53 itself (STS). */
    readonly target: { zoneId?: string; changeId?: string; service?: string } = {},
  ) {
    super(`${action} failed: ${messageOf(original)}`, { cause: original });
    this.name = 'AwsCallError';
  }
}

/** What is known about a failure, whatever threw it. */
export interface ErrorFacts {
  /** AWS error code (the SDK's `name`), e.g. "AccessDenied", "Throttling". */
  code?: string;
  /** HTTP status, when the service answered. */
  status?: number;
  /** Node's error code for network failures, e.g. "ECONNREFUSED". */
  errno?: string;
  message: string;
}

/** The facts of an SDK error, a network error, or anything else. */
export function factsOf(error: unknown): ErrorFacts {
  const e = (error instanceof AwsCallError ? error.original : error) as
    | { name?: unknown; code?: unknown; message?: unknown; $metadata?: { httpStatusCode?: unknown }; cause?: unknown }
    | undefined;
  const message = messageOf(e);
  const status = typeof e?.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  const errno = typeof e?.code === 'string' && /^E[A-Z_]+$/.test(e.code) ? e.code : undefined;
  const name = typeof e?.name === 'string' && e.name !== 'Error' ? e.name : undefined;
  // Node wraps some socket errors; the code may sit one level down.
  const inner = e?.cause as { code?: unknown } | undefined;
  const innerErrno = typeof inner?.code === 'string' && /^E[A-Z_]+$/.test(inner.code) ? inner.code : undefined;
  return {
    ...(name === undefined ? {} : { code: name }),
    ...(status === undefined ? {} : { status }),
    ...((errno ?? innerErrno) === undefined ? {} : { errno: errno ?? innerErrno }),
    message,
  };
}

/**
 * - throttled: the account's request rate was exceeded (Route53 allows 5 requests per second)
 * - busy: PriorRequestNotComplete, the zone is still applying an earlier change
 * - stale: a change batch built from a read that is no longer current (DELETE of a set that changed)
 * - transient: no or a 5xx answer that may succeed when repeated
 * - clock: the request time was rejected; the SDK has corrected its clock offset by now
 * - fatal: repeating cannot help
 */
export type FailureClass = 'throttled' | 'busy' | 'stale' | 'transient' | 'clock' | 'fatal';

const THROTTLE_CODES = new Set(['Throttling', 'ThrottlingException', 'ThrottledException', 'RequestThrottled', 'RequestThrottledException', 'TooManyRequestsException', 'RequestLimitExceeded', 'SlowDown']);
const CLOCK_CODES = new Set(['RequestExpired', 'RequestTimeTooSkewed', 'RequestInTheFuture']);
const TRANSIENT_ERRNO = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ECONNABORTED', 'ENETRESET', 'ESOCKETTIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
const TRANSIENT_CODES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'InternalFailure', 'InternalError', 'ServiceUnavailable', 'ServiceUnavailableException']);
/** InvalidChangeBatch messages that mean "the set is not what you read". */
const STALE_MESSAGE = /but it was not found|do not match the current values|but it already exists/i;

export function classify(facts: ErrorFacts): FailureClass {
  const code = facts.code ?? '';
  if (THROTTLE_CODES.has(code) || facts.status === 429 || /rate exceeded/i.test(facts.message)) return 'throttled';
  if (code === 'PriorRequestNotComplete') return 'busy';
  if (code === 'InvalidChangeBatch' && STALE_MESSAGE.test(facts.message)) return 'stale';
  if (CLOCK_CODES.has(code) || (code === 'SignatureDoesNotMatch' && /signature (expired|not yet current)/i.test(facts.message))) return 'clock';
  if (TRANSIENT_CODES.has(code) || (facts.errno !== undefined && TRANSIENT_ERRNO.has(facts.errno))) return 'transient';
  if (facts.status !== undefined && facts.status >= 500) return 'transient';
  if (/socket hang up/i.test(facts.message)) return 'transient';
  return 'fatal';
}

/** Where the call went and with what, for messages. */
export interface CallContext {
  action: AwsAction;
  /** "Route53 at https://route53.amazonaws.com" or the configured endpoint. */
  service: string;
  /** Where the credentials came from, e.g. "profile galaxy". Never a secret. */
  credentials: string;
  region: string;
  zone?: { id: string; name?: string; fromConfig: boolean };
  changeId?: string;
  /** Owner names of the batch. */
  names?: string[];
  /** Attempts made, when retries ran out. */
  attempts?: number;
  /** Seconds spent retrying. */
  seconds?: number;
}

function zoneText(zone: CallContext['zone']): string {
  if (!zone) return '';
  return zone.name ? `hosted zone ${zone.id} (${zone.name})` : `hosted zone ${zone.id}`;
}

function resourceArn(ctx: CallContext): string {
  if (ctx.action === 'route53:GetChange') return `arn:aws:route53:::change/${ctx.changeId ?? '*'}`;
  if (ctx.zone && (ctx.action === 'route53:ChangeResourceRecordSets' || ctx.action === 'route53:ListResourceRecordSets')) {
    return `arn:aws:route53:::hostedzone/${ctx.zone.id}`;
  }
  return '*';
}

/** First line of an AWS message, shortened; only for codes whose messages quote no request data. */
function shortMessage(message: string): string {
  const line = (message.split('\n')[0] ?? '').trim();
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

/** The one-line error for a failure that is final (fatal, or retries used up). */
export function describeFailure(facts: ErrorFacts, ctx: CallContext, cause?: unknown): GxitError {
  const details = (subject: string, fix: string): { subject: string; fix: string; cause?: unknown } => ({ subject, fix, ...(cause === undefined ? {} : { cause }) });
  const code = facts.code ?? '';
  const what = ctx.action;
  const where = zoneText(ctx.zone);
  const subject = where || ctx.service;
  const tried = ctx.attempts !== undefined ? ` after ${ctx.attempts} attempts${ctx.seconds !== undefined ? ` in ${ctx.seconds.toFixed(1)} s` : ''}` : '';

  switch (classify(facts)) {
    case 'throttled':
      return new GxitError('DNS_PROVIDER', `${ctx.service} kept answering "Rate exceeded" to ${what}${tried}`, details(subject,
        'other tools of this AWS account are using up the Route53 rate limit (5 requests per second per account); run again later, or spread renewals over time'));
    case 'busy':
      return new GxitError('DNS_PROVIDER', `${ctx.service} was still applying an earlier change to ${where || 'the zone'}${tried} (PriorRequestNotComplete)`, details(subject,
        'another client is changing this zone right now; run again in a minute'));
    case 'stale':
      return new GxitError('DNS_PROVIDER', `the TXT records at ${(ctx.names ?? []).join(', ')} in ${where} kept changing while gxit-cert updated them${tried}`, details(subject,
        'another client writes at the same names; stop it or run again'));
    case 'clock':
      return new GxitError('DNS_CREDENTIALS', `${ctx.service} rejected the request time for ${what}: this machine's clock is off by more than 5 minutes`, details(subject,
        'synchronize the clock (timedatectl set-ntp true, or chrony/ntpd)'));
    case 'transient':
      if (facts.errno !== undefined || facts.status === undefined) {
        return new GxitError('DNS_UNREACHABLE', `${ctx.service} did not answer ${what}${tried} (${facts.errno ?? (code || shortMessage(facts.message))})`, details(ctx.service,
          'check the network connection, a proxy, and dns.route53.endpoint'));
      }
      return new GxitError('DNS_PROVIDER', `${ctx.service} failed ${what} with ${code || `HTTP ${facts.status}`}${tried}`, details(subject,
        'the AWS service is having trouble; check the AWS Health Dashboard and run again later'));
    case 'fatal':
      break;
  }

  if (facts.errno === 'ECONNREFUSED' || facts.errno === 'ENOTFOUND') {
    const reason = facts.errno === 'ENOTFOUND' ? 'its host name does not resolve' : 'connection refused';
    return new GxitError('DNS_UNREACHABLE', `cannot reach ${ctx.service} for ${what}: ${reason}`, details(ctx.service,
      'check dns.route53.endpoint (remove it for AWS itself), the network connection and any proxy'));
  }
  if (/certificate|self[- ]signed|UNABLE_TO_VERIFY/i.test(facts.message) && facts.status === undefined) {
    return new GxitError('DNS_UNREACHABLE', `cannot reach ${ctx.service} for ${what}: its TLS certificate is not trusted`, details(ctx.service,
      'check dns.route53.endpoint; for a private CA set NODE_EXTRA_CA_CERTS'));
  }
  if (code === 'AccessDenied' || code === 'AccessDeniedException' || code === 'UnauthorizedOperation' || code === 'NotAuthorized') {
    const principal = /User: (arn:\S+) is not authorized/.exec(facts.message)?.[1];
    const who = principal ?? `the credentials from ${ctx.credentials}`;
    if (what === 'sts:AssumeRole') {
      const role = /on resource: (arn:\S+)/.exec(facts.message)?.[1] ?? 'the role';
      return new GxitError('DNS_ACCESS_DENIED', `AWS denied sts:AssumeRole of ${role} to ${who}`, details('dns.route53.role_arn',
        `allow sts:AssumeRole on ${role} in that identity's IAM policy, and trust the identity in the role's trust policy (with the same external_id, if the role requires one)`));
    }
    const on = where ? ` on ${where}` : '';
    return new GxitError('DNS_ACCESS_DENIED', `AWS denied ${what}${on} to ${who}`, details(subject,
      `allow ${what} on ${resourceArn(ctx)} in that identity's IAM policy (run with --verbose for a minimal policy, or see the README's Route53 section)`));
  }
  if (code === 'NoSuchHostedZone') {
    return ctx.zone?.fromConfig
      ? new GxitError('DNS_ZONE_NOT_FOUND', `${ctx.service} has no hosted zone ${ctx.zone.id} (dns.route53.hosted_zone_id)`, details(`hosted zone ${ctx.zone.id}`,
        'correct dns.route53.hosted_zone_id (aws route53 list-hosted-zones-by-name), check that the credentials belong to the account of that zone, or remove the key to find the zone by name'))
      : new GxitError('DNS_ZONE_NOT_FOUND', `${ctx.service} no longer has ${where || 'the hosted zone'}: it was deleted during the run`, details(subject, 'run again'));
  }
  if (code === 'NoSuchChange') {
    return new GxitError('DNS_PROVIDER', `${ctx.service} does not know change ${ctx.changeId ?? ''} that it accepted a moment ago`, details(subject,
      'check that dns.route53.endpoint is a Route53-compatible service'));
  }
  if (code === 'InvalidClientTokenId' || code === 'UnrecognizedClientException' || code === 'InvalidAccessKeyId' || code === 'AuthFailure') {
    return new GxitError('DNS_CREDENTIALS', `AWS does not know the access key from ${ctx.credentials} (${code}): it is wrong, deleted or deactivated`, details(subject,
      'check the access key ID (aws sts get-caller-identity with the same credentials), or create a new access key'));
  }
  if (code === 'ExpiredToken' || code === 'ExpiredTokenException' || code === 'TokenRefreshRequired') {
    return new GxitError('DNS_CREDENTIALS', `the AWS credentials from ${ctx.credentials} have expired`, details(subject,
      'renew them: a new session token, "aws sso login" for an SSO profile, or static keys of a user that does not expire'));
  }
  if (code === 'SignatureDoesNotMatch') {
    const region = /scoped to a valid region|region '?[a-z0-9-]+'? is wrong|credential should be scoped/i.test(facts.message);
    return region
      ? new GxitError('DNS_CREDENTIALS', `${ctx.service} rejected the request signature for region ${ctx.region}: Route53 requests are signed for us-east-1`, details(subject,
        'remove dns.route53.region (or set it to us-east-1); with a custom endpoint the SDK signs for that region'))
      : new GxitError('DNS_CREDENTIALS', `${ctx.service} rejected the request signature: the secret access key does not belong to the access key ID (credentials from ${ctx.credentials})`, details(subject,
        'check the secret access key (dns.route53.secret_access_key_file, the profile, or AWS_SECRET_ACCESS_KEY)'));
  }
  if (code === 'IncompleteSignature' || code === 'MissingAuthenticationToken' || code === 'MissingAuthenticationTokenException') {
    return new GxitError('DNS_CREDENTIALS', `${ctx.service} refused ${what}: the request was not signed with complete credentials (${code})`, details(subject,
      'check the credentials: an access key ID with its secret access key (and session token, if temporary)'));
  }
  if (code === 'CredentialsProviderError' || /could not load credentials|profile .* could not be found|unable to find .*credentials/i.test(facts.message)) {
    return new GxitError('DNS_CREDENTIALS', `no AWS credentials found (${ctx.credentials})`, details('dns.route53',
      ctx.credentials.startsWith('profile ')
        ? `check that ${ctx.credentials} exists, with credentials, in ~/.aws/config or ~/.aws/credentials of the user running gxit-cert`
        : 'set dns.route53.access_key_id with secret_access_key_file, or profile:, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; on EC2 attach an instance role'));
  }
  if (code === 'InvalidChangeBatch' && /is not permitted in zone/i.test(facts.message)) {
    const name = /DNS name (\S+?)\.? is not permitted/.exec(facts.message)?.[1] ?? (ctx.names ?? []).join(', ');
    return new GxitError('DNS_ZONE_NOT_FOUND', `${name} is not inside ${where}`, details(name,
      ctx.zone?.fromConfig ? 'set dns.route53.hosted_zone_id to the zone that holds this name, or remove it to find the zone by name' : 'check the hosted zone'));
  }
  if (code === 'InvalidChangeBatch' || code === 'InvalidInput' || code === 'InvalidDomainName') {
    return new GxitError('DNS_PROVIDER', `${ctx.service} rejected ${what}${where ? ` for ${where}` : ''}: ${shortMessage(facts.message)}`, details(subject,
      'this is unexpected: run again with --verbose and report it'));
  }
  const label = code ? `${code}${facts.status ? ` (HTTP ${facts.status})` : ''}` : shortMessage(facts.message);
  return new GxitError('DNS_PROVIDER', `${ctx.service} failed ${what}${where ? ` for ${where}` : ''}: ${label}`, details(subject,
    'check dns.route53 and the AWS credentials; run again with --verbose for details'));
}

/**
 * The least an identity needs: finding zones by name (only without hosted_zone_id), reading and
 * changing TXT records at `_acme-challenge` names of the zones, and reading change status.
 */
export function minimalIamPolicy(zoneIds: readonly string[], lookupZones: boolean): string {
  const zones = zoneIds.length > 0 ? zoneIds : ['ZONE_ID'];
  const statements: Record<string, unknown>[] = [];
  if (lookupZones) statements.push({ Sid: 'FindZones', Effect: 'Allow', Action: 'route53:ListHostedZonesByName', Resource: '*' });
  statements.push(
    { Sid: 'ReadRecords', Effect: 'Allow', Action: 'route53:ListResourceRecordSets', Resource: zones.map((id) => `arn:aws:route53:::hostedzone/${id}`) },
    {
      Sid: 'WriteChallenges',
      Effect: 'Allow',
      Action: 'route53:ChangeResourceRecordSets',
      Resource: zones.map((id) => `arn:aws:route53:::hostedzone/${id}`),
      Condition: {
        'ForAllValues:StringEquals': { 'route53:ChangeResourceRecordSetsRecordTypes': ['TXT'] },
        'ForAllValues:StringLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['_acme-challenge.*'] },
      },
    },
    { Sid: 'WaitForChanges', Effect: 'Allow', Action: 'route53:GetChange', Resource: 'arn:aws:route53:::change/*' },
  );
  return JSON.stringify({ Version: '2012-10-17', Statement: statements }, null, 2);
}

/**
 * Shown by --verbose after the error (the CLI prints the cause chain): the minimal IAM policy.
 * Its "stack" is the text itself, so the cause chain prints it as it is.
 */
export class IamPolicyHint extends Error {
  constructor(policy: string, cause?: unknown) {
    super(`minimal IAM policy for gxit-cert:\n${policy}`, cause === undefined ? undefined : { cause });
    this.name = 'IamPolicyHint';
    this.stack = this.message;
  }
}

/** Text with secrets and signed-header values that may carry them removed. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text.replace(/(x-amz-security-token[:=]\s*)[^\s'"&]+/gi, '$1[redacted]');
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  return out;
}

/** A copy of an error safe to keep as a cause (shown by --verbose): message and stack redacted. */
export function redactedError(error: unknown, secrets: readonly string[]): Error {
  const original = error instanceof AwsCallError ? error.original : error;
  const copy = new Error(redact(messageOf(original), secrets));
  copy.name = original instanceof Error ? original.name : 'Error';
  copy.stack = redact(original instanceof Error ? (original.stack ?? copy.message) : copy.message, secrets);
  return copy;
}
