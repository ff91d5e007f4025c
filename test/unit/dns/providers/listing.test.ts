// Every registered provider is listed where users look: the README's provider table, the table of
// docs/providers.md and `gxit-cert --help` (with its descriptor's summary); none is listed that is not registered.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PROVIDERS } from '../../../../src/dns/providers/registry.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const names = PROVIDERS.map((p) => p.name).sort();
/** Names in the first column of the markdown table that starts with `| \`dns.provider\` |`. */
function tableNames(markdown: string): string[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.startsWith('| `dns.provider` |'));
  expect(start).toBeGreaterThanOrEqual(0);
  const rows: string[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const m = /^\| `([^`]+)` \|/.exec(line);
    if (m?.[1]) rows.push(m[1]);
  }
  return rows.sort();
}

describe('provider listings', () => {
  it('README.md lists every registered provider', async () => {
    expect(tableNames(await readFile(path.join(root, 'README.md'), 'utf8'))).toEqual(names);
  });

  it('docs/providers.md lists every registered provider', async () => {
    expect(tableNames(await readFile(path.join(root, 'docs', 'providers.md'), 'utf8'))).toEqual(names);
  });

  it('gxit-cert --help lists every registered provider with its summary', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(root, 'bin', 'gxit-cert.js'), '--help']);
    const section = stdout.slice(stdout.indexOf('DNS providers (dns.provider):'));
    const listed = section.split('\n').slice(1).filter((l) => l.startsWith('  ')).map((l) => l.trim().split(/\s+/)[0] ?? '');
    expect(listed.sort()).toEqual(names);
    for (const p of PROVIDERS) expect(section).toContain(p.summary);
  });
});
