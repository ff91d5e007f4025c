/**
 * Step 3 of the configuration pipeline: defaults, written in the file's own vocabulary (snake_case keys,
 * seconds), merged into the tree only where a key is absent or empty (`key:` / `key: ~`). An explicit
 * `false` or `0` is a value and survives; a wrong value stays in place for validation to report.
 *
 * Each provider's section gets its descriptor's defaults (ProviderSection.defaults).
 *
 * Two defaults depend on other values and are derived during validation instead:
 * a certificate's `name` (its first domain without "*.") and its `key_type` (the top-level key_type).
 */
import { sectionKeys, type ProviderSection } from './provider-section.js';
import { childPath, get, type MapNode, type ScalarNode, type ScalarValue, type TreeNode } from './tree.js';

export const DEFAULT_CONFIG_PATH = '/etc/gxit-cert/config.yml';

export const DEFAULTS = {
  server: 'letsencrypt',
  state_dir: '/etc/gxit-cert',
  key_type: 'ecdsa-p256',
  dns: {
    propagation_timeout: 120,
    propagation_interval: 0.05,
    propagation_check: true,
    nameserver_port: 53,
  },
} as const satisfies Record<string, ScalarValue | Record<string, ScalarValue>>;

/**
 * A copy of the tree with defaults filled in. Sections are not created: `dns.rfc2136` gets its defaults
 * only when the file has an `rfc2136` section. Maps that are not maps are left for validation.
 */
export function applyDefaults(root: MapNode, providers: readonly ProviderSection[]): MapNode {
  const top = fill(root, {
    server: DEFAULTS.server,
    state_dir: DEFAULTS.state_dir,
    key_type: DEFAULTS.key_type,
  });
  const dns = get(top, 'dns');
  if (dns?.kind === 'map') {
    const filledDns = fill(dns, DEFAULTS.dns);
    for (const provider of providers) {
      for (const key of sectionKeys(provider)) {
        const section = get(filledDns, key);
        if (section?.kind === 'map') replace(filledDns, key, fill(section, provider.defaults));
      }
    }
    replace(top, 'dns', filledDns);
  }
  return top;
}

/** A shallow copy of `map` with each absent or null key set to its default. */
function fill(map: MapNode, defaults: Readonly<Record<string, ScalarValue>>): MapNode {
  const copy: MapNode = { ...map, entries: new Map(map.entries) };
  for (const [key, value] of Object.entries(defaults)) {
    if (get(copy, key) !== undefined) continue;
    const node: ScalarNode = { kind: 'scalar', value, line: copy.entries.get(key)?.node.line ?? map.line, path: childPath(map.path, key), defaulted: true };
    copy.entries.set(key, { key, node });
  }
  return copy;
}

function replace(map: MapNode, key: string, node: TreeNode): void {
  map.entries.set(key, { key, node });
}
