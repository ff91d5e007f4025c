// The registry is the one list of providers: everything that names providers must agree with it,
// so a provider registered in one place and missing in another fails here.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { providersHelp, providersTable, TABLE_END, TABLE_START } from '../../../../src/cli/providers-help.js';
import { applyAliases } from '../../../../src/config/aliases.js';
import { evaluateConfigText } from '../../../../src/config/load.js';
import { get, parseYamlTree, type MapNode } from '../../../../src/config/tree.js';
import { sectionKey, sectionKeys } from '../../../../src/config/provider-section.js';
import { KNOWN_KEYS } from '../../../../src/config/validate.js';
import { findProvider } from '../../../../src/dns/providers/descriptor.js';
import { PROVIDERS } from '../../../../src/dns/providers/registry.js';

const ROOT = join(import.meta.dirname, '../../../..');
const PROVIDERS_DIR = join(ROOT, 'src/dns/providers');
const CERTIFICATES = 'certificates:\n  - domains: [galaxy.example.org]\n';

function evaluate(text: string) {
  return evaluateConfigText(text, '/etc/gxit-cert/config.yml', {
    providers: PROVIDERS,
    readSecretFile: () => {
      throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    },
  });
}

describe('the provider registry', () => {
  it('lists every provider folder exactly once, each with a descriptor', () => {
    const folders = readdirSync(PROVIDERS_DIR).filter((entry) => statSync(join(PROVIDERS_DIR, entry)).isDirectory());
    expect(PROVIDERS.map((p) => p.name).sort()).toEqual(folders.sort());
    expect(new Set(PROVIDERS.map((p) => p.name)).size).toBe(PROVIDERS.length);
    for (const name of folders) expect(statSync(join(PROVIDERS_DIR, name, 'descriptor.ts')).isFile()).toBe(true);
  });

  it('names providers in lower case, and their section keys never as a generic dns key nor twice', () => {
    for (const p of PROVIDERS) {
      expect(p.name).toMatch(/^[a-z][a-z0-9-]*$/);
      for (const key of sectionKeys(p)) {
        expect(key).toMatch(/^[a-z][a-z0-9_-]*$/);
        expect(KNOWN_KEYS.dns as readonly string[]).not.toContain(key);
      }
    }
    const keys = PROVIDERS.flatMap(sectionKeys);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('loads implementations lazily: no descriptor imports code outside its section at the top', () => {
    for (const p of PROVIDERS) {
      const source = readFileSync(join(PROVIDERS_DIR, p.name, 'descriptor.ts'), 'utf8');
      const staticImports = [...source.matchAll(/^import (?!type )[^;]*from '([^']+)';/gm)].map((m) => m[1]);
      // The descriptor may import the shared descriptor helpers and its own section module, nothing heavier.
      for (const target of staticImports) expect(target, `${p.name}/descriptor.ts imports ${target}`).toMatch(/^(\.\.\/descriptor|\.\/section)\.js$/);
      expect(source).toMatch(/await import\(/);
    }
  });

  it('the README table is the one rendered from the registry', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf(TABLE_START);
    const end = readme.indexOf(TABLE_END);
    expect(start, 'README.md lacks the provider table markers').toBeGreaterThanOrEqual(0);
    expect(readme.slice(start + TABLE_START.length, end).trim(), 'run npm run docs:providers').toBe(providersTable(PROVIDERS));
    for (const p of PROVIDERS) expect(readme).toContain(`| \`${p.name}\` | ${p.summary} | \`dns.${sectionKey(p)}\`: `);
  });

  it('--help lists every provider with its summary', async () => {
    const help = providersHelp(PROVIDERS);
    for (const p of PROVIDERS) expect(help).toMatch(new RegExp(`^  ${p.name} +${p.summary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    // The built CLI prints the same block (npm test builds before it runs the tests).
    const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'bin/gxit-cert.js'), '--help']);
    expect(stdout).toContain(help.trim());
  });

  it('an unknown provider is refused with the registered names', () => {
    expect(() => findProvider(PROVIDERS, 'no-such-provider')).toThrow(/unknown provider "no-such-provider"/);
    const { problems } = evaluate(`${CERTIFICATES}dns:\n  provider: no-such-provider\n`);
    expect(problems[0]?.fix).toBe(`write provider: ${PROVIDERS.map((p) => p.name).join(' or provider: ')}`);
  });
});

describe.each(PROVIDERS.map((p) => [p.name, p] as const))('descriptor %s', (name, p) => {
  const section = sectionKey(p);
  it('has a one-line summary', () => {
    expect(p.summary.length).toBeGreaterThan(10);
    expect(p.summary).not.toMatch(/\n/);
  });

  it('has defaults only for its own keys, and no key twice', () => {
    for (const key of Object.keys(p.defaults)) expect(p.keys).toContain(key);
    expect(new Set(p.keys).size).toBe(p.keys.length);
  });

  it('validates every key: a mapping where a value belongs is reported at that key', () => {
    for (const key of p.keys) {
      const { problems } = evaluate(`${CERTIFICATES}dns:\n  provider: ${name}\n  ${section}:\n    ${key}: {nested: 1}\n`);
      expect(problems.map((problem) => problem.path), `dns.${section}.${key}`).toContain(`dns.${section}.${key}`);
    }
  });

  it('refuses unknown keys in its section', () => {
    const { problems } = evaluate(`${CERTIFICATES}dns:\n  provider: ${name}\n  ${section}:\n    no_such_key: 1\n`);
    expect(problems.map((problem) => problem.path)).toContain(`dns.${section}.no_such_key`);
  });

  it('says what is missing when its section is required, or works without it', () => {
    const { config, problems } = evaluate(`${CERTIFICATES}dns:\n  provider: ${name}\n`);
    if (p.missingFix !== undefined) {
      expect(problems[0]).toMatchObject({ path: `dns.${section}`, message: 'is missing', fix: p.missingFix });
      expect(p.missingFix).toContain(`${section}:`);
    } else {
      expect(problems).toEqual([]);
      expect(config?.dns.provider).toBe(name);
      expect(config?.dns.settings.provider).toBe(name);
    }
  });

  it('maps the Galaxy role vocabulary onto itself', () => {
    if (p.ansible === undefined) return;
    const roleValue = p.ansible.provider;
    expect(PROVIDERS.filter((other) => other.ansible?.provider === roleValue)).toEqual([p]);
    for (const target of Object.values(p.ansible.credentialKeys)) if (target !== null) expect(p.keys).toContain(target);
    const tree = parseYamlTree(`certbot_domains: [galaxy.example.org]\ncertbot_dns_provider: ${roleValue}\ncertbot_dns_credentials: {}\n`, 'vars.yml').tree!;
    const dns = get(applyAliases(tree, 'vars.yml', PROVIDERS).root, 'dns') as MapNode;
    expect(get(dns, 'provider')).toMatchObject({ value: name });
    expect(get(dns, section)?.kind).toBe('map');
  });
});
