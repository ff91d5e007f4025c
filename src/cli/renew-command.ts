/**
 * `gxit-cert renew`: renew every configured certificate that is due (and issue new or changed ones).
 *
 * Nothing due is the common case (a daily timer): it is decided from the state directory alone, with
 * no lock, no CA contact and none of the heavy modules loaded, unless an ARI check is due. Otherwise
 * the run takes the state lock, decides again under it (a concurrent run may have renewed already)
 * and goes through the renewal cycle with its hooks.
 */
import { LETSENCRYPT_DIRECTORY } from '../config/types.js';
import type { LineageReport } from '../orchestrate/report.js';
import { loadCommandConfig, runOrderCommand } from './command-context.js';
import { cycleExtras, hookLines, hookOutputPrinter, lineageExtras, resultData, runHookLines } from './lineage-output.js';
import type { CommonOptions } from './main.js';
import { EXIT_FAILURE, EXIT_OK, formatError, formatVerbose, reportCommandError } from './output.js';
import { interruptedExitCode } from './signals.js';

export interface RenewOptions extends CommonOptions {
  force?: boolean;
  dryRun?: boolean;
  runDeployHooks?: boolean;
  /** Print only failures and problems. */
  quiet?: boolean;
}

export async function runRenew(opts: RenewOptions): Promise<number> {
  const started = performance.now();
  const warnings: string[] = [];
  const out = process.stdout;
  const err = process.stderr;
  try {
    const config = await loadCommandConfig(opts.config, opts, warnings);
    if (config.cluster?.renewer === false) {
      // A follower never orders: its renew keeps it in step with the cluster instead.
      const { runSync } = await import('./sync-command.js');
      return await runSync(opts, { config, warnings });
    }
    const dryRun = Boolean(opts.dryRun);
    const force = Boolean(opts.force);
    if (dryRun && !opts.json && config.server === LETSENCRYPT_DIRECTORY) {
      err.write("dry run: ordering from Let's Encrypt's staging CA; nothing is stored\n");
    }
    const onHookOutput = hookOutputPrinter(opts);
    const cycle = await runOrderCommand({
      config,
      opts,
      warnings,
      run: { mode: 'renew', force, dryRun, runDeployHooks: Boolean(opts.runDeployHooks) },
      ...(onHookOutput === undefined ? {} : { onHookOutput }),
    });

    const durationMs = Math.round(performance.now() - started);
    if (opts.json) {
      out.write(`${JSON.stringify({ ok: cycle.ok, dryRun, results: cycle.lineages.map(lineageData), ...cycleExtras(cycle), durationMs, warnings }, null, 2)}\n`);
    } else {
      for (const lineage of cycle.lineages) {
        if (opts.quiet && lineage.status !== 'failed' && lineage.problems.length === 0) continue;
        err.write(`${renewLine(lineage)}\n`);
        for (const line of hookLines(lineage.name, lineage)) err.write(`${line}\n`);
        if (opts.verbose && lineage.result?.error) err.write(`${formatVerbose(lineage.result.error)}\n`);
      }
      const runLines = opts.quiet ? cycle.problems.map((p) => `error: ${p}`) : runHookLines(cycle);
      for (const line of runLines) err.write(`${line}\n`);
    }
    return interruptedExitCode() ?? (cycle.ok ? EXIT_OK : EXIT_FAILURE);
  } catch (error) {
    const code = reportCommandError(error, opts, warnings, { out, err });
    return interruptedExitCode() ?? code;
  }
}

function lineageData(lineage: LineageReport): Record<string, unknown> {
  const base = lineage.result ? resultData(lineage.result) : { name: lineage.name, domains: lineage.domains };
  return {
    ...base,
    status: lineage.status,
    ...(lineage.reason === undefined ? {} : { reason: lineage.reason }),
    ...(lineage.due === undefined
      ? {}
      : { due: { due: lineage.due.due, basis: lineage.due.basis, dueAt: new Date(lineage.due.dueAtMs).toISOString(), detail: lineage.due.detail } }),
    ...lineageExtras(lineage),
  };
}

export function renewLine(lineage: LineageReport): string {
  const { name } = lineage;
  const r = lineage.result;
  const c = r?.certificate;
  const seconds = r === undefined ? '' : ` in ${(r.durationMs / 1000).toFixed(2)} s`;
  switch (lineage.status) {
    case 'not-due':
    case 'current':
      return `${name}: not due: ${lineage.due?.detail ?? 'the certificate is current'}`;
    case 'renewed': {
      const why = lineage.reason === 'due' && lineage.due ? `due: ${lineage.due.detail}` : (lineage.reason ?? 'renewed');
      return `${name}: renewed (${why}): version ${c?.version}${seconds}, valid until ${c?.notAfter}, live in ${c?.liveDir}`;
    }
    case 'issued':
      return `${name}: issued version ${c?.version} for ${lineage.domains.join(', ')}${seconds} (${lineage.reason ?? 'new'}), valid until ${c?.notAfter}, live in ${c?.liveDir}`;
    case 'redeployed':
      return `${name}: deployed the live certificate again (its last deploy had failed); not due: ${lineage.due?.detail ?? ''}`;
    case 'dry-run':
      return `${name}: dry run: the CA issued a certificate (serial ${c?.serial}, valid until ${c?.notAfter})${seconds}; it was discarded, live/ is unchanged`;
    case 'failed':
      return `${name}: ${formatError(r?.error)}`;
  }
}
