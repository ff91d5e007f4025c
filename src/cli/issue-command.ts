import { createStore } from '../store/index.js';
import type { LineageResult } from '../issue/run.js';
import {
  commandReporter,
  loadAriClient,
  loadCommandConfig,
  loadOrdering,
  withStateLock,
} from './command-context.js';
import { cycleExtras, hookLines, hookOutputPrinter, issueSummaryLine, lineageExtras, resultData, runHookLines } from './lineage-output.js';
import { hasCertbotFlags, loadIssueConfigWithFlags, type CertbotFlags } from './certbot-flags.js';
import type { CommonOptions } from './main.js';
import { EXIT_FAILURE, EXIT_OK, formatVerbose, reportCommandError } from './output.js';

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
    const [{ runCycle }, ordering, ari] = await Promise.all([
      import('../renew/cycle.js'),
      // Loaded before the lock, so that a configuration problem is reported before anything else.
      loadOrdering(config, opts),
      loadAriClient(config),
    ]);
    const store = createStore(config.stateDir);
    const reporter = commandReporter(opts, warnings);
    const onHookOutput = hookOutputPrinter(opts);
    const cycle = await withStateLock(config, opts, (signal) =>
      runCycle(
        {
          config,
          store,
          reporter,
          ordering: async () => ordering,
          ari,
          signal,
          parentEnv: process.env,
          ...(onHookOutput === undefined ? {} : { onHookOutput }),
        },
        { mode: 'issue', force: Boolean(opts.force), dryRun: false, runDeployHooks: false },
      ),
    );

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
    return ok ? EXIT_OK : EXIT_FAILURE;
  } catch (error) {
    return reportCommandError(error, opts, warnings, { out, err });
  }
}
