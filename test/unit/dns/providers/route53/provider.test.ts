// The Route53 provider through the real AWS SDK against the in-process Route53 fixture (no DNS
// server behind it): batches, zone choice, retries, errors, credentials.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { startRoute53Fixture, type Route53FixtureHandle } from '../../../../../fixtures/route53/server.mjs';
import { verifySigV4 } from '../../../../../fixtures/route53/sigv4.mjs';
import type { Route53Config } from '../../../../../src/dns/providers/route53/settings.js';
import { GxitError } from '../../../../../src/errors.js';
import { createRoute53Provider, type Route53Deps } from '../../../../../src/dns/providers/route53/provider.js';
import { credentialPlan } from '../../../../../src/dns/providers/route53/credentials.js';
import { AwsCallError, IamPolicyHint } from '../../../../../src/dns/providers/route53/errors.js';
import { createSdkApi, type Route53Api } from '../../../../../src/dns/providers/route53/sdk.js';
import type { TxtRecord } from '../../../../../src/dns/provider.js';

/** A signal that never fires: the run is not interrupted. */
const NEVER = new AbortController().signal;

const KEY = { accessKeyId: 'AKIDPROVIDERTEST01', secretAccessKey: 'provider/test+secret' };
const BASE = '_acme-challenge.r53.example.org';
const GXIT = '_acme-challenge.ep.interactivetool.r53.example.org';
const V1 = 'LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0';
const V2 = 'qW3oDQ5Tm3-SNWkP1BnJ0dTvBfnJ9C0sK5xVn9b6bBo';
const ORDER: TxtRecord[] = [
  { fqdn: BASE, value: V1 },
  { fqdn: BASE, value: V2 },
  { fqdn: GXIT, value: V1 },
];

let fx: Route53FixtureHandle;

beforeAll(async () => {
  fx = await startRoute53Fixture({
    credentials: [KEY, { accessKeyId: 'AKIDTEMPORARY0001', secretAccessKey: 'temp-secret', sessionToken: 'SESSIONTOKEN/abc+def' }],
    zones: [
      { name: 'example.org', id: 'ZEXAMPLE' },
      { name: 'r53.example.org', id: 'ZR53PUB' },
      { name: 'r53.example.org', id: 'ZR53PRIV', private: true },
      { name: 'twin.example.org', id: 'ZTWINA' },
      { name: 'twin.example.org', id: 'ZTWINB' },
      { name: 'inside.example.org', id: 'ZINSIDEPRIV', private: true },
    ],
  });
});
afterAll(() => fx.stop());
beforeEach(() => {
  fx.reset();
  for (const zone of ['ZR53PUB', 'ZR53PRIV', 'ZEXAMPLE']) {
    const sets = fx.records(zone).filter((r) => r.type === 'TXT').map((r) => ({ name: r.name, type: r.type }));
    if (sets.length > 0) fx.deleteRecords(zone, sets, { applyDns: false });
  }
  fx.clearLogs();
});

const config = (over: Partial<Route53Config> = {}): Route53Config => ({ endpoint: fx.url, ...KEY, privateZone: false, ttl: 60, ...over });
const fast: Route53Deps = { pollFirstMs: 2, pollMaxMs: 5, sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 5))) };
const provider = (over: Partial<Route53Config> = {}, deps: Route53Deps = {}) => createRoute53Provider(config(over), { ...fast, ...deps });
const txt = (zone: string, name: string): string[] => fx.records(zone).find((r) => r.type === 'TXT' && r.name === `${name}.`)?.values ?? [];
const apiChanges = () => fx.changes({ source: 'api' });
const calls = (operation: string) => fx.requests({ operation });

describe('present and cleanup', () => {
  it('adds base and wildcard values in one batch, waits for INSYNC, and removes them in one batch', async () => {
    const p = provider();
    await p.present(ORDER, NEVER);
    expect(apiChanges()).toHaveLength(1);
    expect(apiChanges()[0]).toMatchObject({ zoneId: 'ZR53PUB', status: 'INSYNC', changes: [
      { action: 'UPSERT', name: `${GXIT}.`, type: 'TXT', ttl: 60, values: [`"${V1}"`] },
      { action: 'UPSERT', name: `${BASE}.`, type: 'TXT', ttl: 60, values: [`"${V1}"`, `"${V2}"`] },
    ] });
    // PENDING twice (the fixture's default), then INSYNC.
    expect(calls('GetChange').map((r) => r.changeStatus)).toEqual(['PENDING', 'PENDING', 'INSYNC']);

    fx.clearLogs();
    await p.cleanup(ORDER, NEVER);
    expect(apiChanges()).toHaveLength(1);
    expect(apiChanges()[0]?.changes.map((c) => c.action)).toEqual(['DELETE', 'DELETE']);
    expect(txt('ZR53PUB', BASE)).toEqual([]);
    expect(txt('ZR53PUB', GXIT)).toEqual([]);
    expect(calls('GetChange')).toHaveLength(0);
    // The zones were looked up once, during present.
    expect(calls('ListHostedZonesByName')).toHaveLength(0);
  });

  it('keeps a foreign value at the challenge name, with its TTL', async () => {
    fx.upsertRecords('ZR53PUB', [{ name: BASE, type: 'TXT', ttl: 300, values: ['foreign-value'] }], { applyDns: false });
    const p = provider();
    await p.present(ORDER, NEVER);
    expect(txt('ZR53PUB', BASE)).toEqual(['"foreign-value"', `"${V1}"`, `"${V2}"`]);
    expect(fx.records('ZR53PUB').find((r) => r.name === `${BASE}.`)?.ttl).toBe(300);
    await p.cleanup(ORDER, NEVER);
    expect(txt('ZR53PUB', BASE)).toEqual(['"foreign-value"']);
    expect(apiChanges().at(-1)?.changes).toEqual([
      { action: 'DELETE', name: `${GXIT}.`, type: 'TXT', ttl: 60, values: [`"${V1}"`] },
      { action: 'UPSERT', name: `${BASE}.`, type: 'TXT', ttl: 300, values: ['"foreign-value"'] },
    ]);
  });

  it('cleans up only values it may have added, and nothing when present never ran', async () => {
    fx.upsertRecords('ZR53PUB', [{ name: BASE, type: 'TXT', values: [V1] }], { applyDns: false });
    await provider().cleanup([{ fqdn: BASE, value: V1 }], NEVER);
    expect(apiChanges()).toHaveLength(0);
    expect(txt('ZR53PUB', BASE)).toEqual([`"${V1}"`]);
  });

  it('has nothing to clean up for names whose zone was never found', async () => {
    const p = provider();
    await expect(p.present([{ fqdn: '_acme-challenge.twin.example.org', value: V1 }], NEVER)).rejects.toThrow('gxit-cert does not guess');
    fx.clearLogs();
    await p.cleanup([{ fqdn: '_acme-challenge.twin.example.org', value: V1 }], NEVER);
    expect(fx.requests()).toHaveLength(0);
  });

  it('sends nothing when the values are already there', async () => {
    fx.upsertRecords('ZR53PUB', [{ name: BASE, type: 'TXT', values: [V1] }], { applyDns: false });
    await provider().present([{ fqdn: BASE, value: V1 }], NEVER);
    expect(apiChanges()).toHaveLength(0);
  });
});

describe('zone choice', () => {
  it('takes the public zone of the longest matching name, asking ListHostedZonesByName per candidate name', async () => {
    await provider().present([{ fqdn: BASE, value: V1 }], NEVER);
    expect(apiChanges()[0]?.zoneId).toBe('ZR53PUB');
    expect(calls('ListHostedZonesByName').map((r) => r.query.dnsname)).toEqual([BASE, 'r53.example.org']);
  });

  it('takes the private zone with private_zone: true', async () => {
    await provider({ privateZone: true }).present([{ fqdn: BASE, value: V1 }], NEVER);
    expect(apiChanges()[0]?.zoneId).toBe('ZR53PRIV');
  });

  it('refuses to guess between two public zones of one name', async () => {
    const error = await provider().present([{ fqdn: '_acme-challenge.twin.example.org', value: V1 }], NEVER).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GxitError);
    expect((error as GxitError).message).toBe('2 public Route53 hosted zones are named twin.example.org (ZTWINA, ZTWINB); gxit-cert does not guess which one holds _acme-challenge.twin.example.org');
    expect((error as GxitError).fix).toContain('hosted_zone_id');
    expect(apiChanges()).toHaveLength(0);
  });

  it('uses hosted_zone_id without any lookup', async () => {
    await provider({ hostedZoneId: 'ZTWINB' }).present([{ fqdn: '_acme-challenge.twin.example.org', value: V1 }], NEVER);
    expect(apiChanges()[0]?.zoneId).toBe('ZTWINB');
    expect(calls('ListHostedZonesByName')).toHaveLength(0);
  });

  it('falls back to the public parent zone when only a private zone has the longer name', async () => {
    await provider().present([{ fqdn: '_acme-challenge.inside.example.org', value: V1 }], NEVER);
    expect(apiChanges()[0]?.zoneId).toBe('ZEXAMPLE');
  });

  it('names the zone when a configured hosted_zone_id does not hold the name', async () => {
    const error = (await provider({ hostedZoneId: 'ZTWINA' }).present([{ fqdn: BASE, value: V1 }], NEVER).catch((e: unknown) => e)) as GxitError;
    expect(error.code).toBe('DNS_ZONE_NOT_FOUND');
    expect(error.message).toBe(`${BASE} is not inside hosted zone ZTWINA`);
  });

  it('reports a configured hosted_zone_id that does not exist', async () => {
    const error = (await provider({ hostedZoneId: 'ZNOSUCHZONE' }).present([{ fqdn: BASE, value: V1 }], NEVER).catch((e: unknown) => e)) as GxitError;
    expect(error.code).toBe('DNS_ZONE_NOT_FOUND');
    expect(error.message).toBe('the Route53 endpoint ' + fx.url + ' has no hosted zone ZNOSUCHZONE (dns.route53.hosted_zone_id)');
  });
});

describe('retries', () => {
  it('survives throttling of every operation, with jittered waits and one accepted batch', async () => {
    const waits: number[] = [];
    fx.throttle(2, 'ListHostedZonesByName');
    fx.throttle(2, 'ListResourceRecordSets');
    fx.throttle(2, 'ChangeResourceRecordSets');
    fx.throttle(2, 'GetChange');
    const p = provider({}, { sleep: async (ms) => void waits.push(ms), random: () => 0.5 });
    await p.present(ORDER, NEVER);
    expect(apiChanges()).toHaveLength(1);
    expect(fx.requests({ status: 400 }).filter((r) => r.errorCode === 'Throttling')).toHaveLength(8);
    // One SDK attempt per request: the SDK does not retry underneath.
    expect(fx.requests().every((r) => r.attempt === 1)).toBe(true);
    expect(waits).toEqual(expect.arrayContaining([150, 300]));
  });

  it('rebuilds the batch from a fresh read after PriorRequestNotComplete', async () => {
    fx.injectPriorRequestNotComplete(1, 'ZR53PUB');
    const p = provider({}, { sleep: async () => {} });
    await p.present([{ fqdn: BASE, value: V1 }], NEVER);
    const ops = fx.requests().filter((r) => r.operation !== 'ListHostedZonesByName' && r.operation !== 'GetChange').map((r) => `${r.operation}${r.errorCode ? `:${r.errorCode}` : ''}`);
    expect(ops).toEqual(['ListResourceRecordSets', 'ChangeResourceRecordSets:PriorRequestNotComplete', 'ListResourceRecordSets', 'ChangeResourceRecordSets']);
    expect(txt('ZR53PUB', BASE)).toEqual([`"${V1}"`]);
  });

  it('re-reads when a value was added between its read and its DELETE, and keeps that value', async () => {
    const real = await createSdkApi(config(), credentialPlan(config()));
    let interfered = false;
    const api: Route53Api = {
      ...real,
      async change(zoneId, changes, comment, signal) {
        if (!interfered && changes.some((c) => c.action === 'DELETE')) {
          interfered = true;
          fx.upsertRecords('ZR53PUB', [{ name: BASE, type: 'TXT', values: [V1, 'arrived-meanwhile'] }], { applyDns: false });
        }
        return real.change(zoneId, changes, comment, signal);
      },
    };
    const p = provider({}, { api, sleep: async () => {} });
    await p.present([{ fqdn: BASE, value: V1 }], NEVER);
    await p.cleanup([{ fqdn: BASE, value: V1 }], NEVER);
    expect(fx.requests({ operation: 'ChangeResourceRecordSets' }).map((r) => r.errorCode ?? 'ok')).toEqual(['ok', 'InvalidChangeBatch', 'ok']);
    expect(txt('ZR53PUB', BASE)).toEqual(['"arrived-meanwhile"']);
  });

  it('gives up on a change that stays PENDING after the change timeout', async () => {
    fx.setPendingPolls(1000);
    let t = 0;
    const p = provider({}, { changeTimeoutMs: 1000, now: () => t, sleep: async (ms) => void (t += ms) });
    const error = (await p.present([{ fqdn: BASE, value: V1 }], NEVER).catch((e: unknown) => e)) as GxitError;
    expect(error.code).toBe('DNS_PROPAGATION_TIMEOUT');
    expect(error.message).toMatch(/^Route53 change C\w+ in hosted zone ZR53PUB \(r53\.example\.org\) is still PENDING after 1 s$/);
  });
});

describe('errors', () => {
  it('names the denied action and zone, and carries a minimal IAM policy for --verbose', async () => {
    fx.deny({ action: 'route53:ChangeResourceRecordSets', zoneId: 'ZR53PUB' });
    const error = (await provider().present(ORDER, NEVER).catch((e: unknown) => e)) as GxitError;
    expect(error.code).toBe('DNS_ACCESS_DENIED');
    expect(error.message).toBe('AWS denied route53:ChangeResourceRecordSets on hosted zone ZR53PUB (r53.example.org) to arn:aws:iam::123456789012:user/test');
    expect(error.cause).toBeInstanceOf(IamPolicyHint);
    const policy = JSON.parse((error.cause as IamPolicyHint).message.replace(/^[^\n]*\n/, ''));
    expect(policy.Statement[2].Resource).toEqual(['arn:aws:route53:::hostedzone/ZR53PUB']);
  });

  it('reports a wrong secret without the secret, the session token or the canonical request', async () => {
    const p = provider({ accessKeyId: 'AKIDTEMPORARY0001', secretAccessKey: 'not-the-secret', sessionToken: 'SESSIONTOKEN/abc+def' });
    const error = (await p.present(ORDER, NEVER).catch((e: unknown) => e)) as GxitError;
    expect(error.code).toBe('DNS_CREDENTIALS');
    expect(error.message).toContain('the secret access key does not belong to the access key ID');
    const everything = JSON.stringify({ m: error.message, f: error.fix, c: (error.cause as Error).message, s: (error.cause as Error).stack });
    expect(everything).toContain('x-amz-security-token:[redacted]');
    for (const secret of ['not-the-secret', 'SESSIONTOKEN/abc+def', 'temp-secret']) expect(everything).not.toContain(secret);
  });

  it.each([
    ['an unknown access key', { accessKeyId: 'AKIDUNKNOWNKEY001' }, 'DNS_CREDENTIALS', /does not know the access key from dns\.route53\.access_key_id/],
    ['a region Route53 does not sign for', { region: 'eu-west-1' }, 'DNS_CREDENTIALS', /rejected the request signature for region eu-west-1/],
  ])('reports %s in one line', async (_, over, code, message) => {
    const error = (await provider(over).present(ORDER, NEVER).catch((e: unknown) => e)) as GxitError;
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });

  it('reports expired credentials', async () => {
    fx.expireCredentials(KEY.accessKeyId);
    const error = (await provider().present(ORDER, NEVER).catch((e: unknown) => e)) as GxitError;
    expect(error.message).toBe('the AWS credentials from dns.route53.access_key_id have expired');
  });

  it('reports an endpoint that refuses connections at once', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const error = (await provider({ endpoint: `http://127.0.0.1:${port}` }).present(ORDER, NEVER).catch((e: unknown) => e)) as GxitError;
    expect(error.code).toBe('DNS_UNREACHABLE');
    expect(error.message).toBe(`cannot reach the Route53 endpoint http://127.0.0.1:${port} for route53:ListHostedZonesByName: connection refused`);
  });
});

describe('credentials', () => {
  it('uses a named profile from the shared files', async () => {
    const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const dir = await mkdtemp(path.join(tmpdir(), 'gxit-r53-profile-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'credentials');
    await writeFile(file, `[galaxy]\naws_access_key_id = ${KEY.accessKeyId}\naws_secret_access_key = ${KEY.secretAccessKey}\n`, { mode: 0o600 });
    const saved = process.env.AWS_SHARED_CREDENTIALS_FILE;
    process.env.AWS_SHARED_CREDENTIALS_FILE = file;
    try {
      await provider({ accessKeyId: undefined, secretAccessKey: undefined, profile: 'galaxy' }).present([{ fqdn: BASE, value: V1 }], NEVER);
      expect(apiChanges()[0]?.accessKeyId).toBe(KEY.accessKeyId);
    } finally {
      if (saved === undefined) delete process.env.AWS_SHARED_CREDENTIALS_FILE;
      else process.env.AWS_SHARED_CREDENTIALS_FILE = saved;
    }
  });

  it('assumes role_arn through STS and writes with the temporary credentials', async () => {
    const seen: URLSearchParams[] = [];
    const sts = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const verdict = verifySigV4(
          { method: 'POST', rawPath: req.url ?? '/', rawQuery: '', rawHeaders: req.rawHeaders, body },
          { lookup: (k) => (k === KEY.accessKeyId ? KEY : undefined), region: 'us-east-1', service: 'sts' },
        );
        seen.push(new URLSearchParams(body.toString()));
        res.writeHead(verdict.ok ? 200 : 403, { 'content-type': 'text/xml' });
        res.end(verdict.ok
          ? `<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>AKIDTEMPORARY0001</AccessKeyId><SecretAccessKey>temp-secret</SecretAccessKey><SessionToken>SESSIONTOKEN/abc+def</SessionToken><Expiration>${new Date(Date.now() + 3600_000).toISOString()}</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>`
          : `<ErrorResponse><Error><Code>${verdict.code}</Code><Message>x</Message></Error></ErrorResponse>`);
      });
    });
    await new Promise<void>((r) => sts.listen(0, '127.0.0.1', r));
    try {
      const env = { AWS_ENDPOINT_URL_STS: `http://127.0.0.1:${(sts.address() as AddressInfo).port}` };
      await provider({ roleArn: 'arn:aws:iam::123456789012:role/gxit-cert', externalId: 'galaxy' }, { env }).present(ORDER, NEVER);
      expect(seen).toHaveLength(1);
      expect(seen[0]?.get('ExternalId')).toBe('galaxy');
      expect(apiChanges()[0]?.accessKeyId).toBe('AKIDTEMPORARY0001');
      expect(new Set(fx.requests().map((r) => r.accessKeyId))).toEqual(new Set(['AKIDTEMPORARY0001']));
    } finally {
      await new Promise<void>((r) => sts.close(() => r()));
    }
  });
});

describe('role_arn refused by STS', () => {
  it('names the role and points at its trust policy', async () => {
    const sts = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(403, { 'content-type': 'text/xml' });
        res.end('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/base is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/gxit-cert</Message></Error><RequestId>r</RequestId></ErrorResponse>');
      });
    });
    await new Promise<void>((r) => sts.listen(0, '127.0.0.1', r));
    try {
      const env = { AWS_ENDPOINT_URL_STS: `http://127.0.0.1:${(sts.address() as AddressInfo).port}` };
      const error = (await provider({ roleArn: 'arn:aws:iam::123456789012:role/gxit-cert' }, { env }).present(ORDER, NEVER).catch((e: unknown) => e)) as GxitError;
      expect(error.code).toBe('DNS_ACCESS_DENIED');
      expect(error.message).toBe('AWS denied sts:AssumeRole of arn:aws:iam::123456789012:role/gxit-cert to arn:aws:iam::123456789012:user/base');
      expect(error.cause).not.toBeInstanceOf(IamPolicyHint);
      expect(fx.requests()).toHaveLength(0);
    } finally {
      await new Promise<void>((r) => sts.close(() => r()));
    }
  });
});

describe('probe', () => {
  it('adds and removes a probe value and says where', async () => {
    const result = await provider().probe!(BASE, { signal: NEVER });
    expect(result.ok).toBe(true);
    expect(result.detail).toMatch(/^added and removed TXT "gxit-cert-probe-[0-9a-f]{16}" at _acme-challenge\.r53\.example\.org in hosted zone ZR53PUB \(r53\.example\.org\) via the Route53 endpoint/);
    expect(apiChanges().map((c) => c.changes[0]?.action)).toEqual(['UPSERT', 'DELETE']);
    expect(txt('ZR53PUB', BASE)).toEqual([]);
  });

  it('waits for INSYNC before whilePresent and removes the value also when whilePresent throws', async () => {
    const seen: string[][] = [];
    const result = await provider().probe!(BASE, {
        signal: NEVER,
      whilePresent: async (record) => {
        expect(apiChanges()[0]?.status).toBe('INSYNC');
        seen.push(txt('ZR53PUB', record.fqdn));
        throw new GxitError('DNS_PROPAGATION_TIMEOUT', 'ns2.example.org does not serve it', { fix: 'check the secondary' });
      },
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.[0]).toMatch(/^"gxit-cert-probe-/);
    expect(result).toMatchObject({ ok: false, fix: 'check the secondary' });
    expect(result.detail).toMatch(/^added and removed TXT "gxit-cert-probe-\w+" at .* but ns2\.example\.org does not serve it$/);
    expect(txt('ZR53PUB', BASE)).toEqual([]);
  });

  it('reports a denied write without leaving anything behind', async () => {
    fx.deny('route53:ChangeResourceRecordSets');
    const result = await provider().probe!(BASE, { signal: NEVER });
    expect(result.ok).toBe(false);
    expect(result.detail).toContain('AWS denied route53:ChangeResourceRecordSets');
  });
});

describe('cancellation', () => {
  /** An API that finds the zone, accepts the batch and then reports it PENDING for ever; it logs each call's signal. */
  function pendingApi(signals: AbortSignal[], change: Route53Api['change'] = async (_z, _c, _m, signal) => {
    signals.push(signal);
    return 'C1';
  }): Route53Api {
    return {
      zonesNamed: async (name, signal) => {
        signals.push(signal);
        return name === 'r53.example.org' ? [{ id: 'ZR53PUB', name, private: false }] : [];
      },
      txtSet: async (_zone, _name, signal) => {
        signals.push(signal);
        return undefined;
      },
      change,
      changeStatus: async (_id, signal) => {
        signals.push(signal);
        return 'PENDING';
      },
    };
  }

  it('stops waiting for INSYNC at once, and every call got the signal', async () => {
    const signals: AbortSignal[] = [];
    const p = createRoute53Provider(config(), { api: pendingApi(signals), pollFirstMs: 20, pollMaxMs: 50, changeTimeoutMs: 120_000 });
    const controller = new AbortController();
    const pending = p.present([{ fqdn: BASE, value: V1 }], controller.signal);
    while (!signals.some((_, i) => i >= 3)) await new Promise((resolve) => setTimeout(resolve, 5));
    const started = Date.now();
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(3000);
    // Every call got a signal that fired with the caller's.
    expect(signals.length).toBeGreaterThanOrEqual(4);
    expect(signals.every((s) => s.aborted)).toBe(true);
  });

  it('stops the throttling backoff at once instead of retrying', async () => {
    const signals: AbortSignal[] = [];
    let changes = 0;
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });
    const api = pendingApi(signals, async () => {
      changes += 1;
      throw new AwsCallError('route53:ChangeResourceRecordSets', throttled, { zoneId: 'ZR53PUB' });
    });
    // Real timers: the first backoff waits 100-200 ms, later ones up to 5 s.
    const p = createRoute53Provider(config(), { api, random: () => 1 });
    const controller = new AbortController();
    const pending = p.present([{ fqdn: BASE, value: V1 }], controller.signal);
    while (changes < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(changes).toBe(2);
  });

  it('passes the signal to the SDK: a request to an endpoint that never answers ends at once', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const silent = http.createServer(() => undefined);
    silent.on('connection', (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const cfg = config({ endpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}` });
      const api = await createSdkApi(cfg, credentialPlan(cfg));
      const controller = new AbortController();
      const pending = api.zonesNamed('r53.example.org', controller.signal);
      while (sockets.size === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      const started = Date.now();
      controller.abort();
      await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
      // The SDK's own request timeout is 20 s.
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
