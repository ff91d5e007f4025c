// STS AssumeRole for dns.route53.role_arn through the SDK's credential provider, against a local
// STS stand-in that verifies the SigV4 signature with the fixture's verifier.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySigV4, type Credential } from '../../../../../fixtures/route53/sigv4.mjs';
import { AwsCallError, factsOf } from '../../../../../src/dns/providers/route53/errors.js';
import { assumeRoleProvider, stsEndpoint, type AwsCredentials } from '../../../../../src/dns/providers/route53/sts.js';

const BASE: Credential = { accessKeyId: 'AKIDSTSBASE000001', secretAccessKey: 'base/secret+key' };
const ROLE = { roleArn: 'arn:aws:iam::123456789012:role/gxit-cert', externalId: 'galaxy-eu' };

const credentialsXml = (c: Required<Omit<AwsCredentials, 'expiration'>> & { expiration: string }) =>
  `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/gxit-cert/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser><Credentials><AccessKeyId>${c.accessKeyId}</AccessKeyId><SecretAccessKey>${c.secretAccessKey}</SecretAccessKey><SessionToken>${c.sessionToken}</SessionToken><Expiration>${c.expiration}</Expiration></Credentials></AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>`;

describe('stsEndpoint', () => {
  it('takes AWS_ENDPOINT_URL_STS, then AWS_ENDPOINT_URL, else leaves it to the SDK', () => {
    expect(stsEndpoint({ AWS_ENDPOINT_URL_STS: 'http://sts.local', AWS_ENDPOINT_URL: 'http://all.local' })).toBe('http://sts.local');
    expect(stsEndpoint({ AWS_ENDPOINT_URL: 'http://all.local' })).toBe('http://all.local');
    expect(stsEndpoint({})).toBeUndefined();
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
    const creds = await (await assumeRoleProvider(async () => BASE, ROLE, { endpoint, region: 'us-east-1' }))();
    expect(creds).toMatchObject({ accessKeyId: 'ASIAROLE1', secretAccessKey: 'role-secret', sessionToken: 'role-token' });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.verified).toBe(true);
    expect(Object.fromEntries(calls[0]!.params)).toMatchObject({ Action: 'AssumeRole', RoleArn: ROLE.roleArn, ExternalId: 'galaxy-eu', DurationSeconds: '3600' });
  });

  it('reports a denied AssumeRole as an sts:AssumeRole failure with the AWS code', async () => {
    deny = true;
    try {
      const error = await (await assumeRoleProvider(async () => BASE, ROLE, { endpoint, region: 'us-east-1' }))().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AwsCallError);
      expect((error as AwsCallError).action).toBe('sts:AssumeRole');
      expect(factsOf(error)).toMatchObject({ code: 'AccessDenied', status: 403 });
    } finally {
      deny = false;
    }
  });

  it('reports a wrong base secret as SignatureDoesNotMatch', async () => {
    const error = await (await assumeRoleProvider(async () => ({ ...BASE, secretAccessKey: 'wrong' }), ROLE, { endpoint, region: 'us-east-1' }))().catch((e: unknown) => e);
    expect(factsOf(error)).toMatchObject({ code: 'SignatureDoesNotMatch', status: 403 });
  });
});
