/**
 * The provider descriptor: one per folder src/dns/providers/<name>/ (descriptor.ts), listed in
 * ./registry.ts. It is everything the rest of gxit-cert knows of a provider:
 *
 * - its configuration section (keys, defaults, validation with config/combinators, secret resolution,
 *   Ansible aliases), read by the config pipeline through config/provider-section.ts;
 * - its one-line summary, shown by --help, check-dns and the README's provider table;
 * - optional extra check-dns checks (rfc2136: a query signed with the TSIG key);
 * - `load`, which imports the implementation lazily (the AWS SDK costs ~100 ms) and builds the provider.
 *
 * Obligations of a descriptor:
 * - `name` is unique in the registry and equals the DnsProvider's name; the section key (`section`, else
 *   `name`) and its deprecated spellings are unique too;
 * - every key in `keys` is either in `defaults` or optional (validate copes with its absence), and every
 *   key in `defaults` is in `keys`;
 * - validate reads the section only through the Checker (problems with line, path and fix; secrets
 *   never quoted) and reads no file and no environment: that is resolve's job;
 * - `load` imports the implementation with a dynamic import() inside the function, never at the top of
 *   descriptor.ts (descriptors are imported by every command, implementations only by those that write);
 * - `checks` only reads (phase 1 of check-dns); the write probe is DnsProvider.probe.
 */
import type { Checker } from '../../config/combinators.js';
import type { ProviderSection, ProviderSettings, SecretContext, SectionDraft } from '../../config/provider-section.js';
import type { MapNode, TreeNode } from '../../config/tree.js';
import type { DnsCommon, ServerAddress } from '../../config/types.js';
import { sectionKey } from '../../config/provider-section.js';
import { GxitError } from '../../errors.js';
import type { DnsProvider } from '../provider.js';
import type { ExchangeFn } from '../transport.js';

/** One line of check-dns output produced by a provider's own check. */
export interface ProviderCheckResult {
  /** The check's name in the output (rfc2136: 'tsig'); printed in the provider checks' place. */
  check: string;
  status: 'ok' | 'warn' | 'fail';
  /** What the line is about (a key at a server, an API endpoint). */
  subject: string;
  /** What was found, in one sentence. */
  message: string;
  /** For warn and fail: what to do, in one sentence. */
  fix?: string;
  details?: string[];
}

/** What a provider's extra checks get from check-dns. */
export interface ProviderCheckInput {
  /** Where the TXT records will be written (challenge names after CNAMEs), distinct, sorted. */
  targets: string[];
  /** Raw DNS exchange (faked in tests). */
  exchange: ExchangeFn;
  /** Milliseconds since the epoch. */
  now: () => number;
  signal: AbortSignal;
  /** dns.resolvers, when set: how a provider looks up the host names of its servers, as it does when it writes. */
  resolvers?: ServerAddress[];
}

/**
 * A provider as its folder writes it: typed by its draft D and its settings S. The section's facts
 * (name, section, deprecatedSections, keys, defaults, missingFix, ansible, secretKeys) are
 * ProviderSection's.
 */
export interface ProviderSpec<D, S> extends Omit<ProviderSection, 'validate'> {
  /** One line: what the provider writes to, for --help, check-dns and the README table. */
  readonly summary: string;
  validate(check: Checker, section: TreeNode | undefined, dns: MapNode): D | undefined;
  /** See SectionDraft.propagationCheck. */
  propagationCheck?(draft: D): boolean | undefined;
  resolve(draft: D, secrets: SecretContext): S | undefined;
  /** Imports the implementation (dynamic import) and builds the provider for one run. */
  load(settings: S, dns: DnsCommon): Promise<DnsProvider>;
  /** Extra read-only checks for check-dns; a failing one skips the write probe. */
  checks?(settings: S, input: ProviderCheckInput): Promise<ProviderCheckResult[]>;
}

/** A registered provider, its types closed over: what the registry lists and everyone else uses. */
export interface ProviderDescriptor extends ProviderSection {
  readonly summary: string;
  /** Throws CONFIG_INVALID when the settings were made by another descriptor. */
  load(settings: ProviderSettings, dns: DnsCommon): Promise<DnsProvider>;
  checks?(settings: ProviderSettings, input: ProviderCheckInput): Promise<ProviderCheckResult[]>;
}

/** A descriptor together with the typed door to its own settings (for its tests and its folder). */
export interface DefinedProvider<S> extends ProviderDescriptor {
  /** Wraps already valid settings (tests, and resolve) into the Config's opaque form. */
  seal(settings: S): ProviderSettings;
  /** The typed settings again; undefined when another descriptor made them. */
  open(settings: ProviderSettings): S | undefined;
}

/**
 * Turns a folder's typed spec into a registry entry. The typed settings are kept in a WeakMap keyed by
 * the opaque object the Config carries, so they leave and re-enter the descriptor without a cast.
 */
export function defineProvider<D, S>(spec: ProviderSpec<D, S>): DefinedProvider<S> {
  const sealed = new WeakMap<ProviderSettings, S>();
  const seal = (settings: S): ProviderSettings => {
    const token: ProviderSettings = Object.freeze({ provider: spec.name });
    sealed.set(token, settings);
    return token;
  };
  const open = (settings: ProviderSettings): S | undefined => sealed.get(settings);
  const key = sectionKey(spec);
  const opened = (settings: ProviderSettings): S => {
    const typed = open(settings);
    if (typed === undefined) {
      throw new GxitError('CONFIG_INVALID', `dns.${key}: the settings were made for provider ${settings.provider}`, {
        subject: `dns.${key}`,
        fix: `set dns.provider: ${settings.provider}, or configure a dns.${key} section`,
      });
    }
    return typed;
  };
  const checks = spec.checks;
  return {
    name: spec.name,
    summary: spec.summary,
    keys: spec.keys,
    defaults: spec.defaults,
    ...(spec.section === undefined ? {} : { section: spec.section }),
    ...(spec.deprecatedSections === undefined ? {} : { deprecatedSections: spec.deprecatedSections }),
    ...(spec.missingFix === undefined ? {} : { missingFix: spec.missingFix }),
    ...(spec.ansible === undefined ? {} : { ansible: spec.ansible }),
    ...(spec.secretKeys === undefined ? {} : { secretKeys: spec.secretKeys }),
    validate(check, section, dns): SectionDraft | undefined {
      const draft = spec.validate(check, section, dns);
      if (draft === undefined) return undefined;
      const propagationCheck = spec.propagationCheck?.(draft);
      return {
        ...(propagationCheck === undefined ? {} : { propagationCheck }),
        resolve(secrets) {
          const settings = spec.resolve(draft, secrets);
          return settings === undefined ? undefined : seal(settings);
        },
      };
    },
    load: (settings, dns) => spec.load(opened(settings), dns),
    ...(checks === undefined ? {} : { checks: (settings: ProviderSettings, input: ProviderCheckInput) => checks(opened(settings), input) }),
    seal,
    open,
  };
}

/** The descriptor named by the configuration; CONFIG_INVALID naming the registered ones otherwise. */
export function findProvider(registry: readonly ProviderDescriptor[], name: string): ProviderDescriptor {
  const found = registry.find((d) => d.name === name);
  if (found) return found;
  throw new GxitError('CONFIG_INVALID', `dns.provider: unknown provider "${name}"`, {
    subject: 'dns.provider',
    fix: `use one of: ${registry.map((d) => d.name).join(', ')}`,
  });
}

/** Builds the configured provider (its implementation loaded now). */
export function loadProvider(registry: readonly ProviderDescriptor[], dns: { provider: string; settings: ProviderSettings } & DnsCommon): Promise<DnsProvider> {
  return findProvider(registry, dns.provider).load(dns.settings, dns);
}
