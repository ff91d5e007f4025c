/**
 * Configuration problems: what is wrong, where (file, line, key path) and what to write instead.
 *
 * Every step of the configuration pipeline collects problems instead of stopping at the first;
 * the pipeline throws one ConfigError that carries the first (by line) in its message and all
 * of them in `problems`, so the CLI can list every problem at once.
 *
 * No message or fix may contain a secret value: callers never pass values of secret keys here.
 */
import { GxitError, type ErrorCode } from '../errors.js';
import { redactLine } from '../redact.js';

export type ConfigProblemCode = Extract<ErrorCode, 'CONFIG_SYNTAX' | 'CONFIG_INVALID' | 'SECRET_UNAVAILABLE'>;

/** A place in the configuration file: the line and the key path as the user wrote it. */
export interface Location {
  source: string;
  /** 1-based line; 0 when the place is the whole file. */
  line: number;
  /** Key path as written, e.g. `dns.rfc2136.algorithm`, `certbot_domains[1]`; empty for the whole file. */
  path: string;
}

export interface ConfigProblem extends Location {
  code: ConfigProblemCode;
  /** What is wrong, without the location prefix. */
  message: string;
  /** What to write instead. */
  fix?: string;
}

/** `<file>:<line>: <key path>: <what is wrong>` (line and path left out where they do not apply). */
export function formatProblem(problem: ConfigProblem): string {
  const where = problem.line > 0 ? `${problem.source}:${problem.line}` : problem.source;
  // Paths hold keys already shown through showKey and values through showValue; redactLine is the last
  // guard for what a message quotes otherwise (a URL with a password, a control character in a file name).
  return redactLine(problem.path ? `${where}: ${problem.path}: ${problem.message}` : `${where}: ${problem.message}`);
}

/** Problems in file order (stable for problems on the same line). */
export function sortProblems(problems: readonly ConfigProblem[]): ConfigProblem[] {
  return problems
    .map((problem, index) => ({ problem, index }))
    .sort((a, b) => a.problem.line - b.problem.line || a.index - b.index)
    .map(({ problem }) => problem);
}

/** The error thrown for one or more configuration problems; `problems` holds all of them in file order. */
export class ConfigError extends GxitError {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const sorted = sortProblems(problems);
    const first = sorted[0];
    if (first === undefined) throw new TypeError('ConfigError needs at least one problem');
    const more = sorted.length - 1;
    const suffix = more === 0 ? '' : ` (and ${more} more problem${more === 1 ? '' : 's'})`;
    super(first.code, formatProblem(first) + suffix, {
      subject: first.path || first.source,
      ...(first.fix === undefined ? {} : { fix: redactLine(first.fix) }),
    });
    this.name = 'ConfigError';
    this.problems = sorted;
  }
}
