/**
 * What every check-dns check produces: one result per thing looked at, with a status, the subject
 * it concerns, what was found and, for a warning or a failure, the one thing to do about it.
 * Checks are pure evaluations of gathered facts; only the gathering talks to the network.
 */
export type CheckStatus = 'ok' | 'warn' | 'fail';

/** The checks, in the order their lines are printed. */
export const CHECK_KINDS = [
  'wildcard',
  'host',
  'zone',
  'nameserver',
  'dnssec',
  'challenge',
  'caa',
  // The provider's own checks (its descriptor's `checks`; rfc2136: 'tsig') are printed here.
  'tsig',
  'write',
  'acme',
  'account',
] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

export interface CheckResult {
  /** A CheckKind, or the name of a provider's own check (printed in the 'tsig' place). */
  check: CheckKind | (string & {});
  status: CheckStatus;
  /** A name, a zone, a nameserver or a URL: what the line is about. */
  subject: string;
  /** What was found, in one sentence (the CNAME chain, the serials, the CAA property, ...). */
  message: string;
  /** For warn and fail: what to do, in one sentence. */
  fix?: string;
  /** For ok: something worth knowing that needs no action (printed under the line). */
  note?: string;
  /** More facts, shown with --verbose and in --json. */
  details?: string[];
}

export function ok(check: CheckKind, subject: string, message: string, details?: string[]): CheckResult {
  return { check, status: 'ok', subject, message, ...(details && details.length > 0 ? { details } : {}) };
}

/** A passed check with a note: correct as it is, but something another tool could get wrong. */
export function okWithNote(check: CheckKind, subject: string, message: string, note: string): CheckResult {
  return { check, status: 'ok', subject, message, note };
}

export function warn(check: CheckKind, subject: string, message: string, fix: string, details?: string[]): CheckResult {
  return { check, status: 'warn', subject, message, fix, ...(details && details.length > 0 ? { details } : {}) };
}

export function fail(check: CheckKind, subject: string, message: string, fix: string, details?: string[]): CheckResult {
  return { check, status: 'fail', subject, message, fix, ...(details && details.length > 0 ? { details } : {}) };
}

const PROVIDER_PLACE = CHECK_KINDS.indexOf('tsig');

function order(check: string): number {
  const index = CHECK_KINDS.findIndex((kind) => kind === check);
  return index < 0 ? PROVIDER_PLACE : index;
}

/** Results in print order: by check kind, then in the order they were produced (config order). */
export function sortResults(results: CheckResult[]): CheckResult[] {
  return results
    .map((result, index) => ({ result, index }))
    .sort((a, b) => order(a.result.check) - order(b.result.check) || a.index - b.index)
    .map((entry) => entry.result);
}

export interface CheckSummary {
  ok: number;
  warn: number;
  fail: number;
}

export function summarize(results: CheckResult[]): CheckSummary {
  const summary: CheckSummary = { ok: 0, warn: 0, fail: 0 };
  for (const r of results) summary[r.status] += 1;
  return summary;
}
