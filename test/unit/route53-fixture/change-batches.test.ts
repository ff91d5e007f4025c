// Route53 fixture, ChangeResourceRecordSets and GetChange, driven by the real SDK.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  InvalidChangeBatch,
  ListResourceRecordSetsCommand,
  Route53Client,
  type Change,
} from '@aws-sdk/client-route-53';
import { startRoute53Fixture, type Route53FixtureHandle } from '../../../fixtures/route53/server.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const CREDS = { accessKeyId: 'AKIDCHANGETEST000', secretAccessKey: 'change-secret' };
const ZONE = 'ZCHANGES00000000001';
const ACME = '_acme-challenge.example.test';

let fx: Route53FixtureHandle;
let client: Route53Client;

const txt = (action: Change['Action'], name: string, values: string[], ttl = 60): Change => ({
  Action: action,
  ResourceRecordSet: { Name: name, Type: 'TXT', TTL: ttl, ResourceRecords: values.map((Value) => ({ Value })) },
});

const change = (changes: Change[], zone = ZONE, comment?: string) =>
  client.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zone, ChangeBatch: { Changes: changes, Comment: comment } }));

const fail = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e as Error & { name: string; $metadata: { httpStatusCode?: number } },
  );

const zoneTxt = () =>
  fx
    .records(ZONE)
    .filter((r) => r.type === 'TXT')
    .map((r) => `${r.name} ${r.ttl} ${r.values.join(' ')}`);

beforeAll(async () => {
  fx = await startRoute53Fixture({ credentials: [CREDS], zones: [{ name: 'example.test', id: ZONE }, { name: 'other.test', id: 'ZOTHER000000000001' }] });
  client = new Route53Client({ endpoint: fx.url, region: 'us-east-1', credentials: CREDS });
});

afterAll(async () => {
  client?.destroy();
  await fx?.stop();
});

beforeEach(() => {
  // Fresh TXT state for every test.
  const sets = fx.records(ZONE).filter((r) => r.type === 'TXT');
  if (sets.length > 0) fx.deleteRecords(ZONE, sets);
  fx.reset();
});

describe('ChangeResourceRecordSets', () => {
  it('CREATE adds a record set and returns ChangeInfo PENDING with /change/ id', async () => {
    const out = await change([txt('CREATE', ACME, ['"token-1"'])], ZONE, 'order 1');
    expect(out.ChangeInfo?.Id).toMatch(/^\/change\/C[A-Z0-9]+$/);
    expect(out.ChangeInfo?.Status).toBe('PENDING');
    expect(out.ChangeInfo?.SubmittedAt).toBeInstanceOf(Date);
    expect(Math.abs(out.ChangeInfo!.SubmittedAt!.getTime() - Date.now())).toBeLessThan(60_000);
    expect(out.ChangeInfo?.Comment).toBe('order 1');
    expect(zoneTxt()).toEqual(['_acme-challenge.example.test. 60 "token-1"']);
  });

  it('CREATE of an existing set fails with InvalidChangeBatch "... but it already exists"', async () => {
    await change([txt('CREATE', ACME, ['"token-1"'])]);
    const err = await fail(change([txt('CREATE', ACME, ['"token-2"'])]));
    expect(err).toBeInstanceOf(InvalidChangeBatch);
    expect(err.name).toBe('InvalidChangeBatch');
    expect(err.$metadata.httpStatusCode).toBe(400);
    expect(err.message).toBe("Tried to create resource record set [name='_acme-challenge.example.test.', type='TXT'] but it already exists");
    expect(zoneTxt()).toEqual(['_acme-challenge.example.test. 60 "token-1"']);
  });

  it('UPSERT replaces the whole set (values and TTL)', async () => {
    await change([txt('UPSERT', ACME, ['"a"'])]);
    await change([txt('UPSERT', ACME, ['"a"', '"b"'], 120)]);
    expect(zoneTxt()).toEqual(['_acme-challenge.example.test. 120 "a" "b"']);
  });

  it('DELETE must match values and TTL exactly (order of values does not matter)', async () => {
    await change([txt('CREATE', ACME, ['"a"', '"b"'])]);
    const wrongValues = await fail(change([txt('DELETE', ACME, ['"a"'])]));
    expect(wrongValues.name).toBe('InvalidChangeBatch');
    expect(wrongValues.message).toBe(
      "Tried to delete resource record set [name='_acme-challenge.example.test.', type='TXT'] but the values provided do not match the current values",
    );
    const wrongTtl = await fail(change([txt('DELETE', ACME, ['"a"', '"b"'], 300)]));
    expect(wrongTtl.message).toContain('but the values provided do not match the current values');
    expect(zoneTxt()).toEqual(['_acme-challenge.example.test. 60 "a" "b"']);
    await change([txt('DELETE', ACME, ['"b"', '"a"'])]);
    expect(zoneTxt()).toEqual([]);
    const missing = await fail(change([txt('DELETE', ACME, ['"a"'])]));
    expect(missing.message).toBe("Tried to delete resource record set [name='_acme-challenge.example.test.', type='TXT'] but it was not found");
  });

  it('is atomic: a batch with one failing change changes nothing, and every problem is reported', async () => {
    await change([txt('CREATE', `x.${ACME}`, ['"keep"'])]);
    const before = zoneTxt();
    const err = await fail(
      change([
        txt('CREATE', ACME, ['"new"']),
        txt('UPSERT', `y.${ACME}`, ['"new"']),
        txt('CREATE', `x.${ACME}`, ['"dup"']),
        txt('DELETE', `z.${ACME}`, ['"gone"']),
      ]),
    );
    expect(err.name).toBe('InvalidChangeBatch');
    expect(err.message).toBe(
      "[Tried to create resource record set [name='x._acme-challenge.example.test.', type='TXT'] but it already exists, " +
        "Tried to delete resource record set [name='z._acme-challenge.example.test.', type='TXT'] but it was not found]",
    );
    expect(zoneTxt()).toEqual(before);
    expect(fx.changes({ source: 'api' })).toHaveLength(1); // only the first CREATE was accepted
  });

  it('applies changes in order within a batch: DELETE then CREATE of the same set is allowed', async () => {
    await change([txt('CREATE', ACME, ['"old"'])]);
    await change([txt('DELETE', ACME, ['"old"']), txt('CREATE', ACME, ['"old"', '"new"'])]);
    expect(zoneTxt()).toEqual(['_acme-challenge.example.test. 60 "old" "new"']);
    const twice = await fail(change([txt('UPSERT', ACME, ['"a"']), txt('UPSERT', ACME, ['"b"'])]));
    expect(twice.message).toBe("The request contains an invalid set of changes for a resource record set 'TXT _acme-challenge.example.test.'");
  });

  it('requires TXT values to be quoted strings, as Route53 does; escapes survive the round trip', async () => {
    const err = await fail(change([txt('CREATE', ACME, ['unquoted'])]));
    expect(err.name).toBe('InvalidChangeBatch');
    expect(err.message).toBe(
      "Invalid Resource Record: 'FATAL problem: InvalidCharacterString (Value should be enclosed in quotation marks) encountered with 'unquoted''",
    );
    const value = '"with \\"quote\\" & <xml> \\134 chars" "second"';
    await change([txt('CREATE', ACME, [value])]);
    const out = await client.send(new ListResourceRecordSetsCommand({ HostedZoneId: ZONE, StartRecordName: ACME, StartRecordType: 'TXT', MaxItems: 1 }));
    expect(out.ResourceRecordSets?.[0]?.ResourceRecords).toEqual([{ Value: value }]);
    const dup = await fail(change([txt('UPSERT', ACME, ['"x"', '"x"'])]));
    expect(dup.message).toBe('Duplicate Resource Record: \'"x"\'');
  });

  it('refuses names outside the zone and the removal of the apex SOA', async () => {
    const err = await fail(change([txt('CREATE', '_acme-challenge.other.test', ['"a"'])]));
    expect(err.message).toBe('RRSet with DNS name _acme-challenge.other.test. is not permitted in zone example.test.');
    const soa = fx.records(ZONE).find((r) => r.type === 'SOA')!;
    const apex = await fail(
      change([{ Action: 'DELETE', ResourceRecordSet: { Name: soa.name, Type: 'SOA', TTL: soa.ttl, ResourceRecords: soa.values.map((Value) => ({ Value })) } }]),
    );
    expect(apex.message).toBe('A HostedZone must contain exactly one SOA record.');
  });

  it('answers InvalidInput for a set without TTL/ResourceRecords and NoSuchHostedZone for an unknown zone', async () => {
    const noTtl = await fail(change([{ Action: 'CREATE', ResourceRecordSet: { Name: ACME, Type: 'TXT' } }]));
    expect(noTtl.name).toBe('InvalidInput');
    expect(noTtl.message).toContain('Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords]');
    const noZone = await fail(change([txt('CREATE', ACME, ['"a"'])], 'ZDOESNOTEXIST'));
    expect(noZone.name).toBe('NoSuchHostedZone');
    expect(noZone.$metadata.httpStatusCode).toBe(404);
  });

  it('accepts names in any case, with or without trailing dot, and "*" / "\\052" alike', async () => {
    await change([txt('CREATE', '*.Example.TEST', ['"w"'])]);
    await change([txt('UPSERT', '\\052.example.test.', ['"w2"'])]);
    expect(zoneTxt()).toEqual(['\\052.example.test. 60 "w2"']);
  });
});

describe('GetChange', () => {
  it('is PENDING for the configured number of polls (default 2), then INSYNC', async () => {
    const out = await change([txt('UPSERT', ACME, ['"t"'])]);
    const statuses: string[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await client.send(new GetChangeCommand({ Id: out.ChangeInfo!.Id! }))).ChangeInfo!.Status!);
    expect(statuses).toEqual(['PENDING', 'PENDING', 'INSYNC', 'INSYNC']);
    const polls = fx.requests({ operation: 'GetChange' }).filter((e) => `/change/${e.changeId}` === out.ChangeInfo!.Id);
    expect(polls.map((e) => e.changeStatus)).toEqual(statuses);
    expect(fx.changes().find((c) => `/change/${c.id}` === out.ChangeInfo!.Id)).toMatchObject({ polls: 4, status: 'INSYNC', pendingPolls: 2 });
  });

  it('takes the PENDING count from the knob at submit time (0 = INSYNC at first poll)', async () => {
    fx.setPendingPolls(0);
    const quick = await change([txt('UPSERT', ACME, ['"q"'])]);
    fx.setPendingPolls(4);
    const slow = await change([txt('UPSERT', ACME, ['"s"'])]);
    expect((await client.send(new GetChangeCommand({ Id: quick.ChangeInfo!.Id! }))).ChangeInfo?.Status).toBe('INSYNC');
    const statuses: string[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await client.send(new GetChangeCommand({ Id: slow.ChangeInfo!.Id! }))).ChangeInfo!.Status!);
    expect(statuses).toEqual(['PENDING', 'PENDING', 'PENDING', 'PENDING', 'INSYNC']);
  });

  it('returns the same id and SubmittedAt, and NoSuchChange (404) for an unknown id', async () => {
    const out = await change([txt('UPSERT', ACME, ['"t"'])], ZONE, 'c');
    const got = await client.send(new GetChangeCommand({ Id: out.ChangeInfo!.Id! }));
    expect(got.ChangeInfo).toMatchObject({ Id: out.ChangeInfo!.Id, SubmittedAt: out.ChangeInfo!.SubmittedAt, Comment: 'c' });
    const bare = await client.send(new GetChangeCommand({ Id: out.ChangeInfo!.Id!.replace('/change/', '') }));
    expect(bare.ChangeInfo?.Id).toBe(out.ChangeInfo!.Id);
    const err = await fail(client.send(new GetChangeCommand({ Id: '/change/CNOSUCHCHANGE' })));
    expect(err.name).toBe('NoSuchChange');
    expect(err.$metadata.httpStatusCode).toBe(404);
  });

  it('change log records one entry per accepted batch with the changes and the caller', async () => {
    await change([txt('CREATE', ACME, ['"base"']), txt('CREATE', `www.${ACME}`, ['"wild"'])], ZONE, 'order 42');
    const log = fx.changes({ zoneId: ZONE, source: 'api' });
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({
      zoneId: ZONE,
      zoneName: 'example.test.',
      comment: 'order 42',
      accessKeyId: CREDS.accessKeyId,
      status: 'PENDING',
      dns: { state: 'none' },
      changes: [
        { action: 'CREATE', name: '_acme-challenge.example.test.', type: 'TXT', ttl: 60, values: ['"base"'] },
        { action: 'CREATE', name: 'www._acme-challenge.example.test.', type: 'TXT', ttl: 60, values: ['"wild"'] },
      ],
    });
    expect(fx.requests({ operation: 'ChangeResourceRecordSets' })).toHaveLength(1);
  });
});
