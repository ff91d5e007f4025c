import { GxitError, messageOf } from '../errors.js';
import { redactLine, redactUrlUserinfo } from '../redact.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The only place where an error becomes an exit code. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof GxitError && (error.kind === 'config' || error.kind === 'usage')) return EXIT_USAGE;
  return EXIT_FAILURE;
}

/** One line: what failed (with its subject) and what to do. */
export function formatError(error: unknown): string {
  // redactLine: whatever a message quotes, a URL password is masked and a control character cannot
  // start a second line (the last guard; messages are meant to be safe already).
  if (error instanceof GxitError) {
    return redactLine(error.fix ? `error: ${error.message} (${error.fix})` : `error: ${error.message}`);
  }
  return redactLine(`error: ${messageOf(error)} (this is unexpected: run again with --verbose and report it)`);
}

/** The error as data, for --json. */
export function errorData(error: unknown): { code: string; message: string; subject?: string; fix?: string } {
  // JSON escapes control characters itself; URL passwords are masked as in the text form.
  const mask = (text: string | undefined): string | undefined => (text === undefined ? undefined : redactUrlUserinfo(text));
  if (error instanceof GxitError) {
    return { code: error.code, message: redactUrlUserinfo(error.message), subject: mask(error.subject), fix: mask(error.fix) };
  }
  return { code: 'INTERNAL', message: redactUrlUserinfo(messageOf(error)) };
}

/** Stack and cause chain, shown only with --verbose. */
export function formatVerbose(error: unknown): string {
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    lines.push(current instanceof Error ? (current.stack ?? current.message) : String(current));
    current = current instanceof Error ? current.cause : undefined;
    if (current !== undefined) lines.push('caused by:');
  }
  return lines.join('\n');
}

/** A command that failed as a whole: the error as JSON or as one line (+ details with --verbose). */
export function reportCommandError(
  error: unknown,
  opts: { json?: boolean; verbose?: boolean },
  warnings: string[],
  streams: { out: NodeJS.WritableStream; err: NodeJS.WritableStream } = { out: process.stdout, err: process.stderr },
): number {
  if (opts.json) {
    streams.out.write(`${JSON.stringify({ ok: false, error: errorData(error), warnings }, null, 2)}\n`);
  } else {
    streams.err.write(`${formatError(error)}\n`);
    if (opts.verbose) streams.err.write(`${formatVerbose(error)}\n`);
  }
  return exitCodeFor(error);
}
