/**
 * A small YAML writer for the configurations import-certbot and init write: ordered keys, a comment
 * after any value or above any key, flow lists for names and argv hooks. Strings are written plain
 * when YAML reads them back as the same string, else double-quoted (JSON escapes are valid YAML).
 */

export type YValue = string | number | boolean;

export type YNode =
  | { kind: 'scalar'; value: YValue }
  | { kind: 'flow'; items: YValue[] }
  | { kind: 'map'; entries: YEntry[] }
  | { kind: 'seq'; items: YItem[] };

export interface YEntry {
  key: string;
  value: YNode;
  /** After the value on the same line (scalars and flow lists), else above the key. */
  comment?: string;
  /** Lines of comment above the key. */
  above?: string[];
  /** Write the entry commented out (a suggestion the user may enable). */
  disabled?: boolean;
}

export interface YItem {
  value: YNode;
  comment?: string;
}

export const scalar = (value: YValue): YNode => ({ kind: 'scalar', value });
export const flow = (items: YValue[]): YNode => ({ kind: 'flow', items });
export const map = (entries: YEntry[]): YNode => ({ kind: 'map', entries });
export const seq = (items: YItem[]): YNode => ({ kind: 'seq', items });

// Plain scalars YAML would read as something else (bool, null, number) or that contain syntax.
const RESERVED = /^(?:true|false|yes|no|on|off|y|n|null|~|[-+]?(?:\d[\d_]*)?(?:\.\d+)?(?:e[-+]?\d+)?|0x[0-9a-f]+|0o[0-7]+|\.inf|\.nan)$/i;

export function yamlString(text: string): string {
  const plain =
    text !== '' &&
    !RESERVED.test(text) &&
    /^(?:[A-Za-z0-9_./@]|-[A-Za-z-])[A-Za-z0-9_./@:+=-]*$/.test(text) &&
    !text.includes(': ') &&
    !text.endsWith(':');
  return plain ? text : JSON.stringify(text);
}

function scalarText(value: YValue): string {
  return typeof value === 'string' ? yamlString(value) : String(value);
}

function inline(node: YNode): string | undefined {
  if (node.kind === 'scalar') return scalarText(node.value);
  if (node.kind === 'flow') return `[${node.items.map(scalarText).join(', ')}]`;
  if (node.kind === 'seq' && node.items.length === 0) return '[]';
  if (node.kind === 'map' && node.entries.length === 0) return '{}';
  return undefined;
}

function withComment(line: string, comment: string | undefined): string {
  return comment === undefined ? line : `${line}  # ${comment}`;
}

function renderEntries(entries: YEntry[], indent: string, out: string[]): void {
  for (const entry of entries) {
    const prefix = entry.disabled === true ? `${indent}# ` : indent;
    for (const line of entry.above ?? []) out.push(`${indent}# ${line}`);
    const text = inline(entry.value);
    if (text !== undefined) {
      out.push(withComment(`${prefix}${entry.key}: ${text}`, entry.comment));
      continue;
    }
    out.push(withComment(`${prefix}${entry.key}:`, entry.comment));
    renderBlock(entry.value, `${indent}  `, out, entry.disabled === true);
  }
}

function renderBlock(node: YNode, indent: string, out: string[], disabled: boolean): void {
  const lines: string[] = [];
  if (node.kind === 'map') renderEntries(node.entries, indent, lines);
  else if (node.kind === 'seq') {
    for (const item of node.items) {
      const text = inline(item.value);
      if (text !== undefined) {
        lines.push(withComment(`${indent}- ${text}`, item.comment));
        continue;
      }
      const nested: string[] = [];
      renderBlock(item.value, `${indent}  `, nested, false);
      // "- " takes the place of the first nested line's indentation.
      const first = nested.shift() ?? '';
      lines.push(withComment(`${indent}- ${first.slice(indent.length + 2)}`, item.comment), ...nested);
    }
  }
  for (const line of lines) out.push(disabled && !line.trimStart().startsWith('#') ? `# ${line}` : line);
}

/** The document: header comment lines, then the top-level entries. */
export function renderYaml(header: string[], entries: YEntry[]): string {
  const out = header.map((line) => (line === '' ? '#' : `# ${line}`));
  if (out.length > 0) out.push('');
  renderEntries(entries, '', out);
  return `${out.join('\n')}\n`;
}
