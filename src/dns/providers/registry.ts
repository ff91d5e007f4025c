/**
 * The registered DNS providers: one line per provider folder. Everything that lists providers
 * (config validation, --help, check-dns, the README table) reads this list; src/cli passes it on.
 * Descriptors are cheap to import: each loads its implementation only in load().
 */
import type { ProviderDescriptor } from './descriptor.js';
import { rfc2136 } from './rfc2136/descriptor.js';
import { route53 } from './route53/descriptor.js';
import { exec } from './exec/descriptor.js';
import { acmeDns } from './acme-dns/descriptor.js';
import { cloudflare } from './cloudflare/descriptor.js';

export const PROVIDERS: readonly ProviderDescriptor[] = [
  rfc2136,
  route53,
  cloudflare,
  acmeDns,
  exec,
];
