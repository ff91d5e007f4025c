// STS AssumeRole for dns.route53.role_arn: the SigV4 signer against the SDK's own signer and the
// fixture's verifier, and the call against a local STS stand-in.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignatureV4 } from '@smithy/signature-v4';
import { verifySigV4, type Credential } from '../../../fixtures/route53/sigv4.mjs';
import { AwsCallError, factsOf } from '../../../src/dns/providers/route53-errors.js';
import {
  assumeRole,
  assumeRoleBody,
  assumeRoleProvider,
  parseAssumeRoleResponse,
  signedHeaders,
  stsEndpoint,
  type AwsCredentials,
} from '../../../src/dns/providers/route53-sts.js';

const BASE: Credential = { accessKeyId: 'AKIDSTSBASE000001', secretAccessKey: 'base/secret+key' };
const ROLE = { roleArn: 'arn:aws:iam::123456789012:role/gxit-cert', externalId: 'galaxy-eu' };

class NodeSha256 {
  private h;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuf(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView) {
    this.h.update(toBuf(data));
  }
  async digest() {
    return new Uint8Array(this.h.digest());
  }
  reset() {}
}
function toBuf(d: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof d === 'string') return Buffer.from(d, 'utf8');
  if (ArrayBuffer.isView(d)) return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return Buffer.from(d);
}

const credentialsXml = (c: Required<Omit<AwsCredentials, 'expiration'>> & { expiration: string }) =>
  `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/gxit-cert/s</Arn></AssumedRoleUser><Credentials><AccessKeyId>${c.accessKeyId}</AccessKeyId><SecretAccessKey>${c.secretAccessKey}</SecretAccessKey><SessionToken>${c.sessionToken}</SessionToken><Expiration>${c.expiration}</Expiration></Credentials></AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>`;

describe('SigV4 signing', () => {
  it('matches the SDK signer for a form POST with a session token', async () => {
    const now = new Date('2026-11-27T12:00:00Z');
    const url = new URL('https://sts.us-east-1.amazonaws.com/');
    const body = assumeRoleBody(ROLE, 'gxit-cert-1');
    const creds = { ...BASE, sessionToken: 'FwoG/token+=' };
    // The SDK's signer adds x-amz-content-sha256 by itself; given here, both sign the same header set.
    const headers = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', 'x-amz-content-sha256': createHash('sha256').update(body).digest('hex') };
    const ours = signedHeaders({ method: 'POST', url, headers, body }, creds, { region: 'us-east-1', service: 'sts' }, now);
    const sdk = await new SignatureV4({ credentials: creds, region: 'us-east-1', service: 'sts', sha256: NodeSha256 }).sign(
      { method: 'POST', protocol: 'https:', hostname: url.hostname, path: '/', query: {}, headers: { host: url.host, ...headers }, body },
      { signingDate: now },
    );
    expect(ours.authorization).toBe(sdk.headers.authorization);
    expect(ours.authorization).toContain('SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token,');
  });

  it('encodes the form body by RFC 3986', () => {
    expect(assumeRoleBody({ roleArn: 'arn:aws:iam::1:role/a(b)', externalId: "x y!'*" }, 's')).toBe(
      'Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fa%28b%29&RoleSessionName=s&DurationSeconds=3600&ExternalId=x%20y%21%27%2A',
    );
  });

  it('finds the STS endpoint', () => {
    expect(stsEndpoint('eu-central-1', {})).toBe('https://sts.eu-central-1.amazonaws.com');
    expect(stsEndpoint('cn-north-1', {})).toBe('https://sts.cn-north-1.amazonaws.com.cn');
    expect(stsEndpoint('us-east-1', { AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:4566' })).toBe('http://127.0.0.1:4566');
  });

  it('reads the credentials of an answer, entities decoded', () => {
    const xml = credentialsXml({ accessKeyId: 'ASIAX', secretAccessKey: 'a&amp;b', sessionToken: 'tok', expiration: '2026-11-27T13:00:00Z' });
    expect(parseAssumeRoleResponse(xml)).toEqual({ accessKeyId: 'ASIAX', secretAccessKey: 'a&b', sessionToken: 'tok', expiration: new Date('2026-11-27T13:00:00Z') });
    expect(parseAssumeRoleResponse('<ErrorResponse/>')).toBeUndefined();
  });
});

describe('AssumeRole against a local STS', () => {
  let server: http.Server;
  let endpoint: string;
  const calls: { params: URLSearchParams; verified: boolean }[] = [];
  let deny = false;
  let sessionMs = 3600_000;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const verdict = verifySigV4(
          { method: req.method ?? 'POST', rawPath: req.url ?? '/', rawQuery: '', rawHeaders: req.rawHeaders, body },
          { lookup: (k) => (k === BASE.accessKeyId ? BASE : undefined), region: 'us-east-1', service: 'sts' },
        );
        const params = new URLSearchParams(body.toString('utf8'));
        calls.push({ params, verified: verdict.ok });
        if (!verdict.ok || deny) {
          const code = verdict.ok ? 'AccessDenied' : verdict.code;
          const message = verdict.ok ? `User: arn:aws:iam::123456789012:user/base is not authorized to perform: sts:AssumeRole on resource: ${params.get('RoleArn')}` : verdict.message;
          res.writeHead(403, { 'content-type': 'text/xml' });
          res.end(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>r</RequestId></ErrorResponse>`);
          return;
        }
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end(credentialsXml({ accessKeyId: `ASIAROLE${calls.length}`, secretAccessKey: 'role-secret', sessionToken: 'role-token', expiration: new Date(Date.now() + sessionMs).toISOString() }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends a signed AssumeRole with the external id and returns the temporary credentials', async () => {
    calls.length = 0;
    const creds = await assumeRole(BASE, ROLE, { endpoint, region: 'us-east-1' });
    expect(creds).toMatchObject({ accessKeyId: 'ASIAROLE1', secretAccessKey: 'role-secret', sessionToken: 'role-token' });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.verified).toBe(true);
    expect(Object.fromEntries(calls[0]!.params)).toMatchObject({ Action: 'AssumeRole', RoleArn: ROLE.roleArn, ExternalId: 'galaxy-eu', DurationSeconds: '3600' });
  });

  it('reports a denied AssumeRole as an sts:AssumeRole failure with the AWS code', async () => {
    deny = true;
    try {
      const error = await assumeRole(BASE, ROLE, { endpoint, region: 'us-east-1' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AwsCallError);
      expect((error as AwsCallError).action).toBe('sts:AssumeRole');
      expect(factsOf(error)).toMatchObject({ code: 'AccessDenied', status: 403 });
    } finally {
      deny = false;
    }
  });

  it('reports a wrong base secret as SignatureDoesNotMatch', async () => {
    const error = await assumeRole({ ...BASE, secretAccessKey: 'wrong' }, ROLE, { endpoint, region: 'us-east-1' }).catch((e: unknown) => e);
    expect(factsOf(error)).toMatchObject({ code: 'SignatureDoesNotMatch', status: 403 });
  });

  it('shares one call between concurrent users and renews credentials about to expire', async () => {
    let baseCalls = 0;
    calls.length = 0;
    const provider = assumeRoleProvider(async () => {
      baseCalls += 1;
      return BASE;
    }, ROLE, { endpoint, region: 'us-east-1' });
    const [a, b] = await Promise.all([provider(), provider()]);
    expect(a).toBe(b);
    expect(await provider()).toBe(a);
    expect(calls).toHaveLength(1);

    // Credentials that expire within the renewal margin (5 min) are fetched again on every use.
    sessionMs = 4 * 60_000;
    try {
      const short = assumeRoleProvider(async () => BASE, ROLE, { endpoint, region: 'us-east-1' });
      const first = await short();
      expect(await short()).not.toBe(first);
      expect(calls).toHaveLength(3);
    } finally {
      sessionMs = 3600_000;
    }
    expect(baseCalls).toBe(1);
  });
});
