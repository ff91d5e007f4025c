// Route53 fixture: SigV4 failures, AccessDenied, Throttling, PriorRequestNotComplete, as the real SDK sees them.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  GetHostedZoneCommand,
  ListHostedZonesByNameCommand,
  Route53Client,
  Route53ServiceException,
  type Route53ClientConfig,
} from '@aws-sdk/client-route-53';
import { startRoute53Fixture, type Route53FixtureHandle } from '../../../fixtures/route53/server.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const CREDS = { accessKeyId: 'AKIDERRORTEST0001', secretAccessKey: 'errors-secret' };
const STS = { accessKeyId: 'ASIATEMPORARY0001', secretAccessKey: 'temp-secret', sessionToken: 'session-token-1' };
const ZONE = 'ZERRORS0000000001';

let fx: Route53FixtureHandle;
const clients: Route53Client[] = [];

const makeClient = (over: Partial<Route53ClientConfig> = {}) => {
  const c = new Route53Client({ endpoint: fx.url, region: 'us-east-1', credentials: CREDS, ...over });
  clients.push(c);
  return c;
};

const catchErr = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e as Error & { name: string; $metadata: { httpStatusCode?: number; attempts?: number }; $retryable?: unknown },
  );

const upsert = (value: string) =>
  new ChangeResourceRecordSetsCommand({
    HostedZoneId: ZONE,
    ChangeBatch: {
      Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: '_acme-challenge.err.test', Type: 'TXT', TTL: 60, ResourceRecords: [{ Value: value }] } }],
    },
  });

beforeAll(async () => {
  fx = await startRoute53Fixture({
    credentials: [CREDS, { ...STS, arn: 'arn:aws:sts::123456789012:assumed-role/cert/session' }],
    zones: [{ name: 'err.test', id: ZONE }],
  });
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  await fx?.stop();
});

beforeEach(() => fx.reset());

describe('SigV4', () => {
  it('accepts requests signed by the SDK (GET with query, POST with body)', async () => {
    const c = makeClient();
    await c.send(new ListHostedZonesByNameCommand({ DNSName: 'err.test', MaxItems: 5 }));
    await c.send(upsert('"signed & sealed <ok>"'));
    expect(fx.requests().map((e) => e.status)).toEqual([200, 200]);
  });

  it('wrong secret -> SignatureDoesNotMatch (403)', async () => {
    const err = await catchErr(makeClient({ credentials: { ...CREDS, secretAccessKey: 'wrong' } }).send(new ListHostedZonesByNameCommand({})));
    expect(err.name).toBe('SignatureDoesNotMatch');
    expect(err.$metadata.httpStatusCode).toBe(403);
    expect(err.message).toMatch(/^The request signature we calculated does not match the signature you provided/);
    expect(err.$metadata.attempts).toBe(1); // not retried: the fixture's Date header agrees with the local clock
  });

  it('unknown access key -> InvalidClientTokenId (403)', async () => {
    const err = await catchErr(makeClient({ credentials: { accessKeyId: 'AKIDUNKNOWN', secretAccessKey: 'x' } }).send(new ListHostedZonesByNameCommand({})));
    expect(err.name).toBe('InvalidClientTokenId');
    expect(err.$metadata.httpStatusCode).toBe(403);
    expect(err.message).toBe('The security token included in the request is invalid.');
    expect(fx.requests()[0]).toMatchObject({ accessKeyId: 'AKIDUNKNOWN', errorCode: 'InvalidClientTokenId' });
  });

  it('session credentials need the right X-Amz-Security-Token; expired ones -> ExpiredToken', async () => {
    await makeClient({ credentials: STS }).send(new ListHostedZonesByNameCommand({}));
    const noToken = await catchErr(makeClient({ credentials: { accessKeyId: STS.accessKeyId, secretAccessKey: STS.secretAccessKey } }).send(new ListHostedZonesByNameCommand({})));
    expect(noToken.name).toBe('InvalidClientTokenId');
    const wrongToken = await catchErr(makeClient({ credentials: { ...STS, sessionToken: 'other' } }).send(new ListHostedZonesByNameCommand({})));
    expect(wrongToken.name).toBe('InvalidClientTokenId');
    fx.expireCredentials(STS.accessKeyId);
    const expired = await catchErr(makeClient({ credentials: STS, maxAttempts: 1 }).send(new ListHostedZonesByNameCommand({})));
    expect(expired.name).toBe('ExpiredToken');
    expect(expired.$metadata.httpStatusCode).toBe(403);
  });

  it('a client signing for another region is refused (Route53 signs for us-east-1 only)', async () => {
    const err = await catchErr(makeClient({ region: 'eu-west-1' }).send(new ListHostedZonesByNameCommand({})));
    expect(err.name).toBe('SignatureDoesNotMatch');
    expect(err.message).toContain("Credential should be scoped to a valid region, not 'eu-west-1'");
  });

  it('unsigned requests -> MissingAuthenticationToken (403) as AWS error XML', async () => {
    const res = await fetch(`${fx.url}/2013-04-01/hostedzonesbyname`);
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toBe('text/xml');
    expect(res.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    const body = await res.text();
    expect(body).toContain('<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>MissingAuthenticationToken</Code>');
    expect(body).toContain(`<RequestId>${res.headers.get('x-amzn-requestid')}</RequestId>`);
  });
});

describe('AccessDenied', () => {
  it('deny route53:ChangeResourceRecordSets -> AccessDenied (403) with an AWS-like message; reads still work', async () => {
    fx.deny('route53:ChangeResourceRecordSets');
    const c = makeClient();
    const err = await catchErr(c.send(upsert('"x"')));
    expect(err.name).toBe('AccessDenied');
    expect(err.$metadata.httpStatusCode).toBe(403);
    expect(err.message).toBe(
      `User: arn:aws:iam::123456789012:user/test is not authorized to perform: route53:ChangeResourceRecordSets on resource: arn:aws:route53:::hostedzone/${ZONE}`,
    );
    await c.send(new GetHostedZoneCommand({ Id: ZONE }));
    fx.clearDenies();
    await c.send(upsert('"x"'));
  });

  it('can be limited to one zone or one access key and uses the credential ARN', async () => {
    fx.deny({ action: 'GetHostedZone', zoneId: '/hostedzone/ZOTHER' });
    await makeClient().send(new GetHostedZoneCommand({ Id: ZONE }));
    fx.deny({ action: 'route53:*', accessKeyId: STS.accessKeyId });
    await makeClient().send(new ListHostedZonesByNameCommand({}));
    const err = await catchErr(makeClient({ credentials: STS }).send(new ListHostedZonesByNameCommand({})));
    expect(err.name).toBe('AccessDenied');
    expect(err.message).toBe(
      'User: arn:aws:sts::123456789012:assumed-role/cert/session is not authorized to perform: route53:ListHostedZonesByName on resource: *',
    );
  });
});

describe('Throttling', () => {
  it('surfaces as err.name "Throttling" ("Rate exceeded", HTTP 400) with maxAttempts: 1', async () => {
    fx.throttle(1);
    const err = await catchErr(makeClient({ maxAttempts: 1 }).send(new ListHostedZonesByNameCommand({})));
    expect(err.name).toBe('Throttling');
    expect(err.message).toBe('Rate exceeded');
    expect(err.$metadata.httpStatusCode).toBe(400);
    // Not a modeled Route53 error: a plain Route53ServiceException whose name is the code;
    // the SDK's retry strategy recognises "Throttling" by name.
    expect(err).toBeInstanceOf(Route53ServiceException);
    expect(err.$retryable).toBeUndefined();
  });

  it('is retried by the SDK by itself (same invocation id, attempt 2)', async () => {
    fx.throttle(1, 'ListHostedZonesByName');
    const out = await makeClient().send(new ListHostedZonesByNameCommand({}));
    expect(out.$metadata.attempts).toBe(2);
    const log = fx.requests({ operation: 'ListHostedZonesByName' });
    expect(log.map((e) => [e.status, e.errorCode, e.attempt])).toEqual([
      [400, 'Throttling', 1],
      [200, undefined, 2],
    ]);
    expect(log[0]!.invocationId).toBe(log[1]!.invocationId);
  });

  it('can target one operation only', async () => {
    fx.throttle(2, 'route53:GetChange');
    const c = makeClient({ maxAttempts: 1 });
    const out = await c.send(upsert('"t"'));
    await expect(c.send(new GetChangeCommand({ Id: out.ChangeInfo!.Id! }))).rejects.toMatchObject({ name: 'Throttling' });
    await expect(c.send(new GetChangeCommand({ Id: out.ChangeInfo!.Id! }))).rejects.toMatchObject({ name: 'Throttling' });
    expect((await c.send(new GetChangeCommand({ Id: out.ChangeInfo!.Id! }))).ChangeInfo?.Status).toBe('PENDING');
  });
});

describe('PriorRequestNotComplete', () => {
  it('is injected on the next change batch; the SDK treats it as throttling and retries', async () => {
    fx.injectPriorRequestNotComplete(1);
    const err = await catchErr(makeClient({ maxAttempts: 1 }).send(upsert('"p"')));
    expect(err.name).toBe('PriorRequestNotComplete');
    expect(err.$metadata.httpStatusCode).toBe(400);
    expect(fx.changes({ source: 'api' })).toHaveLength(0);

    fx.clearLogs();
    fx.injectPriorRequestNotComplete(1, ZONE);
    const out = await makeClient().send(upsert('"p2"'));
    expect(out.$metadata.attempts).toBe(2);
    expect(fx.requests({ operation: 'ChangeResourceRecordSets' }).map((e) => e.errorCode ?? e.status)).toEqual(['PriorRequestNotComplete', 200]);
    expect(fx.changes({ source: 'api' })).toHaveLength(1);
  });
});
