/**
 * Step 1 of the configuration pipeline: YAML text -> a small tree whose every node knows its line and
 * its key path as written. The later steps (aliases, defaults, validation) work on this tree only, so
 * they can name the exact line and key of every problem.
 *
 * YAML 1.2 core schema (`yes` is a string, not a boolean); anchors, aliases and `<<` merge keys work;
 * duplicate keys are a syntax error. Syntax errors never quote the source line: it could hold a secret.
 */
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { showKey, showValue } from '../redact.js';
import type { ConfigProblem, Location } from './problems.js';

export type ScalarValue = string | number | boolean | null;

interface NodeBase {
  /** 1-based line of the key this value belongs to (or of the list item). */
  line: number;
  /** Key path as written in the file. */
  path: string;
}

export interface ScalarNode extends NodeBase {
  kind: 'scalar';
  value: ScalarValue;
  /** A local tag such as `!vault` or `!unsafe` (Ansible), when present. */
  tag?: string;
  /** Inserted by applyDefaults, not written by the user. */
  defaulted?: boolean;
}

export interface SeqNode extends NodeBase {
  kind: 'seq';
  items: TreeNode[];
}

export interface MapEntry {
  key: string;
  node: TreeNode;
}

/** How to name a key that is absent from a map (the alias step names Ansible keys instead of native ones). */
export interface AbsentKeyHint {
  path: string;
  fix: string;
}

export interface MapNode extends NodeBase {
  kind: 'map';
  entries: Map<string, MapEntry>;
  absent?: Record<string, AbsentKeyHint>;
}

export type TreeNode = ScalarNode | SeqNode | MapNode;

/** The path of a key below `parent`; a key that is not a plain name is not echoed (it may be a secret). */
export function childPath(parent: string, key: string): string {
  const shown = showKey(key);
  return parent === '' ? shown : `${parent}.${shown}`;
}

export function itemPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

/** The node at `key`, or undefined when the key is absent or its value is null (`key:` or `key: ~`). */
export function get(map: MapNode, key: string): TreeNode | undefined {
  const node = map.entries.get(key)?.node;
  if (node === undefined) return undefined;
  if (node.kind === 'scalar' && node.value === null && node.tag === undefined) return undefined;
  return node;
}

/** Where a key of `map` is (when present) or would be (when absent), for messages. */
export function locate(map: MapNode, key: string): Omit<Location, 'source'> {
  const node = map.entries.get(key)?.node;
  if (node !== undefined) return { line: node.line, path: node.path };
  const hint = map.absent?.[key];
  return { line: map.line, path: hint?.path ?? childPath(map.path, key) };
}

export function kindName(node: TreeNode): string {
  if (node.kind === 'map') return 'a mapping';
  if (node.kind === 'seq') return 'a list';
  if (node.value === null) return 'empty';
  if (typeof node.value === 'boolean') return 'a boolean';
  if (typeof node.value === 'number') return 'a number';
  return 'a string';
}

export function mapNode(line: number, path: string, entries: MapEntry[] = []): MapNode {
  return { kind: 'map', line, path, entries: new Map(entries.map((entry) => [entry.key, entry])) };
}

/** Largest number of nodes one file may expand to (anchors and aliases can multiply a small file). */
const NODE_BUDGET = 100_000;

/**
 * Limits checked before parsing, so a huge or generated file fails at once with one line. A real
 * configuration is a few KiB and under 200 lines; these are generous by two orders of magnitude.
 */
export const MAX_CONFIG_CHARS = 256 * 1024;
export const MAX_CONFIG_LINES = 10_000;
/** Keys in the whole file (counted while converting, merged keys included). */
export const MAX_CONFIG_KEYS = 10_000;

/**
 * Parses YAML text into a tree. Returns problems (CONFIG_SYNTAX, or CONFIG_INVALID when the top level
 * is not a mapping) instead of throwing.
 */
export function parseYamlTree(text: string, source: string): { tree?: MapNode; problems: ConfigProblem[] } {
  const tooLarge = (message: string, fix: string): { problems: ConfigProblem[] } => ({ problems: [{ code: 'CONFIG_SYNTAX', source, line: 0, path: '', message, fix }] });
  if (text.length > MAX_CONFIG_CHARS) return tooLarge(`the file is larger than ${MAX_CONFIG_CHARS} characters, far more than a configuration needs`, 'check that --config names the gxit-cert configuration');
  if (countLines(text) > MAX_CONFIG_LINES) return tooLarge(`the file has more than ${MAX_CONFIG_LINES} lines, far more than a configuration needs`, 'check that --config names the gxit-cert configuration');
  const lineCounter = new LineCounter();
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  // uniqueKeys is off: the parser's own check compares every key with every other (quadratic: 50,000
  // keys take half a minute); convert() below finds duplicates with a Map instead.
  const doc = parseDocument(body, {
    lineCounter,
    prettyErrors: false,
    merge: true,
    uniqueKeys: false,
    keepSourceTokens: false,
  });
  const lineOf = (offset: number | undefined): number => (offset === undefined ? 1 : lineCounter.linePos(offset).line);

  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((error) => ({
        code: 'CONFIG_SYNTAX' as const,
        source,
        line: lineOf(error.pos[0]),
        path: '',
        message: `YAML syntax error: ${syntaxMessage(error.message)}${error.code === 'MISSING_CHAR' ? ' (it may have been opened on an earlier line)' : ''}`,
        fix: 'correct the YAML syntax on that line (indentation, quotes, colons)',
      })),
    };
  }

  const contents = doc.contents;
  if (contents === null || (isScalar(contents) && contents.value === null)) {
    return {
      problems: [
        { code: 'CONFIG_INVALID', source, line: 0, path: '', message: 'the file is empty', fix: 'write the configuration as a YAML mapping (email:, certificates:, dns:)' },
      ],
    };
  }

  let budget = NODE_BUDGET;
  let keys = 0;
  const problems: ConfigProblem[] = [];
  const convert = (node: YamlNode | null | undefined, line: number, path: string, depth: number): TreeNode => {
    budget -= 1;
    if (budget < 0 || depth > 64) throw new TreeTooLarge(line);
    const resolved = resolveAlias(doc, node);
    if (resolved === undefined && node !== null && node !== undefined && isAlias(node)) {
      // The parser leaves an alias without an anchor unresolved; it must not silently become null.
      problems.push({
        code: 'CONFIG_SYNTAX',
        source,
        line,
        path,
        message: `the alias ${showValue(`*${node.source}`)} refers to no anchor`,
        fix: `define the anchor (&${showKey(node.source)}) before its first use, or write the value instead of the alias`,
      });
      return { kind: 'scalar', value: null, line, path };
    }
    if (resolved === undefined || resolved === null) return { kind: 'scalar', value: null, line, path };
    if (isMap(resolved)) {
      const map = mapNode(line, path);
      const merges: TreeNode[] = [];
      for (const pair of resolved.items) {
        const keyNode = pair.key as YamlNode | null;
        const keyLine = isScalar(keyNode) || isMap(keyNode) || isSeq(keyNode) ? lineOf(keyNode.range?.[0]) : line;
        if (isMergeKey(keyNode)) {
          merges.push(convert(pair.value as YamlNode | null, keyLine, path, depth + 1));
          continue;
        }
        const key = keyText(keyNode);
        if (key === undefined) {
          problems.push({ code: 'CONFIG_INVALID', source, line: keyLine, path, message: 'a key must be a plain name, not a list, mapping or empty value', fix: 'write the key as a name followed by a colon' });
          continue;
        }
        keys += 1;
        if (keys > MAX_CONFIG_KEYS) throw new TooManyKeys(keyLine);
        const earlier = map.entries.get(key);
        if (earlier !== undefined) {
          problems.push({
            code: 'CONFIG_SYNTAX',
            source,
            line: keyLine,
            path: childPath(path, key),
            message: `YAML syntax error: duplicate key (also on line ${earlier.node.line})`,
            fix: 'keep only one of the two',
          });
          continue;
        }
        const valueNode = pair.value as YamlNode | null;
        const child = convert(valueNode, keyLine, childPath(path, key), depth + 1);
        map.entries.set(key, { key, node: child });
      }
      // `<<: *anchor` (or a list of anchors): keys written in the map itself win, then earlier sources.
      for (const merged of merges) {
        const sources = merged.kind === 'seq' ? merged.items : [merged];
        for (const from of sources) {
          if (from.kind !== 'map') {
            problems.push({ code: 'CONFIG_INVALID', source, line: from.line, path, message: 'a `<<` merge key needs a mapping or an alias of one', fix: 'write `<<: *anchor` where the anchor names a mapping' });
            continue;
          }
          for (const entry of from.entries.values()) {
            if (!map.entries.has(entry.key)) map.entries.set(entry.key, { key: entry.key, node: repath(entry.node, childPath(path, entry.key)) });
          }
        }
      }
      return map;
    }
    if (isSeq(resolved)) {
      const items = resolved.items.map((item, index) => {
        const itemNode = item as YamlNode | null;
        const itemLine = itemNode !== null && !isAlias(itemNode) && itemNode.range ? lineOf(itemNode.range[0]) : line;
        return convert(itemNode, itemLine, itemPath(path, index), depth + 1);
      });
      return { kind: 'seq', items, line, path };
    }
    if (isScalar(resolved)) {
      const value = scalarValue(resolved.value);
      const scalar: ScalarNode = { kind: 'scalar', value, line, path };
      if (typeof resolved.tag === 'string' && resolved.tag.startsWith('!') && !resolved.tag.startsWith('!!')) scalar.tag = resolved.tag;
      return scalar;
    }
    return { kind: 'scalar', value: null, line, path };
  };

  let root: TreeNode;
  try {
    const startLine = !isAlias(contents) && contents.range ? lineOf(contents.range[0]) : 1;
    root = convert(contents as YamlNode, startLine, '', 0);
  } catch (error) {
    if (error instanceof TooManyKeys) {
      return { problems: [{ code: 'CONFIG_SYNTAX', source, line: error.line, path: '', message: `the file has more than ${MAX_CONFIG_KEYS} keys, far more than a configuration needs`, fix: 'check that --config names the gxit-cert configuration' }] };
    }
    if (error instanceof TreeTooLarge) {
      return { problems: [{ code: 'CONFIG_SYNTAX', source, line: error.line, path: '', message: 'the YAML expands to too many values (nested anchors and aliases)', fix: 'write the values out instead of nesting aliases' }] };
    }
    throw error;
  }
  if (root.kind !== 'map') {
    return {
      problems: [{ code: 'CONFIG_INVALID', source, line: root.line, path: '', message: `the top level must be a mapping of keys, not ${kindName(root)}`, fix: 'write the configuration as `key: value` lines (email:, certificates:, dns:)' }],
    };
  }
  // A duplicate key or an undefined alias is a syntax error: later steps do not run on such a tree.
  if (problems.some((problem) => problem.code === 'CONFIG_SYNTAX')) return { problems };
  return { tree: root, problems };
}

class TooManyKeys extends Error {
  constructor(readonly line: number) {
    super('too many keys');
  }
}

function countLines(text: string): number {
  let lines = 1;
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) lines += 1;
  return lines;
}

class TreeTooLarge extends Error {
  constructor(readonly line: number) {
    super('tree too large');
  }
}

function resolveAlias(doc: Document, node: YamlNode | null | undefined): YamlNode | null | undefined {
  if (node !== null && node !== undefined && isAlias(node)) return node.resolve(doc) as YamlNode | undefined;
  return node;
}

function isMergeKey(key: YamlNode | null): boolean {
  return isScalar(key) && typeof key.value === 'symbol' && key.value.description === '<<';
}

function keyText(key: YamlNode | null): string | undefined {
  if (!isScalar(key)) return undefined;
  const value = key.value;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return undefined;
}

function scalarValue(value: unknown): ScalarValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

/** A copy of a node with paths rewritten below `path` (for values pulled in by a merge key). */
function repath(node: TreeNode, path: string): TreeNode {
  if (node.kind === 'scalar') return { ...node, path };
  if (node.kind === 'seq') return { ...node, path, items: node.items.map((item, index) => repath(item, itemPath(path, index))) };
  const map = mapNode(node.line, path);
  for (const entry of node.entries.values()) map.entries.set(entry.key, { key: entry.key, node: repath(entry.node, childPath(path, entry.key)) });
  return map;
}

/** The first line of a yaml error message without its position (positions are reported as file:line). */
function syntaxMessage(message: string): string {
  const first = message.split('\n', 1)[0] ?? message;
  return first.replace(/ at line \d+, column \d+:?\s*$/, '').trim();
}
