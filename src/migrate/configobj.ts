/**
 * certbot's renewal/<name>.conf files are written by Python's configobj. This is the subset of its
 * syntax that certbot (0.x to 4.x) writes and that admins edit by hand:
 *
 *   # comment                       whole-line comments; `value  # comment` after an unquoted value
 *   key = value                     unquoted: surrounding blanks dropped
 *   key = "a # b" | 'a, b'          quoted: kept verbatim (a "#" or "," inside is not special)
 *   key = a, b, c  |  key = a,      a comma makes a list (a trailing comma: a list of one)
 *   key =                           the empty string
 *   [section]  [[subsection]]       nesting by the number of brackets
 *
 * certbot writes Python's None as the string "None"; `isNone` tells. Parsing is pure and reports
 * every line it cannot read, with its number; `setRenewalParam` edits one value and keeps all the
 * rest of the file (comments, order) as it was.
 */

export type CoValue = string | string[];

export interface CoEntry {
  value: CoValue;
  /** 1-based line of the key. */
  line: number;
}

export interface CoSection {
  values: Map<string, CoEntry>;
  sections: Map<string, CoSection>;
  /** 1-based line of the header (0 for the top level). */
  line: number;
}

export interface CoProblem {
  line: number;
  message: string;
}

export interface CoParseResult {
  root: CoSection;
  problems: CoProblem[];
}

function section(line: number): CoSection {
  return { values: new Map(), sections: new Map(), line };
}

export function parseConfigObj(text: string): CoParseResult {
  const root = section(0);
  const problems: CoProblem[] = [];
  // stack[d] is the open section at depth d (root = 0).
  const stack: CoSection[] = [root];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const header = /^(\[+)\s*(.*?)\s*(\]+)\s*(#.*)?$/.exec(line);
    if (header) {
      const depth = header[1]!.length;
      const name = unquote(header[2]!);
      if (header[3]!.length !== depth || name === '') {
        problems.push({ line: lineNo, message: `cannot read the section header ${line}` });
        return;
      }
      if (depth > stack.length) {
        problems.push({ line: lineNo, message: `section ${name} is nested ${depth} deep under a section only ${stack.length - 1} deep` });
        return;
      }
      const parent = stack[depth - 1]!;
      const child = parent.sections.get(name) ?? section(lineNo);
      parent.sections.set(name, child);
      stack.length = depth;
      stack.push(child);
      return;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) {
      problems.push({ line: lineNo, message: `cannot read ${JSON.stringify(line)} (expected key = value)` });
      return;
    }
    const key = unquote(line.slice(0, eq).trim());
    const parsed = parseValue(line.slice(eq + 1));
    if (typeof parsed === 'object' && 'error' in parsed) {
      problems.push({ line: lineNo, message: `${key}: ${parsed.error}` });
      return;
    }
    const current = stack[stack.length - 1]!;
    if (current.values.has(key)) problems.push({ line: lineNo, message: `${key} is set twice` });
    current.values.set(key, { value: parsed, line: lineNo });
  });
  return { root, problems };
}

function unquote(text: string): string {
  if (text.length >= 2 && (text[0] === '"' || text[0] === "'") && text.endsWith(text[0])) return text.slice(1, -1);
  return text;
}

/** One value: a scalar or a comma-separated list of scalars, each quoted or not; an unquoted "#" starts a comment. */
function parseValue(input: string): CoValue | { error: string } {
  const items: string[] = [];
  let sawComma = false;
  let i = 0;
  const skipBlanks = (): void => {
    while (i < input.length && (input[i] === ' ' || input[i] === '\t')) i++;
  };
  for (;;) {
    skipBlanks();
    if (i >= input.length || input[i] === '#') break;
    const quote = input[i];
    if (quote === '"' || quote === "'") {
      if (input.startsWith(quote.repeat(3), i)) return { error: 'triple-quoted (multi-line) values are not supported; write the value on one line' };
      const end = input.indexOf(quote, i + 1);
      if (end < 0) return { error: `the ${quote} quote is not closed` };
      items.push(input.slice(i + 1, end));
      i = end + 1;
    } else {
      let end = i;
      while (end < input.length && input[end] !== ',' && input[end] !== '#') end++;
      items.push(input.slice(i, end).trim());
      i = end;
    }
    skipBlanks();
    if (i >= input.length || input[i] === '#') break;
    if (input[i] !== ',') return { error: `unexpected text after the value: ${input.slice(i).trim()}` };
    sawComma = true;
    i++;
    skipBlanks();
    if (i >= input.length || input[i] === '#') break; // "a," is a list of one
  }
  if (!sawComma) return items[0] ?? '';
  return items;
}

/** certbot stores Python's None as the text "None". */
export function isNone(value: CoValue | undefined): boolean {
  return value === undefined || value === 'None';
}

/** A scalar setting, undefined when absent or None. A list is joined back with ", " (how certbot reads a hook with commas). */
export function scalarOf(sectionOf: CoSection | undefined, key: string): string | undefined {
  const entry = sectionOf?.values.get(key);
  if (entry === undefined || isNone(entry.value)) return undefined;
  return Array.isArray(entry.value) ? entry.value.join(', ') : entry.value;
}

/** configobj's booleans (as_bool): true/yes/on/1 and false/no/off/0, any case. */
export function parseBool(value: string): boolean | undefined {
  const v = value.toLowerCase();
  if (['true', 'yes', 'on', '1'].includes(v)) return true;
  if (['false', 'no', 'off', '0'].includes(v)) return false;
  return undefined;
}

/**
 * The text with `key = value` set in [renewalparams]: the existing line is replaced (its indentation
 * kept), or a line is added right after the section header; a file without the section gets it at
 * the end. Every other byte stays as it was.
 */
export function setRenewalParam(text: string, key: string, value: string): string {
  const newline = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.split(/\r?\n/);
  let inParams = false;
  let headerIndex = -1;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    const header = /^(\[+)\s*(.*?)\s*\]+/.exec(line);
    if (header) {
      inParams = header[1]!.length === 1 && unquote(header[2]!) === 'renewalparams';
      if (inParams) headerIndex = i;
      continue;
    }
    if (!inParams || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq > 0 && unquote(line.slice(0, eq).trim()) === key) {
      const indent = /^\s*/.exec(lines[i]!)?.[0] ?? '';
      lines[i] = `${indent}${key} = ${value}`;
      return lines.join(newline);
    }
  }
  if (headerIndex >= 0) {
    lines.splice(headerIndex + 1, 0, `${key} = ${value}`);
    return lines.join(newline);
  }
  const body = text.endsWith(newline) || text === '' ? text : `${text}${newline}`;
  return `${body}[renewalparams]${newline}${key} = ${value}${newline}`;
}
