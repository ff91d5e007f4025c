/**
 * Which AWS credentials the Route53 client uses, decided from the configuration alone:
 * static keys from the file, a named profile, or the SDK's default chain (environment variables,
 * ~/.aws/credentials and ~/.aws/config, SSO, web identity, ECS/EC2 instance roles), optionally
 * exchanged for a role's temporary credentials (STS AssumeRole).
 */
import type { Route53Config } from './settings.js';

export type CredentialSource =
  | { kind: 'static'; accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  | { kind: 'profile'; profile: string }
  | { kind: 'chain' };

export interface CredentialPlan {
  source: CredentialSource;
  role?: { roleArn: string; externalId?: string };
  /** For messages: where the credentials come from. Never contains a secret. */
  description: string;
  /** Values that must never appear in output (redacted from causes shown by --verbose). */
  secrets: string[];
}

export function credentialPlan(cfg: Route53Config): CredentialPlan {
  let source: CredentialSource;
  let description: string;
  if (cfg.accessKeyId !== undefined && cfg.secretAccessKey !== undefined) {
    source = {
      kind: 'static',
      accessKeyId: cfg.accessKeyId,
      secretAccessKey: cfg.secretAccessKey,
      ...(cfg.sessionToken === undefined ? {} : { sessionToken: cfg.sessionToken }),
    };
    description = 'dns.route53.access_key_id';
  } else if (cfg.profile !== undefined) {
    source = { kind: 'profile', profile: cfg.profile };
    description = `profile ${cfg.profile}`;
  } else {
    source = { kind: 'chain' };
    description = 'the default AWS credential chain (environment, ~/.aws, instance role)';
  }
  const secrets = [cfg.secretAccessKey, cfg.sessionToken].filter((s): s is string => s !== undefined && s !== '');
  if (cfg.roleArn === undefined) return { source, description, secrets };
  return {
    source,
    role: { roleArn: cfg.roleArn, ...(cfg.externalId === undefined ? {} : { externalId: cfg.externalId }) },
    description: `role ${cfg.roleArn} (assumed with ${description})`,
    secrets,
  };
}
