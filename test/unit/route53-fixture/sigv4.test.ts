// The fixture's SigV4 verifier: AWS's published test vectors, and the SDK's own signer
// (@smithy/signature-v4, which @aws-sdk/client-route-53 uses) on awkward requests.
import http from 'node:http';
import { createHash, createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignatureV4 } from '@smithy/signature-v4';
import { GetHostedZoneCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import {
  canonicalQueryString,
  canonicalRequest,
  canonicalUri,
  computeSignature,
  verifySigV4,
  type Credential,
  type SigV4Request,
} from '../../../fixtures/route53/sigv4.mjs';
import { startRoute53Fixture, type Route53FixtureHandle } from '../../../fixtures/route53/server.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

// AWS SigV4 test suite credentials and date (get-vanilla & co.).
const SUITE: Credential = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const SUITE_DATE = '20150830T123600Z';
const SUITE_NOW = new Date('2015-08-30T12:36:00Z');

const suiteRequest = (rawPath: string, rawQuery: string, signature: string): SigV4Request => ({
  method: 'GET',
  rawPath,
  rawQuery,
  rawHeaders: [
    'Host',
    'example.amazonaws.com',
    'X-Amz-Date',
    SUITE_DATE,
    'Authorization',
    `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=${signature}`,
  ],
  body: '',
});

const verifySuite = (req: SigV4Request) =>
  verifySigV4(req, { lookup: (k) => (k === SUITE.accessKeyId ? SUITE : undefined), region: 'us-east-1', service: 'service', now: SUITE_NOW });

/** The Sha256 the SDK signer wants, on node:crypto. */
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

describe('AWS SigV4 test suite vectors', () => {
  it('get-vanilla: canonical request, its hash and the signature', () => {
    const req = suiteRequest('/', '', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
    const canonical = canonicalRequest(req, ['host', 'x-amz-date']);
    expect(canonical).toBe(
      'GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(createHash('sha256').update(canonical).digest('hex')).toBe('bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63');
    expect(computeSignature({ secretAccessKey: SUITE.secretAccessKey, amzDate: SUITE_DATE, region: 'us-east-1', service: 'service', canonical })).toBe(
      '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    );
    expect(verifySuite(req)).toEqual({ ok: true, credential: SUITE });
  });

  it('get-vanilla-query-order-key-case: query sorted before signing', () => {
    expect(canonicalQueryString('Param2=value2&Param1=value1')).toBe('Param1=value1&Param2=value2');
    expect(verifySuite(suiteRequest('/', 'Param2=value2&Param1=value1', 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500')).ok).toBe(true);
  });

  it('a tampered signature, a stale date and a wrong service are refused', () => {
    const bad = verifySuite(suiteRequest('/', '', '0'.repeat(64)));
    expect(bad).toMatchObject({ ok: false, status: 403, code: 'SignatureDoesNotMatch' });
    const stale = verifySigV4(suiteRequest('/', '', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'), {
      lookup: () => SUITE,
      region: 'us-east-1',
      service: 'service',
      now: new Date('2015-08-30T13:00:00Z'),
    });
    expect(stale).toMatchObject({ ok: false, status: 400, code: 'RequestExpired' });
    const wrongService = verifySigV4(suiteRequest('/', '', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'), {
      lookup: () => SUITE,
      region: 'us-east-1',
      service: 'route53',
      now: SUITE_NOW,
    });
    expect(wrongService).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch', message: "Credential should be scoped to correct service: 'route53'. " });
  });

  it('canonical URI: dot segments removed, path double-encoded', () => {
    expect(canonicalUri('/a/./b/../c//d/')).toBe('/a/c/d/');
    expect(canonicalUri('/2013-04-01/hostedzone/Z%20a%2Bb')).toBe('/2013-04-01/hostedzone/Z%2520a%252Bb');
    expect(canonicalUri('')).toBe('/');
  });
});

describe('cross-check with the SDK signer', () => {
  const cred = { accessKeyId: 'AKIDCROSSCHECK01', secretAccessKey: 'cross/check+secret=' };
  let server: http.Server;
  let port = 0;
  let last: { result: ReturnType<typeof verifySigV4> } | undefined;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        const url = req.url ?? '/';
        const qi = url.indexOf('?');
        last = {
          result: verifySigV4(
            {
              method: req.method ?? 'GET',
              rawPath: qi < 0 ? url : url.slice(0, qi),
              rawQuery: qi < 0 ? '' : url.slice(qi + 1),
              rawHeaders: req.rawHeaders,
              body: Buffer.concat(chunks),
            },
            { lookup: (k) => (k === cred.accessKeyId ? cred : undefined), region: 'us-east-1', service: 'route53' },
          ),
        };
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  /** Sign with the SDK's SignatureV4 and send exactly what was signed. */
  async function signAndSend(req: { method: string; path: string; query?: Record<string, string | string[]>; headers?: Record<string, string>; body?: string }) {
    const signer = new SignatureV4({ credentials: cred, region: 'us-east-1', service: 'route53', sha256: NodeSha256, uriEscapePath: true });
    const signed = await signer.sign({
      method: req.method,
      protocol: 'http:',
      hostname: '127.0.0.1',
      port,
      path: req.path,
      query: req.query ?? {},
      headers: { host: `127.0.0.1:${port}`, ...(req.headers ?? {}) },
      body: req.body,
    });
    // Serialize the query the way the SDK's node http handler does.
    const qs = Object.entries(signed.query ?? {})
      .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${encodeRfc3986(k)}=${encodeRfc3986(String(x))}`))
      .join('&');
    await new Promise<void>((resolve, reject) => {
      const r = http.request(
        { host: '127.0.0.1', port, method: req.method, path: qs ? `${req.path}?${qs}` : req.path, headers: signed.headers },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      r.on('error', reject);
      r.end(req.body);
    });
    return last!.result;
  }
  const encodeRfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

  it('repeated, empty and reserved-character query parameters', async () => {
    const r = await signAndSend({
      method: 'GET',
      path: '/2013-04-01/hostedzone/Z1/rrset',
      query: { name: '*.ex ample.test.', type: 'TXT', empty: '', multi: ['b', 'a', 'a~*'], 'we ird+key': "v!'()*" },
    });
    expect(r).toMatchObject({ ok: true });
  });

  it('percent-encoded path segments and a POST body with non-ASCII text', async () => {
    const r = await signAndSend({
      method: 'POST',
      path: '/2013-04-01/hostedzone/Z%20a%2Bb%C3%A9/rrset/',
      headers: { 'content-type': 'application/xml', 'x-custom': '  several   spaces  here ' },
      body: '<?xml version="1.0"?><x>é &amp; "q"</x>',
    });
    expect(r).toMatchObject({ ok: true });
  });

  it('session tokens are signed too', async () => {
    const signer = new SignatureV4({ credentials: { ...cred, sessionToken: 'tok/en+=' }, region: 'us-east-1', service: 'route53', sha256: NodeSha256 });
    const signed = await signer.sign({ method: 'GET', protocol: 'http:', hostname: 'h', path: '/', query: {}, headers: { host: 'h' } });
    const rawHeaders = Object.entries(signed.headers).flat();
    const res = verifySigV4(
      { method: 'GET', rawPath: '/', rawQuery: '', rawHeaders, body: '' },
      { lookup: () => ({ ...cred, sessionToken: 'tok/en+=' }), region: 'us-east-1', service: 'route53' },
    );
    expect(res.ok).toBe(true);
    expect(signed.headers.authorization).toContain('x-amz-security-token');
  });
});

describe('the real Route53Client against the fixture with awkward input', () => {
  let fx: Route53FixtureHandle;
  let client: Route53Client;
  beforeAll(async () => {
    fx = await startRoute53Fixture({ zones: [{ name: 'odd.test', id: 'ZODD0000000000001' }] });
    client = new Route53Client({ endpoint: fx.url, region: 'us-east-1', credentials: fx.credentials[0]! });
  });
  afterAll(async () => {
    client?.destroy();
    await fx?.stop();
  });

  it('odd zone ids reach the operation (NoSuchHostedZone), not a signature error', async () => {
    for (const id of ['Z a+b', 'Zé/x', "Z!'()*~"]) {
      await expect(client.send(new GetHostedZoneCommand({ Id: id }))).rejects.toMatchObject({ name: 'NoSuchHostedZone' });
    }
    expect(fx.requests().map((e) => e.errorCode)).toEqual(['NoSuchHostedZone', 'NoSuchHostedZone', 'NoSuchHostedZone']);
    expect(fx.requests()[1]!.zoneId).toBe('Zé/x');
  });

  it('odd record names in the query are signed and decoded correctly', async () => {
    const out = await client.send(
      new ListResourceRecordSetsCommand({ HostedZoneId: 'ZODD0000000000001', StartRecordName: 'a b+c*"\\.odd.test', StartRecordType: 'TXT' }),
    );
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(fx.requests({ operation: 'ListResourceRecordSets' })[0]!.query).toEqual({ name: 'a b+c*"\\.odd.test', type: 'TXT' });
  });
});
