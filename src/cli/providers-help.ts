/**
 * The registered DNS providers as people read them: a block for --help and the README's table.
 * Both are rendered from the registry (src/dns/providers/registry.ts); a test compares the README.
 */
import { sectionKey } from '../config/provider-section.js';
import type { ProviderDescriptor } from '../dns/providers/descriptor.js';

/** The lines `gxit-cert --help` ends with. */
export function providersHelp(providers: readonly ProviderDescriptor[]): string {
  const width = Math.max(...providers.map((p) => p.name.length));
  const lines = providers.map((p) => `  ${p.name.padEnd(width)}  ${p.summary}`);
  return `\nDNS providers (dns.provider):\n${lines.join('\n')}\n`;
}

export const TABLE_START = '<!-- providers: generated from src/dns/providers/registry.ts; npm run docs:providers -->';
export const TABLE_END = '<!-- /providers -->';

/** The README's provider table (between TABLE_START and TABLE_END). */
export function providersTable(providers: readonly ProviderDescriptor[]): string {
  const rows = providers.map((p) => {
    const role = p.ansible === undefined ? '—' : `\`certbot_dns_provider: ${p.ansible.provider}\``;
    return `| \`${p.name}\` | ${p.summary} | \`dns.${sectionKey(p)}\`: ${p.keys.map((k) => `\`${k}\``).join(', ')} | ${role} |`;
  });
  return ['| `dns.provider` | writes through | section keys | Ansible role |', '|---|---|---|---|', ...rows].join('\n');
}

/** `text` with the table between the markers replaced; undefined when the markers are missing. */
export function withProvidersTable(text: string, providers: readonly ProviderDescriptor[]): string | undefined {
  const start = text.indexOf(TABLE_START);
  const end = text.indexOf(TABLE_END);
  if (start < 0 || end < start) return undefined;
  return `${text.slice(0, start + TABLE_START.length)}\n${providersTable(providers)}\n${text.slice(end)}`;
}
