import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkGraph as check, folderOf, importsOf } from '../../scripts/import-graph.mjs';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');
const temporary: string[] = [];
afterAll(async () => {
  await Promise.all(temporary.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tree(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gxit-graph-'));
  temporary.push(dir);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  return dir;
}

describe('the import graph of src/', () => {
  it('has no cycle between folders and no import of src/cli', () => {
    const { problems } = check(SRC);
    // Printed in full so that a failure names every edge of every cycle.
    expect(problems.join('\n\n')).toBe('');
  });
});

describe('import-graph.mjs', () => {
  it('counts src/dns/providers as its own folder and files directly in src/ as "src"', () => {
    expect(folderOf('/s', '/s/dns/providers/route53/index.ts')).toBe('dns/providers');
    expect(folderOf('/s', '/s/dns/query.ts')).toBe('dns');
    expect(folderOf('/s', '/s/errors.ts')).toBe('src');
  });

  it('finds static, type-only, re-exported and dynamic imports, not those in comments', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from '../b/b.js';",
      "export { c } from './c.js';",
      "export type { D } from './d.js';",
      "const e = await import('../e/e.js');",
      "// import { f } from './f.js';",
      "/* import { g } from './g.js'; */",
      "import { readFile } from 'node:fs/promises';",
    ].join('\n');
    expect(importsOf(text)).toEqual(['./a.js', '../b/b.js', './c.js', './d.js', '../e/e.js']);
  });

  it('reports a cycle through a type-only import, with its edges', async () => {
    const dir = await tree({
      'one/a.ts': "import type { B } from '../two/b.js';\nexport const a = 1;\n",
      'two/b.ts': "import { a } from '../one/a.js';\nexport type B = typeof a;\n",
      'three/c.ts': "import { a } from '../one/a.js';\n",
    });
    const { problems } = check(dir);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/cycle between one, two/);
    expect(problems[0]).toMatch(/one -> two \(one\/a\.ts -> \.\.\/two\/b\.js\)/);
    expect(problems[0]).toMatch(/two -> one/);
  });

  it('reports an import of src/cli from another folder, but not from cli itself', async () => {
    const dir = await tree({
      'cli/main.ts': "import { x } from './output.js';\nimport { y } from '../lib/y.js';\n",
      'cli/output.ts': 'export const x = 1;\n',
      'lib/y.ts': "import { x } from '../cli/output.js';\nexport const y = x;\n",
    });
    const { problems } = check(dir);
    expect(problems.some((p) => /^lib imports src\/cli: lib\/y\.ts -> \.\.\/cli\/output\.js/.test(p))).toBe(true);
  });

  it('accepts a graph without cycles', async () => {
    const dir = await tree({
      'a/a.ts': "import { b } from '../b/b.js';\n",
      'b/b.ts': "import { c } from '../c/c.js';\nexport const b = 1;\n",
      'c/c.ts': 'export const c = 1;\n',
    });
    expect(check(dir).problems).toEqual([]);
  });
});
