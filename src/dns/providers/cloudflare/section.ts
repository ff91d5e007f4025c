/**
 * The dns.cloudflare section: the API token (inline, from a file or from an environment variable; a
 * secret), the zone (found by name, or zone_id), TTL, timeout and the API endpoint (for tests).
 * Without a token key the token is read from CLOUDFLARE_API_TOKEN.
 */
import { quote, reportSecondSources, secretSources, type Checker, type SecretKeys, type SecretRef } from '../../../config/combinators.js';
import { checkDuration } from '../../../config/durations.js';
import type { SecretContext } from '../../../config/provider-section.js';
import { locate, type MapNode, type TreeNode } from '../../../config/tree.js';
import { parseServiceUrl } from '../../../config/values.js';
/** The API base (dns.cloudflare.endpoint replaces it in tests). */
export const CLOUDFLARE_API = 'https://api.cloudflare.com/client/v4';
import type { CloudflareSettings } from './settings.js';

export const CLOUDFLARE_KEYS = ['api_token', 'api_token_file', 'api_token_env', 'zone_id', 'endpoint', 'ttl', 'timeout'] as const;
export const CLOUDFLARE_DEFAULTS = { ttl: 60, timeout: 30 } as const;
/** Read when the section names no token (the variable lego and the Cloudflare tools use). */
export const CLOUDFLARE_TOKEN_ENV = 'CLOUDFLARE_API_TOKEN';

export interface CloudflareDraft extends Omit<CloudflareSettings, 'apiToken' | 'tokenSource'> {
  token: SecretRef;
}

const TOKEN_FIX = `write api_token_file: with the path of a file holding the API token (or api_token_env:, or set ${CLOUDFLARE_TOKEN_ENV})`;
const TOKEN_KEYS: SecretKeys = {
  inline: 'api_token',
  file: 'api_token_file',
  env: 'api_token_env',
  inlineFix: TOKEN_FIX,
  fileFix: 'write the path of a file holding the API token',
  envFix: `write the name of an environment variable, e.g. api_token_env: ${CLOUDFLARE_TOKEN_ENV}`,
  envNameFix: `write a name of letters, digits and "_", e.g. ${CLOUDFLARE_TOKEN_ENV}`,
  checkInline: (text) => (/\s/.test(text.trim()) ? { message: 'is not an API token (it contains white space)', fix: TOKEN_FIX } : { value: text.trim() }),
};
const ENDPOINT_FIX = `write the API base URL, ${CLOUDFLARE_API} (http only for localhost/127.x)`;

export function validateCloudflare(check: Checker, node: TreeNode | undefined, dns: MapNode): CloudflareDraft | undefined {
  const map = node === undefined ? undefined : check.map(node, CLOUDFLARE_KEYS, 'write cloudflare: as a mapping with api_token_file: (or api_token:), zone_id:, ttl:');
  if (node !== undefined && map === undefined) return undefined;
  const before = check.problems.length;
  const sources: SecretRef[] = [];
  let zoneId: string | undefined;
  let endpoint = CLOUDFLARE_API;
  let ttl: number = CLOUDFLARE_DEFAULTS.ttl;
  let timeout: number = CLOUDFLARE_DEFAULTS.timeout;
  if (map !== undefined) {
    // Problems are counted at the end (check.problems), so the sources' own failure flag is not needed.
    sources.push(...secretSources(check, map, TOKEN_KEYS).sources);
    reportSecondSources(check, sources, 'the API token', TOKEN_KEYS);
    const zone = check.string(map, 'zone_id', 'write the zone ID (32 hex digits, on the zone\'s overview page in the Cloudflare dashboard)');
    if (zone !== undefined) {
      if (/^[0-9a-f]{32}$/i.test(zone.value.trim())) zoneId = zone.value.trim().toLowerCase();
      else check.report(zone.node, `${quote(zone.value)} is not a Cloudflare zone ID (32 hex digits)`, 'copy the Zone ID from the zone\'s overview page in the Cloudflare dashboard');
    }
    const endpointText = check.string(map, 'endpoint', ENDPOINT_FIX);
    if (endpointText !== undefined) {
      const parsed = parseServiceUrl(endpointText.value);
      if (parsed.ok) endpoint = parsed.value.replace(/\/+$/, '');
      else check.report(endpointText.node, `${quote(endpointText.value)} ${parsed.reason}`, ENDPOINT_FIX);
    }
    // Cloudflare: 1 means "automatic"; otherwise 60 s at least (30 s on Enterprise plans).
    const ttlValue = check.number(map, 'ttl', { min: 1, max: 86400, integer: true, what: 'seconds; 1 means automatic, otherwise 60 or more' });
    if (ttlValue !== undefined) {
      if (ttlValue.value !== 1 && ttlValue.value < 30) check.report(ttlValue.node, `${ttlValue.value} is below Cloudflare's minimum TTL`, 'write ttl: 60 (or 1 for automatic)');
      else ttl = ttlValue.value;
    }
    const timeoutValue = checkDuration(check, map, 'timeout', 'dns.cloudflare.timeout');
    if (timeoutValue !== undefined) timeout = timeoutValue.value;
  }
  if (check.problems.length > before) return undefined;
  const token = sources[0] ?? { kind: 'env', variable: CLOUDFLARE_TOKEN_ENV, implicit: true, at: check.place(locate(map ?? dns, map === undefined ? 'cloudflare' : 'api_token')) };
  return { token, ...(zoneId === undefined ? {} : { zoneId }), endpoint, ttl, timeoutMs: Math.round(timeout * 1000) };
}

export function resolveCloudflare(draft: CloudflareDraft, context: SecretContext): CloudflareSettings | undefined {
  const { token, ...rest } = draft;
  let value: string | undefined;
  let source: string;
  if (token.kind === 'inline') {
    value = token.value;
    source = token.at.path;
  } else if (token.kind === 'file') {
    value = context.readFile(token);
    source = token.at.path;
    if (value === undefined) return undefined;
  } else {
    value = context.env[token.variable];
    source = `the environment variable ${token.variable}`;
    if (value === undefined || value.trim() === '') {
      return context.report(token.at, 'SECRET_UNAVAILABLE', token.implicit ? `has no API token: none of api_token, api_token_file, api_token_env is set and ${token.variable} is not in the environment` : `names ${token.variable}, which is not set`, TOKEN_FIX);
    }
  }
  const apiToken = value.trim();
  if (apiToken === '' || /\s/.test(apiToken)) {
    return context.report(token.at, 'CONFIG_INVALID', token.kind === 'file' ? `${token.file} does not hold a single API token` : 'is not an API token', 'write the API token alone on one line');
  }
  return { ...rest, apiToken, tokenSource: source };
}
