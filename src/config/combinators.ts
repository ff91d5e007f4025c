/**
 * The validation combinators every configuration section is written with: a Checker collects problems
 * (line, key path, fix) and offers typed readers (string, number, bool, list, path, mapping with known
 * keys). Each reader returns undefined after reporting, so a section reads all its keys, reports every
 * problem at once, and builds its value only when nothing was reported.
 *
 * Generic sections (config/validate.ts) and the provider sections (src/dns/providers/<name>/descriptor.ts)
 * both use these; nothing here knows a particular key.
 */
import { isAbsolute, resolve as resolvePath } from 'node:path';
import type { ConfigProblem, ConfigProblemCode } from './problems.js';
import { formatProblem } from './problems.js';
import { get, kindName, locate, type MapNode, type ScalarNode, type SeqNode, type TreeNode } from './tree.js';
import { closest, showValue } from './values.js';

/** Where a value came from, for messages about it after validation. */
export interface Place {
  source: string;
  line: number;
  path: string;
}

/** A secret not yet read. `implicit`: the fallback environment variable, not written in the file. */
export type SecretRef =
  | { kind: 'inline'; value: string; at: Place }
  | { kind: 'file'; file: string; at: Place }
  | { kind: 'env'; variable: string; at: Place; implicit?: boolean };

export interface ValidateOptions {
  source: string;
  /** Directory that relative paths (ca_bundle, state_dir, secret files) are relative to. */
  baseDir: string;
}

export const JINJA = /\{\{|\{%/;
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const MAX_TTL = 2_147_483_647;
/** Values are quoted in messages, except ones that look like secrets. */
export const quote = showValue;

export type At = { line: number; path: string };

/** Collects problems; every check returns undefined after reporting. */
export class Checker {
  readonly problems: ConfigProblem[] = [];
  readonly warnings: string[] = [];

  constructor(readonly options: ValidateOptions) {}

  place(at: At): Place {
    return { source: this.options.source, line: at.line, path: at.path };
  }

  report(at: At, message: string, fix?: string, code: ConfigProblemCode = 'CONFIG_INVALID'): undefined {
    this.problems.push({ code, source: this.options.source, line: at.line, path: at.path, message, ...(fix === undefined ? {} : { fix }) });
    return undefined;
  }

  warn(at: At, message: string): void {
    this.warnings.push(formatProblem({ code: 'CONFIG_INVALID', source: this.options.source, line: at.line, path: at.path, message }));
  }

  missing(map: MapNode, key: string, fix: string): undefined {
    const hint = map.absent?.[key];
    return this.report(locate(map, key), 'is missing', hint?.fix ?? fix);
  }

  /** The node as a mapping whose keys are all known. */
  map(node: TreeNode, known: readonly string[], fix: string): MapNode | undefined {
    if (node.kind !== 'map') return this.report(node, `must be a mapping of keys, not ${kindName(node)}`, fix);
    for (const [key, entry] of node.entries) {
      if (known.includes(key)) continue;
      const suggestion = closest(key, known);
      this.report(
        entry.node,
        `unknown key${suggestion ? `; did you mean ${suggestion}?` : ''}`,
        suggestion ? `rename it to ${suggestion}, or remove it` : `remove it; allowed here: ${known.join(', ')}`,
      );
    }
    return node;
  }

  scalarString(node: TreeNode, fix: string, secret = false): string | undefined {
    if (node.kind !== 'scalar' || typeof node.value !== 'string') {
      return this.report(node, `must be a string, not ${kindName(node)}`, secret ? fix : `${fix} (quote it if it looks like a number)`);
    }
    if (node.tag === '!vault') {
      return this.report(node, 'is encrypted with Ansible Vault', 'write the decrypted value (ansible-vault view), or keep the secret in a file and use secret_file');
    }
    if (node.tag !== '!unsafe' && JINJA.test(node.value)) {
      return this.report(node, 'is an unrendered Jinja template', `render the Ansible variables first (e.g. ansible HOST -m debug -a var=${node.path.split(/[.[]/)[0]}) and write the resulting value`);
    }
    return node.value;
  }

  string(map: MapNode, key: string, fix: string, secret = false): { value: string; node: ScalarNode } | undefined {
    const node = get(map, key);
    if (node === undefined) return undefined;
    const value = this.scalarString(node, fix, secret);
    if (value === undefined) return undefined;
    if (value.trim() === '') return this.report(node, 'is empty', fix);
    return { value, node: node as ScalarNode };
  }

  number(
    map: MapNode,
    key: string,
    rule: { min: number; max?: number; integer?: boolean; aboveMin?: boolean; what: string },
  ): { value: number; node: ScalarNode } | undefined {
    const node = get(map, key);
    if (node === undefined) return undefined;
    const bounds =
      rule.max === undefined
        ? `${rule.aboveMin ? 'greater than' : 'at least'} ${rule.min}`
        : `from ${rule.min} to ${rule.max}`;
    const fix = `write ${rule.integer ? 'a whole number' : 'a number'} ${bounds} (${rule.what})`;
    if (node.kind !== 'scalar' || typeof node.value !== 'number') {
      const shown = node.kind === 'scalar' && typeof node.value === 'string' ? `${quote(node.value)} is a string` : `is ${kindName(node)}`;
      return this.report(node, `must be a number: ${shown}`, fix);
    }
    const value = node.value;
    const inRange =
      Number.isFinite(value) &&
      (rule.aboveMin ? value > rule.min : value >= rule.min) &&
      (rule.max === undefined || value <= rule.max) &&
      (!rule.integer || Number.isInteger(value));
    if (!inRange) return this.report(node, `${value} is not ${rule.integer ? 'a whole number ' : ''}${bounds}`, fix);
    return { value, node: node as ScalarNode };
  }

  bool(map: MapNode, key: string): boolean | undefined {
    const node = get(map, key);
    if (node === undefined) return undefined;
    if (node.kind !== 'scalar' || typeof node.value !== 'boolean') {
      const shown = node.kind === 'scalar' && typeof node.value === 'string' ? `${quote(node.value)} is a string` : `is ${kindName(node)}`;
      return this.report(node, `must be true or false: ${shown}`, `write ${key}: true or ${key}: false`);
    }
    return node.value;
  }

  list(node: TreeNode, fix: string): SeqNode | undefined {
    if (node.kind !== 'seq') return this.report(node, `must be a list, not ${kindName(node)}`, fix);
    if (node.items.length === 0) return this.report(node, 'is an empty list', fix);
    return node;
  }

  path(map: MapNode, key: string, fix: string): string | undefined {
    const found = this.string(map, key, fix);
    if (found === undefined) return undefined;
    const text = found.value.trim();
    if (text.startsWith('~')) return this.report(found.node, `${quote(text)} starts with "~", which is not expanded`, 'write an absolute path');
    if (text.includes('\0')) return this.report(found.node, 'contains a NUL character', fix);
    return isAbsolute(text) ? resolvePath(text) : resolvePath(this.options.baseDir, text);
  }
}

/** The three keys a section names one secret with (written inline, in a file, in a variable), and their fixes. */
export interface SecretKeys {
  inline: string;
  file: string;
  env: string;
  inlineFix: string;
  fileFix: string;
  envFix: string;
  /** For an env value that is not a variable name. */
  envNameFix: string;
  /** The inline value as it is kept, or what is wrong with it. */
  checkInline(text: string): { value: string } | { message: string; fix: string };
}

/**
 * Every one of the keys that is set, as a SecretRef, in the order inline, file, env. `failed`: a key
 * is set but is no good (reported). More than one source is left to the caller (reportSecondSources).
 */
export function secretSources(check: Checker, map: MapNode, keys: SecretKeys): { sources: SecretRef[]; failed: boolean } {
  const sources: SecretRef[] = [];
  let failed = false;
  const inline = check.string(map, keys.inline, keys.inlineFix, true);
  if (inline !== undefined) {
    const checked = keys.checkInline(inline.value);
    if ('value' in checked) sources.push({ kind: 'inline', value: checked.value, at: check.place(inline.node) });
    else {
      check.report(inline.node, checked.message, checked.fix);
      failed = true;
    }
  } else if (get(map, keys.inline) !== undefined) failed = true;
  const file = check.path(map, keys.file, keys.fileFix);
  if (file !== undefined) sources.push({ kind: 'file', file, at: check.place(locate(map, keys.file)) });
  else if (get(map, keys.file) !== undefined) failed = true;
  const env = check.string(map, keys.env, keys.envFix);
  if (env !== undefined) {
    if (ENV_NAME.test(env.value.trim())) sources.push({ kind: 'env', variable: env.value.trim(), at: check.place(env.node) });
    else {
      check.report(env.node, `${quote(env.value)} is not an environment variable name`, keys.envNameFix);
      failed = true;
    }
  } else if (get(map, keys.env) !== undefined) failed = true;
  return { sources, failed };
}

/** Reports each source after the first as a second one for `what` ("the TSIG secret"); true when there were several. */
export function reportSecondSources(check: Checker, sources: readonly SecretRef[], what: string, keys: SecretKeys): boolean {
  for (const extra of sources.slice(1)) {
    check.report(extra.at, `is a second source for ${what} (also ${sources[0]?.at.path})`, `keep only one of ${keys.inline}, ${keys.file} and ${keys.env}`);
  }
  return sources.length > 1;
}
