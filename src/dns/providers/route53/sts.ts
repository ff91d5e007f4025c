/**
 * `dns.route53.role_arn`: the base credentials (static keys, profile or the SDK's default chain)
 * are exchanged for the role's temporary ones with STS AssumeRole, through the SDK's own
 * credential provider. The Route53 client caches what this returns and asks again shortly
 * before it expires. Loaded only when a role is configured.
 */
import { sdkAgents } from '../../../net/proxy.js';
import { AwsCallError } from './errors.js';

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
  /** Signing region of the STS endpoint. */
  region: string;
  /** A custom STS endpoint (tests, proxies); the SDK's regional endpoint otherwise. */
  endpoint?: string;
}

const SESSION_SECONDS = 3600;

/** AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL as for every AWS SDK; undefined means the SDK's default. */
export function stsEndpoint(env: NodeJS.ProcessEnv): string | undefined {
  const configured = env.AWS_ENDPOINT_URL_STS ?? env.AWS_ENDPOINT_URL;
  return configured === undefined || configured === '' ? undefined : configured;
}

/** A credential provider for the SDK whose failures are AwsCallErrors for `sts:AssumeRole`. */
export async function assumeRoleProvider(
  base: () => Promise<AwsCredentials>,
  role: RoleToAssume,
  options: StsOptions,
): Promise<() => Promise<AwsCredentials>> {
  const { fromTemporaryCredentials } = await import('@aws-sdk/credential-providers');
  const provider = fromTemporaryCredentials({
    masterCredentials: base,
    params: {
      RoleArn: role.roleArn,
      RoleSessionName: `gxit-cert-${Date.now()}`,
      DurationSeconds: SESSION_SECONDS,
      ...(role.externalId === undefined ? {} : { ExternalId: role.externalId }),
    },
    clientConfig: { region: options.region, maxAttempts: 2, requestHandler: sdkAgents(), ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }) },
  });
  const target = { service: `AWS STS${options.endpoint === undefined ? '' : ` at ${options.endpoint}`}` };
  return async () => {
    try {
      return await provider();
    } catch (error) {
      throw error instanceof AwsCallError ? error : new AwsCallError('sts:AssumeRole', error, target);
    }
  };
}
