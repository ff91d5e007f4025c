#!/usr/bin/env node
/**
 * The folder-level import graph of src/: every import and export ... from (type-only ones included,
 * static and dynamic import()), resolved to the folder of the target. A folder is a directory under
 * src/ (src/dns/providers counts as its own, apart from src/dns; files directly in src/ form "src").
 *
 * Fails (exit 1) on any cycle between folders and on any import of src/cli from outside it.
 * `node scripts/import-graph.mjs [--json]`; importable as a module for tests.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Folders that count on their own although they sit inside another. */
const OWN_FOLDERS = ['dns/providers'];

const IMPORT_RE = /(?:^|[^.\w$])(?:import|export)\s*(?:type\s+)?(?:[\w*${}\s,]+?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function listFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full));
    else if (/\.(ts|mts|cts)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

/** The folder a file under srcDir belongs to. */
export function folderOf(srcDir, file) {
  const rel = path.relative(srcDir, file).split(path.sep).join('/');
  const dir = path.posix.dirname(rel);
  if (dir === '.') return 'src';
  const own = OWN_FOLDERS.filter((f) => dir === f || dir.startsWith(`${f}/`)).sort((a, b) => b.length - a.length)[0];
  return own ?? dir.split('/')[0];
}

/** Relative specifiers in a source text (comments are stripped first). */
export function importsOf(text) {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const specs = [];
  for (const m of code.matchAll(IMPORT_RE)) {
    const spec = m[1] ?? m[2];
    if (spec !== undefined && spec.startsWith('.')) specs.push(spec);
  }
  return specs;
}

/** edges: Map<from folder, Map<to folder, string[] (file -> spec, as examples)>> */
export function buildGraph(srcDir) {
  const edges = new Map();
  for (const file of listFiles(srcDir)) {
    const from = folderOf(srcDir, file);
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      const target = path.resolve(path.dirname(file), spec);
      if (!target.startsWith(srcDir + path.sep)) continue;
      const to = folderOf(srcDir, target);
      if (to === from) continue;
      if (!edges.has(from)) edges.set(from, new Map());
      const byTarget = edges.get(from);
      if (!byTarget.has(to)) byTarget.set(to, []);
      byTarget.get(to).push(`${path.relative(srcDir, file)} -> ${spec}`);
    }
  }
  return edges;
}

/** The strongly connected components of more than one folder: each holds at least one cycle (Tarjan). */
export function cyclesOf(edges) {
  const nodes = new Set([...edges.keys(), ...[...edges.values()].flatMap((m) => [...m.keys()])]);
  let index = 0;
  const indices = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const components = [];
  const visit = (v) => {
    indices.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v), indices.get(w)));
      }
    }
    if (low.get(v) === indices.get(v)) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const v of [...nodes].sort()) if (!indices.has(v)) visit(v);
  return components;
}

/** Problems: cycles (with the edges inside them) and imports of src/cli. */
export function checkGraph(srcDir) {
  const edges = buildGraph(srcDir);
  const problems = [];
  for (const component of cyclesOf(edges)) {
    const inside = [];
    for (const from of component) {
      for (const [to, examples] of edges.get(from) ?? []) {
        if (component.includes(to)) inside.push(`  ${from} -> ${to} (${examples.slice(0, 3).join('; ')}${examples.length > 3 ? '; ...' : ''})`);
      }
    }
    problems.push(`cycle between ${component.join(', ')}:\n${inside.join('\n')}`);
  }
  for (const [from, targets] of edges) {
    const cli = targets.get('cli');
    if (cli !== undefined && from !== 'cli') problems.push(`${from} imports src/cli: ${cli.join('; ')}`);
  }
  return { edges, problems };
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isMain) {
  const srcDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');
  const { edges, problems } = checkGraph(srcDir);
  if (process.argv.includes('--json')) {
    const data = Object.fromEntries([...edges].map(([from, to]) => [from, [...to.keys()].sort()]));
    process.stdout.write(`${JSON.stringify({ edges: data, problems }, null, 2)}\n`);
  } else {
    for (const [from, to] of [...edges].sort()) process.stdout.write(`${from} -> ${[...to.keys()].sort().join(', ')}\n`);
    for (const p of problems) process.stderr.write(`${p}\n`);
  }
  process.exitCode = problems.length === 0 ? 0 : 1;
}
