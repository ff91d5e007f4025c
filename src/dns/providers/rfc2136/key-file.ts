/**
 * What a TSIG secret file holds: the base64 secret alone (a trailing newline is fine), a BIND key
 * statement (`key "name" { algorithm hmac-sha512; secret "..."; };`, as written by tsig-keygen) or a
 * certbot-dns-rfc2136 credentials file (`dns_rfc2136_secret = ...`). Pure: the text in, the keys out.
 */

export interface KeyFileEntry {
  /** As written (not normalized). */
  name?: string;
  algorithm?: string;
  /** The base64 text; never print it. */
  secret?: string;
}

export type KeyFileFormat = 'plain' | 'bind' | 'certbot-ini';

/** What a secret file holds. A plain file yields one entry with only a secret. */
export function parseKeyFile(text: string): { format: KeyFileFormat; keys: KeyFileEntry[] } | { error: string } {
  const content = text.replace(/^\uFEFF/, '');
  if (/^\s*dns_rfc2136_[a-z_]+\s*=/m.test(content)) return parseCertbotIni(content);
  const tokens = tokenizeBind(content);
  if (tokens !== undefined && tokens.some((token) => token.type === 'word' && token.text === 'key')) return parseBindKeys(tokens);
  const trimmed = content.trim();
  if (trimmed === '') return { error: 'is empty' };
  return { format: 'plain', keys: [{ secret: trimmed }] };
}

function parseCertbotIni(content: string): { format: 'certbot-ini'; keys: KeyFileEntry[] } {
  const entry: KeyFileEntry = {};
  for (const line of content.split(/\r?\n/)) {
    const match = /^\s*dns_rfc2136_([a-z_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (!match) continue;
    const value = match[2] ?? '';
    if (match[1] === 'name') entry.name = value;
    else if (match[1] === 'secret') entry.secret = value;
    else if (match[1] === 'algorithm') entry.algorithm = value;
  }
  return { format: 'certbot-ini', keys: [entry] };
}

type BindToken = { type: 'word' | 'string' | 'punct'; text: string };

/** Tokens of named.conf syntax (comments #, //, /* *\/ skipped outside strings); undefined if malformed. */
function tokenizeBind(text: string): BindToken[] | undefined {
  const tokens: BindToken[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === '#' || (c === '/' && text[i + 1] === '/')) {
      while (i < text.length && text[i] !== '\n') i += 1;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) return undefined;
      i = end + 2;
    } else if (c === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) return undefined;
      tokens.push({ type: 'string', text: text.slice(i + 1, end) });
      i = end + 1;
    } else if (c === '{' || c === '}' || c === ';') {
      tokens.push({ type: 'punct', text: c });
      i += 1;
    } else {
      let j = i;
      while (j < text.length && !/[\s{};"#]/.test(text[j]!)) j += 1;
      tokens.push({ type: 'word', text: text.slice(i, j) });
      i = j;
    }
  }
  return tokens;
}

function parseBindKeys(tokens: BindToken[]): { format: 'bind'; keys: KeyFileEntry[] } | { error: string } {
  const keys: KeyFileEntry[] = [];
  let i = 0;
  const malformed = { error: 'looks like a BIND key file but its key statement is malformed' };
  while (i < tokens.length) {
    const token = tokens[i]!;
    if (!(token.type === 'word' && token.text === 'key')) {
      // Skip other statements (e.g. a whole named.conf fragment) up to their end.
      let depth = 0;
      while (i < tokens.length) {
        const t = tokens[i]!;
        i += 1;
        if (t.type === 'punct' && t.text === '{') depth += 1;
        else if (t.type === 'punct' && t.text === '}') depth -= 1;
        else if (t.type === 'punct' && t.text === ';' && depth <= 0) break;
      }
      continue;
    }
    const nameToken = tokens[i + 1];
    const open = tokens[i + 2];
    if (nameToken === undefined || nameToken.type === 'punct' || open?.text !== '{') return malformed;
    const entry: KeyFileEntry = { name: nameToken.text };
    i += 3;
    while (i < tokens.length && tokens[i]!.text !== '}') {
      const clause = tokens[i]!;
      const value = tokens[i + 1];
      const end = tokens[i + 2];
      if (clause.type !== 'word' || value === undefined || value.type === 'punct' || end?.text !== ';') return malformed;
      if (clause.text === 'algorithm') entry.algorithm = value.text;
      else if (clause.text === 'secret') entry.secret = value.text;
      i += 3;
    }
    if (tokens[i]?.text !== '}') return malformed;
    i += 1;
    if (tokens[i]?.text === ';') i += 1;
    keys.push(entry);
  }
  return { format: 'bind', keys };
}
