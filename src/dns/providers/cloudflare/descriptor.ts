/**
 * cloudflare: TXT records through the Cloudflare API v4 with an API token, over plain fetch (loaded
 * only in load(); no client package).
 */
import { defineProvider } from '../descriptor.js';
import type { CloudflareSettings } from './settings.js';
import { CLOUDFLARE_DEFAULTS, CLOUDFLARE_KEYS, resolveCloudflare, validateCloudflare, type CloudflareDraft } from './section.js';

export const cloudflare = defineProvider<CloudflareDraft, CloudflareSettings>({
  name: 'cloudflare',
  summary: 'Cloudflare DNS through its API v4 with an API token (zone found by name, or zone_id)',
  keys: CLOUDFLARE_KEYS,
  secretKeys: ['api_token'],
  defaults: CLOUDFLARE_DEFAULTS,
  missingFix: 'add a cloudflare: section with api_token_file: (a file holding the API token), or cloudflare: {} to read the token from CLOUDFLARE_API_TOKEN',
  ansible: {
    provider: 'cloudflare',
    credentialKeys: {},
    credentialsFix: 'add certbot_dns_credentials: with api_token: (a Cloudflare API token with Zone:Read and DNS:Edit)',
  },
  validate: validateCloudflare,
  resolve: resolveCloudflare,
  async load(settings) {
    const { createCloudflareProvider } = await import('./provider.js');
    return createCloudflareProvider(settings);
  },
});
