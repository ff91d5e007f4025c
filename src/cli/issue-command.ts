import { readFile } from 'node:fs/promises';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { query } from '../dns/query.js';
import { loadProvider } from '../dns/providers/index.js';
import { GxitError } from '../errors.js';
import type { LineageResult } from '../issue/run.js';
import { createStore, acquireLock } from '../store/index.js';
import type { CommonOptions } from './main.js';
import { EXIT_FAILURE, EXIT_OK, errorData, exitCodeFor, formatError, formatVerbose } from './output.js';
import { collectingReporter, terminalReporter } from './progress.js';
import { onInterrupt } from './signals.js';

export interface IssueOptions extends CommonOptions {
  force?: boolean;
}

/** `gxit-cert issue`: load, lock, issue what is needed, report. Returns the exit code. */
export async function runIssue(opts: IssueOptions): Promise<number> {
  const warnings: string[] = [];
  const out = process.stdout;
  const err = process.stderr;
  let config: Config | undefined;
  try {
    config = await loadConfig(opts.config);
    warnings.push(...config.warnings);
    if (!opts.json) for (const w of config.warnings) err.write(`warning: ${w}\n`);

    const [acme, { configureAcmeHttp }, { issueAll }, { issueStore }] = await Promise.all([
      import('acme-client'),
      import('../acme/http.js'),
      import('../issue/run.js'),
      import('../issue/store-adapter.js'),
    ]);
    configureAcmeHttp(acme.axios, {
      caBundlePem: config.caBundle ? await readCaBundle(config.caBundle) : undefined,
      timeoutMs: 30_000,
    });
    if (opts.verbose) acme.setLogger((message: string) => err.write(`acme-client: ${message}\n`));

    const provider = await loadProvider(config.dns);
    const store = createStore(config.stateDir);
    const reporter = opts.json
      ? collectingReporter(warnings)
      : terminalReporter(err, { showSteps: Boolean(opts.verbose) || Boolean(err.isTTY) });

    const lock = await acquireLock(config.stateDir, {
      waitMs: 15 * 60_000,
      staleMs: 120_000,
      onWait: ({ holder }) => {
        if (!opts.json) err.write(`waiting for another gxit-cert run (pid ${holder?.pid ?? '?'}) to finish\n`);
      },
    });
    const controller = new AbortController();
    const stopListening = onInterrupt(() => controller.abort());
    let results: LineageResult[];
    try {
      results = await issueAll(
        { config, acme, provider, query, store: issueStore(store), reporter, signal: controller.signal },
        { force: Boolean(opts.force) },
      );
    } finally {
      stopListening();
      await lock.release();
    }

    const failed = results.filter((r) => r.status === 'failed');
    if (opts.json) {
      out.write(`${JSON.stringify({ ok: failed.length === 0, results: results.map(resultData), warnings }, null, 2)}\n`);
    } else {
      for (const r of results) err.write(`${summaryLine(r)}\n`);
      if (opts.verbose) for (const r of failed) if (r.error) err.write(`${formatVerbose(r.error)}\n`);
    }
    return failed.length === 0 ? EXIT_OK : EXIT_FAILURE;
  } catch (error) {
    if (opts.json) {
      out.write(`${JSON.stringify({ ok: false, error: errorData(error), warnings }, null, 2)}\n`);
    } else {
      err.write(`${formatError(error)}\n`);
      if (opts.verbose) err.write(`${formatVerbose(error)}\n`);
    }
    return exitCodeFor(error);
  }
}

async function readCaBundle(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new GxitError('CONFIG_INVALID', `ca_bundle: cannot read ${path}`, {
      subject: 'ca_bundle',
      fix: 'point ca_bundle to a readable PEM file with the ACME server\'s CA, or remove it',
      cause: error,
    });
  }
}

function summaryLine(r: LineageResult): string {
  const seconds = (r.durationMs / 1000).toFixed(2);
  switch (r.status) {
    case 'current':
      return `${r.name}: certificate is current (${r.domains.join(', ')}); nothing to do (use --force to issue again)`;
    case 'issued': {
      const c = r.certificate;
      return `${r.name}: issued version ${c?.version} for ${r.domains.join(', ')} in ${seconds} s, valid until ${c?.notAfter}, live in ${c?.liveDir}`;
    }
    case 'failed':
      return `${r.name}: ${formatError(r.error)}`;
  }
}

function resultData(r: LineageResult): Record<string, unknown> {
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
