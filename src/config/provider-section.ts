/**
 * What the configuration pipeline knows of a DNS provider: the vocabulary of its section (`dns.<name>`),
 * nothing of its implementation. The descriptors in src/dns/providers/<name>/descriptor.ts implement
 * this; src/cli passes their list (src/dns/providers/registry.ts) into the loader, so config imports no
 * provider and a new provider needs no change here.
 *
 * The pipeline calls, for the provider named by `dns.provider` only:
 *   defaults (step 3) -> validate (step 4, problems collected, no secrets read) -> resolve (step 5).
 * Sections of other registered providers in the same file are ignored with a warning.
 */
import type { Checker, Place, SecretRef } from './combinators.js';
import type { ConfigProblemCode } from './problems.js';
import type { MapNode, ScalarValue, TreeNode } from './tree.js';

/**
 * A provider's validated settings, secrets resolved, as the Config carries them: opaque to everyone
 * but the descriptor that made them (it alone can open them again; see defineProvider).
 */
export interface ProviderSettings {
  /** The provider that made these settings. */
  readonly provider: string;
}

/** What a section's secret resolution may use. Every secret value stays out of messages. */
export interface SecretContext {
  env: NodeJS.ProcessEnv;
  /** The text of a secret file; warns when every user may read it; undefined after reporting. */
  readFile(ref: SecretRef & { kind: 'file' }): string | undefined;
  report(at: Place, code: ConfigProblemCode, message: string, fix: string): undefined;
  warn(at: Place, message: string): void;
}

/** A validated section whose secrets are still references. */
export interface SectionDraft {
  /**
   * The section's say on dns.propagation_check when the file leaves it at its default (a private
   * Route53 zone cannot be asked from outside); undefined: no say.
   */
  readonly propagationCheck?: boolean;
  /** Reads the secrets; the settings, or undefined after reporting every problem through `secrets`. */
  resolve(secrets: SecretContext): ProviderSettings | undefined;
}

/** The Galaxy role's vocabulary for this provider (usegalaxy_eu.certbot). */
export interface AnsibleAliases {
  /** The value of certbot_dns_provider that selects this provider. */
  readonly provider: string;
  /**
   * certbot_dns_credentials keys that differ from the native ones: role key -> native key, or null for
   * a key gxit-cert accepts and does not need. Keys not listed are taken as native keys.
   */
  readonly credentialKeys: Readonly<Record<string, string | null>>;
  /** Fix for a missing certbot_dns_credentials (what to write there). */
  readonly credentialsFix: string;
}

export interface ProviderSection {
  /** dns.provider value, and section key (`dns.<name>`) unless `section` says otherwise; lower case. */
  readonly name: string;
  /** The section key when it differs from the name (acme-dns: `acme_dns`, as lego and the docs write it). */
  readonly section?: string;
  /** Earlier spellings of the section key, still read (with a warning) when the section key is absent. */
  readonly deprecatedSections?: readonly string[];
  /** Every key the section accepts (unknown keys are errors with a "did you mean"). */
  readonly keys: readonly string[];
  /** Defaults in the file's vocabulary (seconds, snake_case), filled in where a key is absent or empty. */
  readonly defaults: Readonly<Record<string, ScalarValue>>;
  /** Fix for a missing section; undefined when the section may be left out (all keys optional). */
  readonly missingFix?: string;
  readonly ansible?: AnsibleAliases;
  /** Keys whose value is a secret when written inline: a world-readable file holding one is warned about. */
  readonly secretKeys?: readonly string[];
  /**
   * Validates `dns.<section key>` (defaults applied; undefined when the file has none and missingFix is
   * undefined). Reports every problem through `check`; returns a draft only when there were none.
   */
  validate(check: Checker, section: TreeNode | undefined, dns: MapNode): SectionDraft | undefined;
}

/** The key of the provider's section under dns: (`section`, else the name). */
export function sectionKey(provider: Pick<ProviderSection, 'name' | 'section'>): string {
  return provider.section ?? provider.name;
}

/** Every key the provider's section may be written under: the section key, then deprecated spellings. */
export function sectionKeys(provider: Pick<ProviderSection, 'name' | 'section' | 'deprecatedSections'>): string[] {
  return [sectionKey(provider), ...(provider.deprecatedSections ?? [])];
}
