import { describe, expect, it } from 'vitest';
import {
  AwsCallError,
  IamPolicyHint,
  classify,
  describeFailure,
  factsOf,
  minimalIamPolicy,
  redact,
  redactedError,
  type CallContext,
  type ErrorFacts,
} from '../../../../../src/dns/providers/route53/errors.js';

/** Shaped like the SDK's service exceptions: name = AWS code, $metadata.httpStatusCode. */
const serviceError = (code: string, status: number, message: string): Error =>
  Object.assign(new Error(message), { name: code, $metadata: { httpStatusCode: status } });
const networkError = (errno: string): Error => Object.assign(new Error(`connect ${errno} 127.0.0.1:1`), { code: errno, $metadata: {} });

const ctx = (over: Partial<CallContext> = {}): CallContext => ({
  action: 'route53:ChangeResourceRecordSets',
  service: 'Route53',
  credentials: 'profile galaxy',
  region: 'us-east-1',
  zone: { id: 'ZPUB1', name: 'r53.example.org', fromConfig: false },
  names: ['_acme-challenge.r53.example.org'],
  ...over,
});

describe('factsOf', () => {
  it('reads SDK service errors, network errors and wrapped fetch errors', () => {
    expect(factsOf(serviceError('Throttling', 400, 'Rate exceeded'))).toEqual({ code: 'Throttling', status: 400, message: 'Rate exceeded' });
    expect(factsOf(new AwsCallError('route53:GetChange', networkError('ECONNREFUSED')))).toEqual({ errno: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:1' });
    const fetchFailure = new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }) });
    expect(factsOf(fetchFailure)).toEqual({ code: 'TypeError', errno: 'ECONNRESET', message: 'fetch failed' });
  });
});

describe('classify', () => {
  it.each<[string, ErrorFacts, ReturnType<typeof classify>]>([
    ['Throttling', { code: 'Throttling', status: 400, message: 'Rate exceeded' }, 'throttled'],
    ['HTTP 429', { code: 'Http429', status: 429, message: '' }, 'throttled'],
    ['PriorRequestNotComplete', { code: 'PriorRequestNotComplete', status: 400, message: 'still processing' }, 'busy'],
    ['a DELETE of a set that changed', { code: 'InvalidChangeBatch', status: 400, message: "Tried to delete resource record set [name='x.', type='TXT'] but the values provided do not match the current values" }, 'stale'],
    ['a DELETE of a set that is gone', { code: 'InvalidChangeBatch', status: 400, message: "Tried to delete resource record set [name='x.', type='TXT'] but it was not found" }, 'stale'],
    ['a name outside the zone', { code: 'InvalidChangeBatch', status: 400, message: 'RRSet with DNS name x. is not permitted in zone y.' }, 'fatal'],
    ['a reset connection', { errno: 'ECONNRESET', message: 'socket hang up' }, 'transient'],
    ['a 503', { code: 'ServiceUnavailable', status: 503, message: '' }, 'transient'],
    ['a refused connection', { errno: 'ECONNREFUSED', message: '' }, 'fatal'],
    ['a skewed clock', { code: 'RequestExpired', status: 400, message: 'Request has expired' }, 'clock'],
    ['AccessDenied', { code: 'AccessDenied', status: 403, message: 'not authorized' }, 'fatal'],
    ['a wrong secret', { code: 'SignatureDoesNotMatch', status: 403, message: 'The request signature we calculated does not match' }, 'fatal'],
  ])('%s', (_, facts, expected) => {
    expect(classify(facts)).toBe(expected);
  });
});

describe('describeFailure', () => {
  it.each<[string, ErrorFacts, Partial<CallContext>, string, string, string]>([
    [
      'AccessDenied names the action, zone and principal',
      { code: 'AccessDenied', status: 403, message: 'User: arn:aws:iam::123456789012:user/test is not authorized to perform: route53:ChangeResourceRecordSets on resource: arn:aws:route53:::hostedzone/ZPUB1' },
      {},
      'DNS_ACCESS_DENIED',
      'AWS denied route53:ChangeResourceRecordSets on hosted zone ZPUB1 (r53.example.org) to arn:aws:iam::123456789012:user/test',
      'allow route53:ChangeResourceRecordSets on arn:aws:route53:::hostedzone/ZPUB1',
    ],
    [
      'AccessDenied for the zone lookup',
      { code: 'AccessDenied', status: 403, message: 'not authorized' },
      { action: 'route53:ListHostedZonesByName', zone: undefined },
      'DNS_ACCESS_DENIED',
      'AWS denied route53:ListHostedZonesByName to the credentials from profile galaxy',
      'allow route53:ListHostedZonesByName on *',
    ],
    [
      'AccessDenied for GetChange',
      { code: 'AccessDenied', status: 403, message: 'not authorized' },
      { action: 'route53:GetChange', changeId: 'C42' },
      'DNS_ACCESS_DENIED',
      'AWS denied route53:GetChange on hosted zone ZPUB1 (r53.example.org) to the credentials from profile galaxy',
      'allow route53:GetChange on arn:aws:route53:::change/C42',
    ],
    [
      'AccessDenied for AssumeRole names the role and the trust policy',
      { code: 'AccessDenied', status: 403, message: 'User: arn:aws:iam::123456789012:user/base is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/gxit-cert' },
      { action: 'sts:AssumeRole', zone: undefined },
      'DNS_ACCESS_DENIED',
      'AWS denied sts:AssumeRole of arn:aws:iam::123456789012:role/gxit-cert to arn:aws:iam::123456789012:user/base',
      "trust the identity in the role's trust policy",
    ],
    [
      'a configured zone id that does not exist',
      { code: 'NoSuchHostedZone', status: 404, message: 'No hosted zone found with ID: ZNOPE' },
      { zone: { id: 'ZNOPE', fromConfig: true } },
      'DNS_ZONE_NOT_FOUND',
      'Route53 has no hosted zone ZNOPE (dns.route53.hosted_zone_id)',
      'correct dns.route53.hosted_zone_id',
    ],
    [
      'an unknown access key',
      { code: 'InvalidClientTokenId', status: 403, message: 'The security token included in the request is invalid.' },
      {},
      'DNS_CREDENTIALS',
      'AWS does not know the access key from profile galaxy (InvalidClientTokenId): it is wrong, deleted or deactivated',
      'aws sts get-caller-identity',
    ],
    [
      'expired credentials',
      { code: 'ExpiredToken', status: 403, message: 'The security token included in the request is expired' },
      {},
      'DNS_CREDENTIALS',
      'the AWS credentials from profile galaxy have expired',
      'aws sso login',
    ],
    [
      'a wrong secret access key',
      { code: 'SignatureDoesNotMatch', status: 403, message: "The request signature we calculated does not match the signature you provided.\n\nThe Canonical String for this request should have been\n'GET\n/x'" },
      {},
      'DNS_CREDENTIALS',
      'Route53 rejected the request signature: the secret access key does not belong to the access key ID (credentials from profile galaxy)',
      'secret_access_key_file',
    ],
    [
      'a region Route53 does not sign for',
      { code: 'SignatureDoesNotMatch', status: 403, message: "Credential should be scoped to a valid region, not 'eu-west-1'. " },
      { region: 'eu-west-1' },
      'DNS_CREDENTIALS',
      'Route53 rejected the request signature for region eu-west-1: Route53 requests are signed for us-east-1',
      'remove dns.route53.region',
    ],
    [
      'an unreachable endpoint',
      { errno: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:9' },
      { service: 'the Route53 endpoint http://127.0.0.1:9', action: 'route53:ListHostedZonesByName' },
      'DNS_UNREACHABLE',
      'cannot reach the Route53 endpoint http://127.0.0.1:9 for route53:ListHostedZonesByName: connection refused',
      'check dns.route53.endpoint',
    ],
    [
      'missing credentials',
      { code: 'CredentialsProviderError', message: 'Could not load credentials from any providers' },
      { credentials: 'the default AWS credential chain (environment, ~/.aws, instance role)' },
      'DNS_CREDENTIALS',
      'no AWS credentials found (the default AWS credential chain (environment, ~/.aws, instance role))',
      'AWS_ACCESS_KEY_ID',
    ],
    [
      'throttling that never stopped',
      { code: 'Throttling', status: 400, message: 'Rate exceeded' },
      { attempts: 8, seconds: 12.34 },
      'DNS_PROVIDER',
      'Route53 kept answering "Rate exceeded" to route53:ChangeResourceRecordSets after 8 attempts in 12.3 s',
      '5 requests per second',
    ],
    [
      'a name outside a configured zone',
      { code: 'InvalidChangeBatch', status: 400, message: 'RRSet with DNS name _acme-challenge.other.example.net. is not permitted in zone r53.example.org.' },
      { zone: { id: 'ZPUB1', fromConfig: true } },
      'DNS_ZONE_NOT_FOUND',
      '_acme-challenge.other.example.net is not inside hosted zone ZPUB1',
      'set dns.route53.hosted_zone_id',
    ],
  ])('%s', (_, facts, over, code, message, fix) => {
    const error = describeFailure(facts, ctx(over));
    expect(error.code).toBe(code);
    expect(error.message).toBe(message);
    expect(error.fix).toContain(fix);
    expect(`${error.message} ${error.fix}`).not.toContain('\n');
  });
});

describe('secrets', () => {
  it('redacts known secrets and security tokens from causes', () => {
    const text = "x-amz-security-token:FwoGZXIvYXdzEXAMPLETOKEN\nsecret wJalrXUtnFEMI/K7MDENG and X-Amz-Security-Token=abc%2Fdef&y";
    expect(redact(text, ['wJalrXUtnFEMI/K7MDENG'])).toBe('x-amz-security-token:[redacted]\nsecret [redacted] and X-Amz-Security-Token=[redacted]&y');
    const copy = redactedError(new AwsCallError('route53:GetChange', serviceError('SignatureDoesNotMatch', 403, 'canonical\nx-amz-security-token:TOKEN123\n')), []);
    expect(copy.message).not.toContain('TOKEN123');
    expect(copy.stack).not.toContain('TOKEN123');
    expect(copy.name).toBe('SignatureDoesNotMatch');
  });
});

describe('minimalIamPolicy', () => {
  it('allows exactly the four actions, TXT at _acme-challenge names of the zone only', () => {
    const policy = JSON.parse(minimalIamPolicy(['ZPUB1'], true));
    expect(policy.Statement.map((s: { Action: string }) => s.Action)).toEqual([
      'route53:ListHostedZonesByName',
      'route53:ListResourceRecordSets',
      'route53:ChangeResourceRecordSets',
      'route53:GetChange',
    ]);
    expect(policy.Statement[2].Resource).toEqual(['arn:aws:route53:::hostedzone/ZPUB1']);
    expect(policy.Statement[2].Condition['ForAllValues:StringEquals']['route53:ChangeResourceRecordSetsRecordTypes']).toEqual(['TXT']);
  });

  it('leaves out the zone lookup when hosted_zone_id is configured, and prints as the cause text', () => {
    const text = minimalIamPolicy(['ZCONF'], false);
    expect(text).not.toContain('ListHostedZonesByName');
    const hint = new IamPolicyHint(text);
    expect(hint.stack).toBe(`minimal IAM policy for gxit-cert:\n${text}`);
  });
});
