/**
 * The dns.route53 section: validation (with the config combinators) and the secret access key
 * (inline or from a file). Every key is optional: without credentials the SDK's default chain is used.
 */
import { MAX_TTL, quote, type Checker, type SecretRef } from '../../../config/combinators.js';
import type { SecretContext } from '../../../config/provider-section.js';
import { get, locate, type TreeNode } from '../../../config/tree.js';
import { parseServiceUrl } from '../../../config/values.js';
import type { Route53Config } from './settings.js';

export const ROUTE53_KEYS = [
  'region',
  'profile',
  'access_key_id',
  'secret_access_key',
  'secret_access_key_file',
  'session_token',
  'role_arn',
  'external_id',
  'hosted_zone_id',
  'private_zone',
  'endpoint',
  'ttl',
] as const;

export const ROUTE53_DEFAULTS = {
  private_zone: false,
  ttl: 60,
} as const;

export interface Route53Draft extends Omit<Route53Config, 'secretAccessKey'> {
  secretAccessKey?: SecretRef;
}

export function defaultRoute53(): Route53Draft {
  return { privateZone: ROUTE53_DEFAULTS.private_zone, ttl: ROUTE53_DEFAULTS.ttl };
}

export function validateRoute53(check: Checker, node: TreeNode): Route53Draft | undefined {
  const map = check.map(node, ROUTE53_KEYS, 'write route53: as a mapping (region:, profile:, hosted_zone_id:, ...)');
  if (map === undefined) return undefined;
  const before = check.problems.length;

  const text = (key: string, fix: string, pattern?: RegExp, what?: string, secret = false): string | undefined => {
    const found = check.string(map, key, fix, secret);
    if (found === undefined) return undefined;
    const value = found.value.trim();
    if (pattern !== undefined && !pattern.test(value)) {
      return check.report(found.node, secret ? `is not ${what}` : `${quote(value)} is not ${what}`, fix);
    }
    return value;
  };

  const region = text('region', 'write an AWS region such as us-east-1', /^[a-z]{2}(-[a-z]+)+-\d+$/, 'an AWS region');
  const profile = text('profile', 'write the name of a profile in ~/.aws/config');
  const accessKeyId = text('access_key_id', 'write the access key ID (AKIA...)', /^[A-Z0-9]{16,128}$/, 'an AWS access key ID', true);
  const sessionToken = text('session_token', 'write the session token, or remove it', /^\S+$/, 'a session token', true);
  const roleArn = text('role_arn', 'write a role ARN such as arn:aws:iam::123456789012:role/gxit-cert', /^arn:aws[a-z-]*:iam::\d{12}:role\/\S+$/, 'an IAM role ARN');
  const externalId = text('external_id', 'write the external ID required by the role');
  const zoneId = text('hosted_zone_id', 'write the hosted zone ID, e.g. Z0123456789ABCDEFGHIJ', /^(\/hostedzone\/)?[A-Z0-9]+$/, 'a hosted zone ID');
  const privateZone = check.bool(map, 'private_zone');
  const ttl = check.number(map, 'ttl', { min: 0, max: MAX_TTL, integer: true, what: 'seconds' });

  let endpoint: string | undefined;
  const endpointText = check.string(map, 'endpoint', 'write an https:// URL (http only for localhost/127.x)');
  if (endpointText !== undefined) {
    const parsed = parseServiceUrl(endpointText.value);
    if (parsed.ok) endpoint = parsed.value;
    else check.report(endpointText.node, `${quote(endpointText.value)} ${parsed.reason}`, 'write an https:// URL (http only for localhost/127.x)');
  }

  let secretAccessKey: SecretRef | undefined;
  const secretFix = 'write the secret access key, or better secret_access_key_file: with the path of a file holding it';
  const inline = text('secret_access_key', secretFix, /^\S+$/, 'a secret access key (it contains white space)', true);
  const file = check.path(map, 'secret_access_key_file', 'write the path of a file holding the secret access key');
  if (inline !== undefined && file !== undefined) {
    check.report(locate(map, 'secret_access_key_file'), 'is a second source for the secret access key (also secret_access_key)', 'keep only one of secret_access_key and secret_access_key_file');
  } else if (inline !== undefined) {
    secretAccessKey = { kind: 'inline', value: inline, at: check.place(locate(map, 'secret_access_key')) };
  } else if (file !== undefined) {
    secretAccessKey = { kind: 'file', file, at: check.place(locate(map, 'secret_access_key_file')) };
  }

  const hasSecret = get(map, 'secret_access_key') !== undefined || get(map, 'secret_access_key_file') !== undefined;
  if (get(map, 'access_key_id') !== undefined && !hasSecret) {
    check.report(locate(map, 'access_key_id'), 'needs a secret access key', 'add secret_access_key_file: (or secret_access_key:)');
  }
  if (hasSecret && get(map, 'access_key_id') === undefined) {
    check.report(locate(map, get(map, 'secret_access_key') !== undefined ? 'secret_access_key' : 'secret_access_key_file'), 'needs an access key ID', 'add access_key_id:');
  }
  if (get(map, 'session_token') !== undefined && get(map, 'access_key_id') === undefined) {
    check.report(locate(map, 'session_token'), 'is only used with access_key_id and a secret access key', 'add access_key_id: and secret_access_key_file:, or remove session_token');
  }
  if (get(map, 'profile') !== undefined && get(map, 'access_key_id') !== undefined) {
    check.report(locate(map, 'profile'), 'and access_key_id both choose credentials', 'keep either profile: or access_key_id: with its secret');
  }
  if (get(map, 'external_id') !== undefined && get(map, 'role_arn') === undefined) {
    check.report(locate(map, 'external_id'), 'is only used when assuming a role', 'add role_arn:, or remove external_id');
  }

  if (check.problems.length > before || privateZone === undefined || ttl === undefined) return undefined;
  return {
    ...(region === undefined ? {} : { region }),
    ...(profile === undefined ? {} : { profile }),
    ...(accessKeyId === undefined ? {} : { accessKeyId }),
    ...(secretAccessKey === undefined ? {} : { secretAccessKey }),
    ...(sessionToken === undefined ? {} : { sessionToken }),
    ...(roleArn === undefined ? {} : { roleArn }),
    ...(externalId === undefined ? {} : { externalId }),
    ...(zoneId === undefined ? {} : { hostedZoneId: zoneId.replace(/^\/hostedzone\//, '') }),
    privateZone,
    ...(endpoint === undefined ? {} : { endpoint }),
    ttl: ttl.value,
  };
}

export function resolveRoute53(draft: Route53Draft, context: SecretContext): Route53Config | undefined {
  const { secretAccessKey, ...rest } = draft;
  if (secretAccessKey === undefined) return rest;
  let value: string | undefined;
  if (secretAccessKey.kind === 'inline') value = secretAccessKey.value;
  else if (secretAccessKey.kind === 'file') value = context.readFile(secretAccessKey);
  else value = context.env[secretAccessKey.variable];
  if (value === undefined) return undefined;
  const key = value.trim();
  if (key === '' || /\s/.test(key)) {
    return context.report(secretAccessKey.at, 'CONFIG_INVALID', secretAccessKey.kind === 'file' ? `${secretAccessKey.file} does not hold a single secret access key` : 'is not a secret access key', 'write the secret access key alone on one line');
  }
  return { ...rest, secretAccessKey: key };
}
