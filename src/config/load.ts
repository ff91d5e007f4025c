/**
 * The configuration pipeline, the only producer of Config:
 *
 *   text --parseYamlTree--> tree --applyAliases--> native tree --applyDefaults--> tree
 *        --validateTree--> ConfigDraft (secrets as references) --resolveSecrets--> Config
 *
 * Each step is a function of its own module, testable alone. Problems of one step are collected and
 * thrown together as one ConfigError (message: the first problem as `<file>:<line>: <key>: <what>`,
 * plus "(and N more problems)"); later steps do not run on a broken tree.
 *
 * `parseConfigText` reads nothing from the process: the environment defaults to an empty one and secret
 * files are read through `readSecretFile`. `loadConfig` is the edge that reads the file and passes
 * `process.env`.
 */
import { dirname, isAbsolute, resolve as resolvePath } from 'node:path';
import { GxitError } from '../errors.js';
import { isFileReadError, readBoundedFile } from '../files/read.js';
import { showPath } from '../redact.js';
import { applyAliases } from './aliases.js';
import { applyDefaults, DEFAULT_CONFIG_PATH } from './defaults.js';
import { ConfigError, sortProblems, type ConfigProblem } from './problems.js';
import { sectionKey, type ProviderSection } from './provider-section.js';
import { readSecretFileSync, resolveSecrets, type SecretFileReader } from './secrets.js';
import { get, parseYamlTree, type MapNode } from './tree.js';
import type { Config } from './types.js';
import { validateTree } from './validate.js';

export { DEFAULT_CONFIG_PATH } from './defaults.js';

export interface ParseOptions {
  /**
   * The registered DNS providers (src/dns/providers/registry.ts). Passed in by src/cli, the composition
   * root, so that config imports no provider: a new provider changes nothing here.
   */
  providers: readonly ProviderSection[];
  /** Environment for secret_env and the providers' variables (GXIT_CERT_TSIG_SECRET). Default: empty (parseConfigText is pure). */
  env?: NodeJS.ProcessEnv;
  /** Directory relative paths are resolved against. Default: the directory of `source` if absolute, else the cwd. */
  baseDir?: string;
  /** Reads secret files. Default: node:fs (regular files up to 64 KiB). */
  readSecretFile?: SecretFileReader;
  /** st_mode of the configuration file, when read from one: a world-readable file with an inline secret is warned about. */
  fileMode?: number;
}

export interface LoadOptions extends ParseOptions {
  /** Reads the configuration file. Default: the bounded regular-file reader (files/read.ts). Env default here: process.env. */
  readFile?: (path: string) => Promise<Buffer | string>;
}

export interface EvaluatedConfig {
  config?: Config;
  /** Empty when config is set. In file order. */
  problems: ConfigProblem[];
  warnings: string[];
}

/**
 * Runs the whole pipeline without throwing: the Config, or every problem found (for `check`-style output).
 * Secrets are resolved only when the file itself is valid.
 */
export function evaluateConfigText(text: string, source: string, options: ParseOptions): EvaluatedConfig {
  const parsed = parseYamlTree(text, source);
  if (parsed.tree === undefined || parsed.problems.length > 0) return { problems: sortProblems(parsed.problems), warnings: [] };

  const aliased = applyAliases(parsed.tree, source, options.providers);
  const defaulted = applyDefaults(aliased.root, options.providers);
  const baseDir = options.baseDir ?? (isAbsolute(source) ? dirname(source) : process.cwd());
  const validated = validateTree(defaulted, { source, baseDir, providers: options.providers });
  const warnings = [...aliased.warnings, ...validated.warnings];
  const problems = [...aliased.problems, ...validated.problems];
  if (validated.draft === undefined && problems.length === 0) {
    // Every path that yields no draft reports a problem; this keeps a missed one from passing silently.
    problems.push({ code: 'CONFIG_INVALID', source, line: 0, path: '', message: 'the configuration is incomplete', fix: 'see the configuration reference' });
  }
  if (problems.length > 0 || validated.draft === undefined) return { problems: sortProblems(problems), warnings };

  // A follower's file may hold a dns: section it never uses: its inline secrets are still in the file.
  const inline = inlineSecretKeys(defaulted, options.providers);
  if (options.fileMode !== undefined && (options.fileMode & 0o004) !== 0 && inline.length > 0) {
    const mode = (options.fileMode & 0o777).toString(8).padStart(4, '0');
    warnings.push(`${showPath(source)}: holds an inline secret (${inline.join(', ')}) and is readable by every user (mode ${mode}); run chmod 600 ${showPath(source)}, or move the secret to a file (secret_file:)`);
  }
  const draft = { ...validated.draft, warnings };
  const resolved = resolveSecrets(draft, { env: options.env ?? {}, readSecretFile: options.readSecretFile ?? readSecretFileSync });
  if (resolved.config === undefined) return { problems: sortProblems(resolved.problems), warnings: [...warnings, ...resolved.warnings] };
  return { config: resolved.config, problems: [], warnings: resolved.config.warnings };
}

/** Parses configuration text; throws ConfigError (a GxitError) listing every problem. */
export function parseConfigText(text: string, source: string, options: ParseOptions): Config {
  const result = evaluateConfigText(text, source, options);
  if (result.config === undefined) throw new ConfigError(result.problems);
  return result.config;
}

/**
 * Reads and parses the configuration file. Throws GxitError CONFIG_NOT_FOUND / CONFIG_UNREADABLE for the
 * file itself, and ConfigError (CONFIG_SYNTAX, CONFIG_INVALID, SECRET_UNAVAILABLE) for its content.
 */
export async function loadConfig(path: string = DEFAULT_CONFIG_PATH, options: LoadOptions): Promise<Config> {
  let data: Buffer | string;
  let fileMode: number | undefined;
  try {
    if (options.readFile !== undefined) {
      data = await options.readFile(path);
    } else {
      const file = await readBoundedFile(path, { kind: 'config' });
      data = file.data;
      fileMode = file.mode;
    }
  } catch (error) {
    // A missing file gets the fuller hint below; the bounded reader's other errors are already one line.
    if (isFileReadError(error) && error.problem !== 'missing') throw error;
    throw fileError(path, error);
  }
  const text = typeof data === 'string' ? data : data.toString('utf8');
  return parseConfigText(text, path, {
    providers: options.providers,
    env: options.env ?? process.env,
    baseDir: options.baseDir ?? dirname(resolvePath(path)),
    ...(options.readSecretFile === undefined ? {} : { readSecretFile: options.readSecretFile }),
    ...(fileMode === undefined ? {} : { fileMode }),
  });
}

/** Key paths of the secrets written in the file itself: the chosen provider's secretKeys (its descriptor says which). */
function inlineSecretKeys(root: MapNode, providers: readonly ProviderSection[]): string[] {
  const dns = get(root, 'dns');
  if (dns?.kind !== 'map') return [];
  const written = get(dns, 'provider');
  const name = written?.kind === 'scalar' && typeof written.value === 'string' ? written.value.trim() : undefined;
  const provider = providers.find((p) => p.name === name);
  const section = provider === undefined ? undefined : get(dns, sectionKey(provider));
  if (section?.kind !== 'map') return [];
  const keys = provider?.secretKeys ?? [];
  return keys.flatMap((key) => {
    const node = get(section, key);
    return node?.kind === 'scalar' && typeof node.value === 'string' && node.value.trim() !== '' ? [node.path] : [];
  });
}

function fileError(path: string, error: unknown): GxitError {
  const code = isFileReadError(error) ? error.errno : (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new GxitError('CONFIG_NOT_FOUND', `${showPath(path)}: the configuration file does not exist`, {
      subject: path,
      fix: `create ${showPath(path)} (email:, certificates:, dns:), or name another file with --config`,
      cause: error,
    });
  }
  const reason =
    code === 'EACCES' || code === 'EPERM'
      ? 'permission denied'
      : code === 'EISDIR'
        ? 'it is a directory'
        : (code ?? (error instanceof Error ? error.message : String(error)));
  return new GxitError('CONFIG_UNREADABLE', `${showPath(path)}: the configuration file cannot be read (${reason})`, {
    subject: path,
    fix: code === 'EACCES' || code === 'EPERM' ? 'run gxit-cert as root, or give this user read access to the file' : `check that ${showPath(path)} is a readable file`,
    cause: error,
  });
}
