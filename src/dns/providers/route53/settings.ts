/** The validated dns.route53 section (made by ./descriptor.ts). */
export interface Route53Config {
  region?: string;
  profile?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  roleArn?: string;
  externalId?: string;
  hostedZoneId?: string;
  privateZone: boolean;
  endpoint?: string;
  ttl: number;
}
