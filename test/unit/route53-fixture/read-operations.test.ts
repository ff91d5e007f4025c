// Route53 fixture, read operations, driven by the real @aws-sdk/client-route-53.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GetHostedZoneCommand,
  ListHostedZonesByNameCommand,
  ListHostedZonesCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import { startRoute53Fixture, type Route53FixtureHandle } from '../../../fixtures/route53/server.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const CREDS = { accessKeyId: 'AKIDREADTEST0000', secretAccessKey: 'read-secret' };

let fx: Route53FixtureHandle;
let client: Route53Client;

beforeAll(async () => {
  fx = await startRoute53Fixture({
    credentials: [CREDS],
    zones: [
      { name: 'example.test', id: 'ZPUBLIC0000000000001', comment: 'public one' },
      { name: 'Example.Test.', id: 'ZPRIVATE000000000001', private: true, vpcs: [{ region: 'eu-west-1', id: 'vpc-0123456789abcdef0' }] },
      { name: 'sub.example.test', id: 'ZSUB0000000000000001', nameServers: ['ns1.sub.example.test.', 'ns2.sub.example.test'] },
      { name: 'example-a.test', id: 'ZDASH000000000000001' },
      { name: 'aaa.test', id: 'ZAAA0000000000000001' },
      {
        name: 'records.test',
        id: 'ZRECORDS000000000001',
        records: [
          { name: 'www', type: 'A', values: ['192.0.2.1'] },
          { name: 'www', type: 'AAAA', values: ['2001:db8::1'] },
          { name: '*.records.test', type: 'TXT', values: ['wild'] },
          { name: '_acme-challenge', type: 'TXT', ttl: 60, values: ['"one"', '"two"'] },
          { name: 'a-b', type: 'TXT', values: ['dash'] },
          { name: 'a.b', type: 'TXT', values: ['dot'] },
          { name: 'mail', type: 'MX', values: ['10 mx.records.test.'] },
        ],
      },
    ],
  });
  client = new Route53Client({ endpoint: fx.url, region: 'us-east-1', credentials: CREDS });
});

afterAll(async () => {
  client?.destroy();
  await fx?.stop();
});

describe('ListHostedZonesByName', () => {
  it('lists all zones sorted by reversed labels, with trailing dots', async () => {
    const out = await client.send(new ListHostedZonesByNameCommand({}));
    expect(out.IsTruncated).toBe(false);
    expect(out.MaxItems).toBe(100);
    // "test.aaa." < "test.example-a." < "test.example." (same name: by id) < "test.example.sub." < "test.records."
    expect(out.HostedZones?.map((z) => [z.Name, z.Id])).toEqual([
      ['aaa.test.', '/hostedzone/ZAAA0000000000000001'],
      ['example-a.test.', '/hostedzone/ZDASH000000000000001'],
      ['example.test.', '/hostedzone/ZPRIVATE000000000001'],
      ['example.test.', '/hostedzone/ZPUBLIC0000000000001'],
      ['sub.example.test.', '/hostedzone/ZSUB0000000000000001'],
      ['records.test.', '/hostedzone/ZRECORDS000000000001'],
    ]);
  });

  it('returns a public and a private zone of the same name with Config.PrivateZone', async () => {
    const out = await client.send(new ListHostedZonesByNameCommand({ DNSName: 'example.test', MaxItems: 2 }));
    expect(out.DNSName).toBe('example.test');
    const zones = out.HostedZones ?? [];
    expect(zones.map((z) => z.Name)).toEqual(['example.test.', 'example.test.']);
    expect(zones.map((z) => z.Config?.PrivateZone).sort()).toEqual([false, true]);
    const pub = zones.find((z) => z.Config?.PrivateZone === false);
    expect(pub?.Config?.Comment).toBe('public one');
    expect(pub?.ResourceRecordSetCount).toBe(2); // apex SOA + NS
    expect(pub?.CallerReference).toBeTruthy();
  });

  it('pages with NextDNSName / NextHostedZoneId', async () => {
    const seen: string[] = [];
    let dns: string | undefined;
    let id: string | undefined;
    let pages = 0;
    for (;;) {
      const out = await client.send(new ListHostedZonesByNameCommand({ DNSName: dns, HostedZoneId: id, MaxItems: 1 }));
      pages++;
      expect(out.HostedZones).toHaveLength(1);
      seen.push(out.HostedZones![0]!.Id!);
      if (!out.IsTruncated) {
        expect(out.NextDNSName).toBeUndefined();
        break;
      }
      expect(out.NextDNSName).toMatch(/\.$/);
      expect(out.NextHostedZoneId).not.toMatch(/^\/hostedzone\//);
      dns = out.NextDNSName;
      id = out.NextHostedZoneId;
    }
    expect(pages).toBe(6);
    expect(new Set(seen).size).toBe(6);
    expect(seen.slice(2, 4)).toEqual(['/hostedzone/ZPRIVATE000000000001', '/hostedzone/ZPUBLIC0000000000001']);
  });

  it('starts at the first zone >= dnsname when the name itself does not exist', async () => {
    const out = await client.send(new ListHostedZonesByNameCommand({ DNSName: 'example.test.', MaxItems: 1 }));
    expect(out.HostedZones?.[0]?.Name).toBe('example.test.');
    const between = await client.send(new ListHostedZonesByNameCommand({ DNSName: 'zzz.example.test', MaxItems: 1 }));
    expect(between.HostedZones?.[0]?.Name).toBe('records.test.');
    const after = await client.send(new ListHostedZonesByNameCommand({ DNSName: 'zzzz' }));
    expect(after.HostedZones ?? []).toEqual([]);
    expect(after.IsTruncated).toBe(false);
  });

  it('rejects hostedzoneid without dnsname as InvalidInput', async () => {
    await expect(client.send(new ListHostedZonesByNameCommand({ HostedZoneId: 'ZAAA0000000000000001' }))).rejects.toMatchObject({
      name: 'InvalidInput',
      $metadata: { httpStatusCode: 400 },
    });
  });
});

describe('ListHostedZones', () => {
  it('pages with Marker / NextMarker', async () => {
    const first = await client.send(new ListHostedZonesCommand({ MaxItems: 4 }));
    expect(first.HostedZones).toHaveLength(4);
    expect(first.IsTruncated).toBe(true);
    expect(first.NextMarker).toBeTruthy();
    const second = await client.send(new ListHostedZonesCommand({ MaxItems: 4, Marker: first.NextMarker }));
    expect(second.Marker).toBe(first.NextMarker);
    expect(second.HostedZones).toHaveLength(2);
    expect(second.IsTruncated).toBe(false);
    const ids = [...first.HostedZones!, ...second.HostedZones!].map((z) => z.Id);
    expect(new Set(ids).size).toBe(6);
  });

  it('filters private zones with HostedZoneType', async () => {
    const out = await client.send(new ListHostedZonesCommand({ HostedZoneType: 'PrivateHostedZone' }));
    expect(out.HostedZones?.map((z) => z.Id)).toEqual(['/hostedzone/ZPRIVATE000000000001']);
  });
});

describe('GetHostedZone', () => {
  it('returns the DelegationSet of a public zone (name servers without trailing dot)', async () => {
    const out = await client.send(new GetHostedZoneCommand({ Id: '/hostedzone/ZSUB0000000000000001' }));
    expect(out.HostedZone).toMatchObject({ Id: '/hostedzone/ZSUB0000000000000001', Name: 'sub.example.test.', Config: { PrivateZone: false } });
    expect(out.DelegationSet?.NameServers).toEqual(['ns1.sub.example.test', 'ns2.sub.example.test']);
    expect(out.VPCs).toBeUndefined();
  });

  it('returns VPCs (and no DelegationSet) for a private zone', async () => {
    const out = await client.send(new GetHostedZoneCommand({ Id: 'ZPRIVATE000000000001' }));
    expect(out.HostedZone?.Config?.PrivateZone).toBe(true);
    expect(out.DelegationSet).toBeUndefined();
    expect(out.VPCs).toEqual([{ VPCRegion: 'eu-west-1', VPCId: 'vpc-0123456789abcdef0' }]);
  });

  it('answers NoSuchHostedZone (404) for an unknown id', async () => {
    const err = await client.send(new GetHostedZoneCommand({ Id: 'ZNOPE' })).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'NoSuchHostedZone', message: 'No hosted zone found with ID: ZNOPE', $metadata: { httpStatusCode: 404 } });
  });
});

describe('ListResourceRecordSets', () => {
  const key = (r: ResourceRecordSet) => `${r.Name} ${r.Type}`;

  it('lists in Route53 order: reversed labels (trailing dot matters), then type; "*" as \\052', async () => {
    const out = await client.send(new ListResourceRecordSetsCommand({ HostedZoneId: 'ZRECORDS000000000001' }));
    expect(out.IsTruncated).toBe(false);
    expect(out.MaxItems).toBe(300);
    expect(out.ResourceRecordSets?.map(key)).toEqual([
      'records.test. NS',
      'records.test. SOA',
      '\\052.records.test. TXT',
      '_acme-challenge.records.test. TXT',
      'a-b.records.test. TXT', // "test.records.a-b." < "test.records.a.b." because "-" (45) < "." (46)
      'a.b.records.test. TXT',
      'mail.records.test. MX',
      'www.records.test. A',
      'www.records.test. AAAA',
    ]);
    const acme = out.ResourceRecordSets?.find((r) => r.Name === '_acme-challenge.records.test.');
    expect(acme).toEqual({
      Name: '_acme-challenge.records.test.',
      Type: 'TXT',
      TTL: 60,
      ResourceRecords: [{ Value: '"one"' }, { Value: '"two"' }],
    });
    // TXT values given unquoted in the fixture config are stored quoted, as Route53 requires.
    expect(out.ResourceRecordSets?.find((r) => r.Name === 'a-b.records.test.')?.ResourceRecords).toEqual([{ Value: '"dash"' }]);
  });

  it('pages with NextRecordName / NextRecordType and starts at name/type', async () => {
    const all: string[] = [];
    let name: string | undefined;
    let type: string | undefined;
    for (let guard = 0; guard < 20; guard++) {
      const out = await client.send(
        new ListResourceRecordSetsCommand({
          HostedZoneId: 'ZRECORDS000000000001',
          StartRecordName: name,
          StartRecordType: type as never,
          MaxItems: 2,
        }),
      );
      all.push(...(out.ResourceRecordSets ?? []).map(key));
      if (!out.IsTruncated) break;
      expect(out.NextRecordName).toBeTruthy();
      expect(out.NextRecordType).toBeTruthy();
      name = out.NextRecordName;
      type = out.NextRecordType;
    }
    expect(all).toHaveLength(9);
    expect(new Set(all).size).toBe(9);
    expect(all[2]).toBe('\\052.records.test. TXT');

    const fromWww = await client.send(
      new ListResourceRecordSetsCommand({ HostedZoneId: 'ZRECORDS000000000001', StartRecordName: 'www.records.test', StartRecordType: 'AAAA' }),
    );
    expect(fromWww.ResourceRecordSets?.map(key)).toEqual(['www.records.test. AAAA']);
    const fromName = await client.send(
      new ListResourceRecordSetsCommand({ HostedZoneId: 'ZRECORDS000000000001', StartRecordName: 'WWW.records.test.', MaxItems: 1 }),
    );
    expect(fromName.ResourceRecordSets?.map(key)).toEqual(['www.records.test. A']);
    expect(fromName).toMatchObject({ IsTruncated: true, NextRecordName: 'www.records.test.', NextRecordType: 'AAAA' });
    const wildcard = await client.send(
      new ListResourceRecordSetsCommand({ HostedZoneId: 'ZRECORDS000000000001', StartRecordName: '*.records.test', StartRecordType: 'TXT', MaxItems: 1 }),
    );
    expect(wildcard.ResourceRecordSets?.map(key)).toEqual(['\\052.records.test. TXT']);
  });

  it('rejects type without name (InvalidInput) and unknown zones (NoSuchHostedZone)', async () => {
    await expect(
      client.send(new ListResourceRecordSetsCommand({ HostedZoneId: 'ZRECORDS000000000001', StartRecordType: 'TXT' })),
    ).rejects.toMatchObject({ name: 'InvalidInput', $metadata: { httpStatusCode: 400 } });
    await expect(client.send(new ListResourceRecordSetsCommand({ HostedZoneId: 'ZMISSING' }))).rejects.toMatchObject({
      name: 'NoSuchHostedZone',
      $metadata: { httpStatusCode: 404 },
    });
  });

  it('logs every request with operation, zone and access key', () => {
    const entries = fx.requests({ operation: 'ListResourceRecordSets' });
    expect(entries.length).toBeGreaterThan(3);
    expect(entries.every((e) => e.accessKeyId === CREDS.accessKeyId)).toBe(true);
    expect(entries.find((e) => e.status === 404)).toMatchObject({ zoneId: 'ZMISSING', errorCode: 'NoSuchHostedZone' });
  });
});
