/**
 * Step 5 of the configuration pipeline: secret references -> secrets. A TSIG secret comes from exactly one
 * of `secret:` (inline), `secret_file:`, `secret_env:` or, when the file names a key but no secret, the
 * environment variable GXIT_CERT_TSIG_SECRET. A secret file holds the base64 secret (a trailing newline
 * is fine), a BIND key statement (`key "name" { algorithm hmac-sha512; secret "..."; };`, as written by
 * tsig-keygen) or a certbot-dns-rfc2136 credentials file (`dns_rfc2136_secret = ...`).
 *
 * File access and the environment are passed in. No secret value ever appears in a problem or warning.
 */
import { isFileReadError, readBoundedFileSync } from '../files/read.js';
import { TSIG_SECRET_ENV } from './defaults.js';
import type { ConfigProblem } from './problems.js';
import { formatProblem } from './problems.js';
import type { Config, DnsConfig, Rfc2136Config, Route53Config, TsigAlgorithm } from './types.js';
import type { ConfigDraft, Place, Rfc2136Draft, Route53Draft, SecretRef } from './validate.js';
import { TSIG_ALGORITHM_SPELLINGS, decodeBase64Secret, normalizeKeyName, parseTsigAlgorithm } from './values.js';

export interface SecretFile {
  data: Buffer | string;
  /** st_mode (permission bits at least), when known. */
  mode?: number;
}

/** Reads a secret file; throws errors with a Node `code` (ENOENT, EACCES, ...) like node:fs. */
export type SecretFileReader = (path: string) => SecretFile;

export interface SecretSources {
  env: NodeJS.ProcessEnv;
  readSecretFile: SecretFileReader;
}

/** Largest secret file read (a key file is a few hundred bytes; this keeps /dev/zero and logs out). */
export const MAX_SECRET_FILE_BYTES = 64 * 1024;

/** Reads a regular file of at most MAX_SECRET_FILE_BYTES, returning its content and mode (files/read.ts). */
export function readSecretFileSync(path: string): SecretFile {
  const file = readBoundedFileSync(path, { kind: 'secret', maxBytes: MAX_SECRET_FILE_BYTES });
  return { data: file.data, mode: file.mode };
}

// ------------------------------------------------------------------------------------- key files

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

// ---------------------------------------------------------------------------------------- resolve

export interface SecretsResult {
  config?: Config;
  problems: ConfigProblem[];
  warnings: string[];
}

/** Reads every secret the draft refers to and returns the final Config (its warnings included). */
export function resolveSecrets(draft: ConfigDraft, sources: SecretSources): SecretsResult {
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  const report = (at: Place, code: ConfigProblem['code'], message: string, fix: string): undefined => {
    problems.push({ code, source: at.source, line: at.line, path: at.path, message, fix });
    return undefined;
  };
  const warn = (at: Place, message: string): void => {
    warnings.push(formatProblem({ code: 'CONFIG_INVALID', ...at, message }));
  };
  const context: ResolveContext = { sources, report, warn };

  const dns: DnsConfig = {
    provider: draft.dns.provider,
    ...(draft.dns.resolvers === undefined ? {} : { resolvers: draft.dns.resolvers }),
    propagationTimeout: draft.dns.propagationTimeout,
    propagationInterval: draft.dns.propagationInterval,
    propagationCheck: draft.dns.propagationCheck,
    nameserverPort: draft.dns.nameserverPort,
    ...(draft.dns.expectTarget === undefined ? {} : { expectTarget: draft.dns.expectTarget }),
  };
  if (draft.dns.rfc2136 !== undefined) {
    const rfc2136 = resolveRfc2136(draft.dns.rfc2136, context);
    if (rfc2136 !== undefined) dns.rfc2136 = rfc2136;
  }
  if (draft.dns.route53 !== undefined) {
    const route53 = resolveRoute53(draft.dns.route53, context);
    if (route53 !== undefined) dns.route53 = route53;
  }
  if (problems.length > 0) return { problems, warnings };
  return { config: { ...draft, dns, warnings: [...draft.warnings, ...warnings] }, problems, warnings };
}

interface ResolveContext {
  sources: SecretSources;
  report: (at: Place, code: ConfigProblem['code'], message: string, fix: string) => undefined;
  warn: (at: Place, message: string) => void;
}

function resolveRfc2136(draft: Rfc2136Draft, context: ResolveContext): Rfc2136Config | undefined {
  const { at, tsig, ...rest } = draft;
  const envSecret = context.sources.env[TSIG_SECRET_ENV];
  if (tsig === undefined) {
    if (envSecret !== undefined && envSecret !== '') {
      return context.report(
        { ...at, path: `${at.path}.name` },
        'CONFIG_INVALID',
        `${TSIG_SECRET_ENV} is set but no TSIG key name is configured`,
        `add name: with the TSIG key name under ${at.path}, or unset ${TSIG_SECRET_ENV} for unsigned updates`,
      );
    }
    return rest;
  }
  const ref = tsig.secret;
  if (ref.kind !== 'env' || !ref.implicit) {
    if (envSecret !== undefined && envSecret !== '') context.warn(ref.at, `takes precedence: ${TSIG_SECRET_ENV} is set but not used`);
  }

  let name = tsig.name;
  let algorithm: TsigAlgorithm = tsig.algorithm;
  let secretText: string | undefined;

  if (ref.kind === 'inline') {
    secretText = ref.value;
  } else if (ref.kind === 'env') {
    const value = context.sources.env[ref.variable];
    if (value === undefined || value.trim() === '') {
      return ref.implicit
        ? context.report(
            ref.at,
            'SECRET_UNAVAILABLE',
            `the TSIG key ${JSON.stringify(name)} has no secret: none is written and ${TSIG_SECRET_ENV} is not set`,
            `add secret_file: with the path of the key file (or secret_env:), or set ${TSIG_SECRET_ENV}`,
          )
        : context.report(ref.at, 'SECRET_UNAVAILABLE', `environment variable ${ref.variable} is not set`, `export ${ref.variable} with the base64 TSIG secret, or use secret_file:`);
    }
    secretText = value;
  } else {
    const file = readFileRef(ref, context);
    if (file === undefined) return undefined;
    const parsed = parseKeyFile(file);
    if ('error' in parsed) return context.report(ref.at, 'CONFIG_INVALID', `${ref.file} ${parsed.error}`, 'write the base64 secret alone, or a BIND key statement from tsig-keygen');
    const chosen = chooseKey(parsed.keys, name, ref, context);
    if (chosen === undefined) return undefined;
    if (chosen.name !== undefined) {
      const fileName = normalizeKeyName(chosen.name);
      if (!fileName.ok) return context.report(ref.at, 'CONFIG_INVALID', `the key name in ${ref.file} ${fileName.reason}`, 'correct the key name in the key file');
      if (name === undefined) name = fileName.value;
      else if (fileName.value !== name) {
        return context.report(tsig.nameAt, 'CONFIG_INVALID', `is ${JSON.stringify(name)} but ${ref.file} holds the key ${JSON.stringify(fileName.value)}`, `write name: ${fileName.value}, or point secret_file at the key file for ${name}`);
      }
    }
    if (chosen.algorithm !== undefined) {
      const fileAlgorithm = parseTsigAlgorithm(chosen.algorithm);
      if (fileAlgorithm === undefined) {
        return context.report(ref.at, 'CONFIG_INVALID', `${ref.file} names the unknown TSIG algorithm ${JSON.stringify(chosen.algorithm)}`, `use one of ${TSIG_ALGORITHM_SPELLINGS}`);
      }
      if (!tsig.algorithmExplicit) algorithm = fileAlgorithm;
      else if (fileAlgorithm !== algorithm) {
        return context.report(tsig.algorithmAt, 'CONFIG_INVALID', `is ${algorithm} but ${ref.file} says ${fileAlgorithm}`, `write algorithm: ${fileAlgorithm} (or remove it to use the key file's)`);
      }
    }
    if (chosen.secret === undefined) return context.report(ref.at, 'CONFIG_INVALID', `${ref.file} has no secret for the key`, 'add the secret to the key file');
    secretText = chosen.secret;
  }

  if (name === undefined) {
    return context.report(tsig.nameAt, 'CONFIG_INVALID', 'is missing: the TSIG secret needs its key name', `add name: with the key name from the server's key statement (e.g. certbot-training.)`);
  }
  const secret = decodeBase64Secret(secretText);
  if (secret === undefined) {
    const from = ref.kind === 'file' ? `the secret in ${ref.file}` : ref.kind === 'env' ? `environment variable ${ref.variable}` : 'the secret';
    return context.report(ref.at, 'CONFIG_INVALID', `${from} is not base64`, 'use the base64 secret exactly as in the server\'s key statement (e.g. from tsig-keygen)');
  }
  return { ...rest, tsig: { name, algorithm, secret } };
}

function chooseKey(keys: KeyFileEntry[], name: string | undefined, ref: SecretRef & { kind: 'file' }, context: ResolveContext): KeyFileEntry | undefined {
  if (keys.length === 0) return context.report(ref.at, 'CONFIG_INVALID', `${ref.file} holds no key statement`, 'write a key "name" { algorithm ...; secret "..."; }; statement, or the base64 secret alone');
  if (keys.length === 1) return keys[0];
  const names = keys.map((key) => (key.name === undefined ? undefined : normalizeKeyName(key.name))).map((parsed) => (parsed?.ok ? parsed.value : undefined));
  if (name === undefined) {
    return context.report(ref.at, 'CONFIG_INVALID', `${ref.file} holds ${keys.length} keys (${names.filter(Boolean).join(', ')})`, 'add name: to choose one of them');
  }
  const index = names.indexOf(name);
  if (index < 0) return context.report(ref.at, 'CONFIG_INVALID', `${ref.file} has no key named ${JSON.stringify(name)} (it has ${names.filter(Boolean).join(', ')})`, 'correct name:, or point secret_file at the right key file');
  return keys[index];
}

function resolveRoute53(draft: Route53Draft, context: ResolveContext): Route53Config | undefined {
  const { secretAccessKey, ...rest } = draft;
  if (secretAccessKey === undefined) return rest;
  let value: string | undefined;
  if (secretAccessKey.kind === 'inline') value = secretAccessKey.value;
  else if (secretAccessKey.kind === 'file') value = readFileRef(secretAccessKey, context);
  else value = context.sources.env[secretAccessKey.variable];
  if (value === undefined) return undefined;
  const key = value.trim();
  if (key === '' || /\s/.test(key)) {
    return context.report(secretAccessKey.at, 'CONFIG_INVALID', secretAccessKey.kind === 'file' ? `${secretAccessKey.file} does not hold a single secret access key` : 'is not a secret access key', 'write the secret access key alone on one line');
  }
  return { ...rest, secretAccessKey: key };
}

/** Reads a secret file as text; warns when every user may read it. */
function readFileRef(ref: SecretRef & { kind: 'file' }, context: ResolveContext): string | undefined {
  let file: SecretFile;
  try {
    file = context.sources.readSecretFile(ref.file);
  } catch (error) {
    const code = isFileReadError(error) ? error.errno : (error as NodeJS.ErrnoException | undefined)?.code;
    if (isFileReadError(error) && (error.problem === 'not-regular' || error.problem === 'too-large' || error.problem === 'symlink')) {
      return context.report(ref.at, 'SECRET_UNAVAILABLE', `${ref.file} ${error.reason}`, error.fix ?? 'point it at a regular file holding the secret');
    }
    const reason =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EACCES' || code === 'EPERM'
          ? 'cannot be read (permission denied)'
          : code === 'EISDIR' || code === 'ENOTFILE'
            ? 'is not a regular file'
            : code === 'ETOOBIG'
              ? `is larger than ${MAX_SECRET_FILE_BYTES} bytes, too large for a key file`
              : `cannot be read (${code ?? 'error'})`;
    const fix =
      code === 'EACCES' || code === 'EPERM'
        ? 'run gxit-cert as a user that may read it (root), or give that user read access'
        : 'correct the path, or create the file with the secret (mode 0600)';
    return context.report(ref.at, 'SECRET_UNAVAILABLE', `${ref.file} ${reason}`, fix);
  }
  if (file.mode !== undefined && (file.mode & 0o004) !== 0) {
    context.warn(ref.at, `${ref.file} is readable by every user (mode ${(file.mode & 0o777).toString(8).padStart(4, '0')}); run chmod 600 ${ref.file}`);
  }
  const text = typeof file.data === 'string' ? file.data : file.data.toString('utf8');
  if (text.trim() === '') return context.report(ref.at, 'SECRET_UNAVAILABLE', `${ref.file} is empty`, 'write the secret into the file');
  return text;
}
