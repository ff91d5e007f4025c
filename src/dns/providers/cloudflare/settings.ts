/** The validated dns.cloudflare section, token resolved (made by ./descriptor.ts). */

export interface CloudflareSettings {
  /** A secret: never printed. */
  apiToken: string;
  /** Where the token came from, for messages ("dns.cloudflare.api_token_file"). */
  tokenSource: string;
  zoneId?: string;
  endpoint: string;
  ttl: number;
  timeoutMs: number;
}

