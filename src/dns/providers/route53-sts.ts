/**
 * STS AssumeRole (Query API 2011-06-15) for `dns.route53.role_arn`, signed with SigV4.
 *
 * The installed SDK set has no STS client of its own for us (only an internal copy inside the
 * credential providers, reachable through profiles): this small client keeps role_arn working
 * without another dependency. The base credentials come from the SDK (static keys, profile or the
 * default chain); the role's temporary credentials are cached until shortly before they expire.
 */
import { createHash, createHmac } from 'node:crypto';
import { AwsCallError } from './route53-errors.js';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

export interface RoleToAssume {
  roleArn: string;
  externalId?: string;
}

export interface StsOptions {
  endpoint: string;
  /** Signing region of the STS endpoint. */
  region: string;
  fetch?: typeof fetch;
  now?: () => Date;
  timeoutMs?: number;
}

/** Temporary credentials are renewed this long before they expire. */
const REFRESH_MARGIN_MS = 5 * 60_000;
const SESSION_SECONDS = 3600;

/** AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL as for every AWS SDK, otherwise the regional endpoint. */
export function stsEndpoint(region: string, env: NodeJS.ProcessEnv): string {
  const configured = env.AWS_ENDPOINT_URL_STS ?? env.AWS_ENDPOINT_URL;
  if (configured !== undefined && configured !== '') return configured;
  return `https://sts.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`;
}

const sha256 = (data: string): string => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 encoding as SigV4 requires (encodeURIComponent leaves !'()* alone). */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `20261127T195001Z` and `20261127`. */
function amzDates(now: Date): { amzDate: string; day: string } {
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  return { amzDate, day: amzDate.slice(0, 8) };
}

/**
 * Headers for a SigV4-signed request (AWS4-HMAC-SHA256, header signing, empty query string):
 * `host`, `x-amz-date`, the given headers, `x-amz-security-token` for temporary credentials, and
 * `authorization`.
 */
export function signedHeaders(
  request: { method: string; url: URL; headers: Readonly<Record<string, string>>; body: string },
  credentials: AwsCredentials,
  scope: { region: string; service: string },
  now: Date,
): Record<string, string> {
  const { amzDate, day } = amzDates(now);
  const headers: Record<string, string> = { host: request.url.host, 'x-amz-date': amzDate };
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
  if (credentials.sessionToken !== undefined) headers['x-amz-security-token'] = credentials.sessionToken;
  const names = Object.keys(headers).sort();
  const canonicalHeaders = names.map((n) => `${n}:${(headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const signed = names.join(';');
  const path = request.url.pathname.split('/').map((segment) => uriEncode(decodeURIComponent(segment))).join('/') || '/';
  const canonicalRequest = [request.method, path, '', canonicalHeaders, signed, sha256(request.body)].join('\n');
  const credentialScope = `${day}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, credentialScope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), scope.region), scope.service), 'aws4_request');
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  return {
    ...headers,
    authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${credentialScope}, SignedHeaders=${signed}, Signature=${signature}`,
  };
}

/** The form body of an AssumeRole request. */
export function assumeRoleBody(role: RoleToAssume, sessionName: string, seconds = SESSION_SECONDS): string {
  const params: [string, string][] = [
    ['Action', 'AssumeRole'],
    ['Version', '2011-06-15'],
    ['RoleArn', role.roleArn],
    ['RoleSessionName', sessionName],
    ['DurationSeconds', String(seconds)],
    ...(role.externalId === undefined ? [] : [['ExternalId', role.externalId] as [string, string]]),
  ];
  return params.map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join('&');
}

function xmlText(xml: string, tag: string): string | undefined {
  const match = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  if (!match) return undefined;
  return (match[1] ?? '').replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, entity: string) => {
    if (entity === 'lt') return '<';
    if (entity === 'gt') return '>';
    if (entity === 'amp') return '&';
    if (entity === 'quot') return '"';
    if (entity === 'apos') return "'";
    return String.fromCodePoint(entity.startsWith('#x') ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10));
  });
}

/** An STS error answer, shaped like an SDK service error (name = code, $metadata.httpStatusCode). */
export function stsServiceError(status: number, xml: string): Error {
  const error = new Error(xmlText(xml, 'Message') ?? `HTTP ${status}`);
  error.name = xmlText(xml, 'Code') ?? `Http${status}`;
  return Object.assign(error, { $metadata: { httpStatusCode: status } });
}

/** The credentials of an AssumeRole answer, or undefined when it holds none. */
export function parseAssumeRoleResponse(xml: string): AwsCredentials | undefined {
  const accessKeyId = xmlText(xml, 'AccessKeyId');
  const secretAccessKey = xmlText(xml, 'SecretAccessKey');
  const sessionToken = xmlText(xml, 'SessionToken');
  const expiration = xmlText(xml, 'Expiration');
  if (!accessKeyId || !secretAccessKey || !sessionToken) return undefined;
  const expires = expiration === undefined ? undefined : new Date(expiration);
  return { accessKeyId, secretAccessKey, sessionToken, ...(expires && !Number.isNaN(expires.getTime()) ? { expiration: expires } : {}) };
}

/** Calls AssumeRole once. Failures are AwsCallErrors for `sts:AssumeRole`. */
export async function assumeRole(base: AwsCredentials, role: RoleToAssume, options: StsOptions): Promise<AwsCredentials> {
  const now = options.now ?? (() => new Date());
  const doFetch = options.fetch ?? fetch;
  const url = new URL(options.endpoint);
  if (url.pathname === '') url.pathname = '/';
  const body = assumeRoleBody(role, `gxit-cert-${now().getTime()}`);
  const headers = signedHeaders(
    { method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body },
    base,
    { region: options.region, service: 'sts' },
    now(),
  );
  const target = { service: `AWS STS at ${url.origin}` };
  let status: number;
  let text: string;
  try {
    const { host: _host, ...sendHeaders } = headers;
    const response = await doFetch(url, { method: 'POST', headers: sendHeaders, body, signal: AbortSignal.timeout(options.timeoutMs ?? 20_000) });
    status = response.status;
    text = await response.text();
  } catch (error) {
    throw new AwsCallError('sts:AssumeRole', error, target);
  }
  if (status !== 200) throw new AwsCallError('sts:AssumeRole', stsServiceError(status, text), target);
  const credentials = parseAssumeRoleResponse(text);
  if (credentials === undefined) throw new AwsCallError('sts:AssumeRole', new Error('the AssumeRole answer holds no credentials'), target);
  return credentials;
}

/**
 * A credential provider for the SDK: the role's credentials, obtained with the base credentials and
 * kept until REFRESH_MARGIN_MS before they expire. Concurrent callers share one AssumeRole call.
 */
export function assumeRoleProvider(
  base: () => Promise<AwsCredentials>,
  role: RoleToAssume,
  options: StsOptions,
): () => Promise<AwsCredentials> {
  const now = options.now ?? (() => new Date());
  let held: AwsCredentials | undefined;
  let pending: Promise<AwsCredentials> | undefined;
  const fresh = (c: AwsCredentials): boolean => c.expiration === undefined || c.expiration.getTime() - REFRESH_MARGIN_MS > now().getTime();
  return () => {
    if (held !== undefined && fresh(held)) return Promise.resolve(held);
    pending ??= base()
      .then((credentials) => assumeRole(credentials, role, options))
      .then((credentials) => (held = credentials))
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}
