import { describe, expect, test } from 'vitest';
import { applyDefaults, DEFAULT_CONFIG_PATH, DEFAULTS } from '../../../src/config/defaults.js';
import { get, parseYamlTree, type MapNode, type ScalarNode } from '../../../src/config/tree.js';
import { rfc2136 } from '../../../src/dns/providers/rfc2136/descriptor.js';
import { route53 } from '../../../src/dns/providers/route53/descriptor.js';
import { PROVIDERS } from '../../../src/dns/providers/registry.js';

function defaulted(text: string): MapNode {
  const parsed = parseYamlTree(text, 'c.yml');
  expect(parsed.problems).toEqual([]);
  return applyDefaults(parsed.tree!, PROVIDERS);
}

function value(root: MapNode, path: string): unknown {
  let node = root as MapNode | undefined;
  const keys = path.split('.');
  for (const key of keys.slice(0, -1)) {
    const next = node === undefined ? undefined : get(node, key);
    node = next?.kind === 'map' ? next : undefined;
  }
  const leaf = node === undefined ? undefined : get(node, keys.at(-1)!);
  return leaf === undefined ? undefined : (leaf as ScalarNode).value;
}

describe('applyDefaults', () => {
  test('the default configuration path', () => {
    expect(DEFAULT_CONFIG_PATH).toBe('/etc/gxit-cert/config.yml');
  });

  test('fills absent keys, including inside provider sections that exist', () => {
    const root = defaulted('dns:\n  provider: rfc2136\n  rfc2136:\n    server: 127.0.0.2\n');
    expect(value(root, 'server')).toBe('letsencrypt');
    expect(value(root, 'state_dir')).toBe('/etc/gxit-cert');
    expect(value(root, 'key_type')).toBe('ecdsa-p256');
    expect(value(root, 'dns.propagation_timeout')).toBe(120);
    expect(value(root, 'dns.propagation_interval')).toBe(0.05);
    expect(value(root, 'dns.propagation_check')).toBe(true);
    expect(value(root, 'dns.nameserver_port')).toBe(53);
    expect(value(root, 'dns.rfc2136.port')).toBe(53);
    expect(value(root, 'dns.rfc2136.algorithm')).toBe('hmac-sha512');
    expect(value(root, 'dns.rfc2136.tcp')).toBe(false);
    expect(value(root, 'dns.rfc2136.ttl')).toBe(60);
    expect(value(root, 'dns.rfc2136.timeout')).toBe(2);
    expect(value(root, 'dns.rfc2136.retries')).toBe(3);
  });

  test('defaulted nodes are marked and point at the section line and path', () => {
    const root = defaulted('dns:\n  provider: rfc2136\n  rfc2136:\n    server: 127.0.0.2\n');
    const dns = get(root, 'dns') as MapNode;
    const rfc = get(dns, 'rfc2136') as MapNode;
    expect(get(rfc, 'algorithm')).toMatchObject({ defaulted: true, line: 3, path: 'dns.rfc2136.algorithm' });
    expect(get(rfc, 'server')).not.toHaveProperty('defaulted');
  });

  test.each([
    ['dns:\n  propagation_check: false\n', 'dns.propagation_check', false],
    ['dns:\n  propagation_timeout: 0\n', 'dns.propagation_timeout', 0],
    ['dns:\n  rfc2136:\n    tcp: false\n', 'dns.rfc2136.tcp', false],
    ['dns:\n  rfc2136:\n    ttl: 0\n', 'dns.rfc2136.ttl', 0],
    ['dns:\n  rfc2136:\n    retries: 0\n', 'dns.rfc2136.retries', 0],
    ['dns:\n  route53:\n    private_zone: false\n', 'dns.route53.private_zone', false],
    ['dns:\n  route53:\n    ttl: 0\n', 'dns.route53.ttl', 0],
    ['state_dir: ""\n', 'state_dir', ''],
  ])('an explicit false, 0 or "" survives: %j', (text, path, expected) => {
    expect(value(defaulted(text), path)).toBe(expected);
  });

  test.each([
    ['dns:\n  rfc2136:\n    ttl: sixty\n', 'dns.rfc2136.ttl', 'sixty'],
    ['dns:\n  propagation_check: "yes"\n', 'dns.propagation_check', 'yes'],
    ['key_type: rsa\n', 'key_type', 'rsa'],
  ])('a wrong value stays for validation to report: %j', (text, path, expected) => {
    expect(value(defaulted(text), path)).toBe(expected);
  });

  test.each([
    ['server:\n', 'server', 'letsencrypt'],
    ['dns:\n  rfc2136:\n    port: ~\n', 'dns.rfc2136.port', 53],
  ])('an empty value (key: / ~) takes the default: %j', (text, path, expected) => {
    expect(value(defaulted(text), path)).toBe(expected);
  });

  test('provider sections are not created', () => {
    const root = defaulted('dns:\n  provider: rfc2136\n');
    const dns = get(root, 'dns') as MapNode;
    expect(get(dns, 'rfc2136')).toBeUndefined();
    expect(get(dns, 'route53')).toBeUndefined();
    expect(get(defaulted('email: a@b.org\n'), 'dns')).toBeUndefined();
  });

  test('a dns value that is not a mapping is left alone', () => {
    const root = defaulted('dns: rfc2136\n');
    expect(get(root, 'dns')).toMatchObject({ kind: 'scalar', value: 'rfc2136' });
  });

  test('the input tree is not modified', () => {
    const parsed = parseYamlTree('dns:\n  rfc2136:\n    server: x\n', 'c.yml').tree!;
    applyDefaults(parsed, PROVIDERS);
    expect(parsed.entries.has('server')).toBe(false);
    const rfc = get(get(parsed, 'dns') as MapNode, 'rfc2136') as MapNode;
    expect(rfc.entries.has('port')).toBe(false);
  });

  test('DEFAULTS match the documented values', () => {
    expect({ ...DEFAULTS, rfc2136: rfc2136.defaults, route53: route53.defaults }).toEqual({
      server: 'letsencrypt',
      state_dir: '/etc/gxit-cert',
      key_type: 'ecdsa-p256',
      dns: { propagation_timeout: 120, propagation_interval: 0.05, propagation_check: true, nameserver_port: 53 },
      rfc2136: { port: 53, algorithm: 'hmac-sha512', tcp: false, ttl: 60, timeout: 2, retries: 3 },
      route53: { private_zone: false, ttl: 60 },
    });
  });
});
