/** How the results of issue and renew runs are shown: one line per lineage for people, data for --json. */
import type { HookPhase } from '../hooks/env.js';
import type { HookRun } from '../hooks/run.js';
import type { ServedCheck } from '../hooks/served.js';
import type { LineageResult } from '../orchestrate/order.js';
import type { CycleReport, LineageReport } from '../orchestrate/report.js';
import { cleanOutputLine } from '../redact.js';
import { errorData, formatError } from './output.js';

export function issueSummaryLine(r: LineageResult): string {
  const seconds = (r.durationMs / 1000).toFixed(2);
  switch (r.status) {
    case 'current':
      return `${r.name}: certificate is current (${r.domains.join(', ')}); nothing to do (use --force to issue again)`;
    case 'issued': {
      const c = r.certificate;
      const why = r.reason === 'broken' ? ' (the live files were broken)' : '';
      return `${r.name}: issued version ${c?.version} for ${r.domains.join(', ')} in ${seconds} s, valid until ${c?.notAfter}, live in ${c?.liveDir}${why}`;
    }
    case 'failed':
      return `${r.name}: ${formatError(r.error)}`;
  }
}

export function resultData(r: LineageResult): Record<string, unknown> {
  return {
    name: r.name,
    domains: r.domains,
    status: r.status,
    reason: r.reason,
    durationMs: r.durationMs,
    certificate: r.certificate,
    dns: r.dns,
    error: r.error ? errorData(r.error) : undefined,
  };
}

export function hookData(run: HookRun): Record<string, unknown> {
  return {
    phase: run.phase,
    hook: run.label,
    ok: run.ok,
    exitCode: run.exitCode,
    signal: run.signal,
    timedOut: run.timedOut,
    spawnError: run.spawnError,
    durationMs: run.durationMs,
    output: run.output,
  };
}

export function servedData(check: ServedCheck): Record<string, unknown> {
  return { ...check };
}

/** Hook runs, served checks and problems of a lineage, for --json; empty parts are left out. */
export function lineageExtras(report: LineageReport | undefined): Record<string, unknown> {
  if (report === undefined) return {};
  return {
    ...(report.hooks.length > 0 ? { hooks: report.hooks.map(hookData) } : {}),
    ...(report.served.length > 0 ? { served: report.served.map(servedData) } : {}),
    ...(report.problems.length > 0 ? { problems: report.problems } : {}),
  };
}

/** pre/post hooks and their problems, for --json; empty parts are left out. */
export function cycleExtras(cycle: CycleReport): Record<string, unknown> {
  return {
    ...(cycle.pre.length > 0 ? { pre: cycle.pre.map(hookData) } : {}),
    ...(cycle.post.length > 0 ? { post: cycle.post.map(hookData) } : {}),
    ...(cycle.problems.length > 0 ? { problems: cycle.problems } : {}),
  };
}

/** Lines for people: each hook that succeeded, the served check, each problem (failed hooks among them). */
export function hookLines(name: string, report: LineageReport | undefined): string[] {
  if (report === undefined) return [];
  const lines: string[] = [];
  for (const run of report.hooks) {
    if (run.ok) lines.push(`${name}: ${run.phase.replace('_', '-')} hook ${run.label}: ok (${(run.durationMs / 1000).toFixed(2)} s)`);
  }
  const servedOk = report.served.filter((c) => c.ok);
  if (servedOk.length > 0 && servedOk.length === report.served.length) {
    const addresses = [...new Set(servedOk.map((c) => c.address))].join(', ');
    const verb = addresses.includes(', ') ? 'serve' : 'serves';
    lines.push(`${name}: ${addresses} ${verb} the new certificate for ${[...new Set(servedOk.map((c) => c.sni))].join(', ')}`);
  }
  for (const problem of report.problems) lines.push(`${name}: error: ${problem}`);
  return lines;
}

export function runHookLines(cycle: CycleReport): string[] {
  const lines: string[] = [];
  for (const run of [...cycle.pre, ...cycle.post]) {
    if (run.ok) lines.push(`${run.phase} hook ${run.label}: ok (${(run.durationMs / 1000).toFixed(2)} s)`);
  }
  for (const problem of cycle.problems) lines.push(`error: ${problem}`);
  return lines;
}

/** With --verbose (and without --json), hook output is shown as it arrives, each line tagged with the hook. */
export function hookOutputPrinter(opts: { json?: boolean; verbose?: boolean }): ((phase: HookPhase, label: string, text: string) => void) | undefined {
  if (!opts.verbose || opts.json) return undefined;
  return (phase, label, text) => {
    const prefix = `[${phase.replace('_', '-')} ${label}] `;
    process.stderr.write(text.replace(/\n$/, '').split('\n').map((line) => `${prefix}${cleanOutputLine(line)}\n`).join(''));
  };
}
