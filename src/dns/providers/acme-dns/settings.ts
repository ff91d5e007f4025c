/** The validated dns.acme_dns section (made by ./descriptor.ts). The API keys stay in the credentials file. */

export interface AcmeDnsSettings {
  /** Base URL of the acme-dns API (a registration's server_url wins). */
  api: string;
  credentialsFile: string;
  /** Per HTTP request. */
  timeoutMs: number;
  /** CIDR ranges a new registration accepts updates from (acme-dns's allowfrom); absent: any. */
  allowFrom?: string[];
}
