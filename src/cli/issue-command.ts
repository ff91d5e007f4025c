import type { LineageResult } from '../orchestrate/order.js';
import { loadCommandConfig, runOrderCommand } from './command-context.js';
import { cycleExtras, hookLines, hookOutputPrinter, issueSummaryLine, lineageExtras, resultData, runHookLines } from './lineage-output.js';
import { hasCertbotFlags, loadIssueConfigWithFlags, type CertbotFlags } from './certbot-flags.js';
import type { CommonOptions } from './main.js';
import { EXIT_FAILURE, EXIT_OK, formatVerbose, reportCommandError } from './output.js';
import { interruptedExitCode } from './signals.js';

export interface IssueOptions extends CommonOptions {
  force?: boolean;
  /** certbot-style flags (certbot-flags.ts), laid over the configuration. */
  certbot?: CertbotFlags;
  /** --config was given on the command line (not the default path). */
  configExplicit?: boolean;
}

/** `gxit-cert issue`: load, lock, issue what is needed (with the hooks), report. Returns the exit code. */
export async function runIssue(opts: IssueOptions): Promise<number> {
  const warnings: string[] = [];
  const out = process.stdout;
  const err = process.stderr;
  try {
    const config =
      opts.certbot !== undefined && hasCertbotFlags(opts.certbot)
        ? await loadIssueConfigWithFlags({ ...opts, configExplicit: opts.configExplicit ?? true }, opts.certbot, warnings)
        : await loadCommandConfig(opts.config, opts, warnings);
    const onHookOutput = hookOutputPrinter(opts);
    const cycle = await runOrderCommand({
      config,
      opts,
      warnings,
      run: { mode: 'issue', force: Boolean(opts.force), dryRun: false, runDeployHooks: false },
      preload: true,
      ...(onHookOutput === undefined ? {} : { onHookOutput }),
    });

    const results: LineageResult[] = cycle.lineages.map(
      (l) => l.result ?? { name: l.name, domains: l.domains, status: 'current', durationMs: 0 },
    );
    const failed = results.filter((r) => r.status === 'failed');
    const ok = failed.length === 0 && cycle.ok;
    if (opts.json) {
      const data = results.map((r) => ({ ...resultData(r), ...lineageExtras(cycle.lineages.find((l) => l.name === r.name)) }));
      out.write(`${JSON.stringify({ ok, results: data, ...cycleExtras(cycle), warnings }, null, 2)}\n`);
    } else {
      for (const r of results) {
        err.write(`${issueSummaryLine(r)}\n`);
        for (const line of hookLines(r.name, cycle.lineages.find((l) => l.name === r.name))) err.write(`${line}\n`);
      }
      for (const line of runHookLines(cycle)) err.write(`${line}\n`);
      if (opts.verbose) for (const r of failed) if (r.error) err.write(`${formatVerbose(r.error)}\n`);
    }
    return interruptedExitCode() ?? (ok ? EXIT_OK : EXIT_FAILURE);
  } catch (error) {
    const code = reportCommandError(error, opts, warnings, { out, err });
    return interruptedExitCode() ?? code;
  }
}
