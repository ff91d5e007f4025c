/**
 * Plumbing shared by the commands that place orders (issue, renew): configuration, the lazily loaded
 * ordering side (acme-client, the DNS provider), the state lock with its interrupt handling, and the
 * ARI client. Nothing heavy is imported at the top: `renew` with nothing due must stay fast.
 */
import { readFile } from 'node:fs/promises';
import { loadConfig } from '../config/load.js';
import { PROVIDERS } from '../dns/providers/registry.js';
import type { Config } from '../config/types.js';
import { GxitError } from '../errors.js';
import type { Reporter } from '../issue/reporter.js';
import type { AriClient } from '../renew/ari-client.js';
import type { OrderingDeps } from '../renew/cycle.js';
import { collectingReporter, terminalReporter } from './progress.js';

export interface OutputOptions {
  json?: boolean;
  verbose?: boolean;
}

/** Loads the configuration; its warnings go to `warnings` and, without --json, to stderr. */
export async function loadCommandConfig(path: string, opts: OutputOptions, warnings: string[]): Promise<Config> {
  const config = await loadConfig(path, { providers: PROVIDERS });
  warnings.push(...config.warnings);
  if (!opts.json) for (const w of config.warnings) process.stderr.write(`warning: ${w}\n`);
  return config;
}

export async function readCaBundle(path: string): Promise<string> {
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

/** Progress on stderr for people, or warnings collected for the --json document. */
export function commandReporter(opts: OutputOptions, warnings: string[]): Reporter {
  const err = process.stderr;
  return opts.json ? collectingReporter(warnings) : terminalReporter(err, { showSteps: Boolean(opts.verbose) || Boolean(err.isTTY) });
}

/** acme-client (configured for the CA's TLS and with timeouts), the DNS provider and the query function. */
export async function loadOrdering(config: Config, opts: OutputOptions): Promise<OrderingDeps> {
  const [acme, { configureAcmeHttp }, { loadProvider }, { query }] = await Promise.all([
    import('acme-client'),
    import('../acme/http.js'),
    import('../dns/providers/descriptor.js'),
    import('../dns/query.js'),
  ]);
  configureAcmeHttp(acme.axios, {
    caBundlePem: config.caBundle ? await readCaBundle(config.caBundle) : undefined,
    timeoutMs: 30_000,
  });
  if (opts.verbose) acme.setLogger((message: string) => process.stderr.write(`acme-client: ${message}\n`));
  const provider = await loadProvider(PROVIDERS, config.dns);
  return { acme, provider, query };
}

/** The ARI client, trusting the config's ca_bundle like the ACME client does. */
export async function loadAriClient(config: Config): Promise<AriClient> {
  const { ariClient, httpGetter } = await import('../renew/ari-client.js');
  const caBundlePem = config.caBundle ? await readCaBundle(config.caBundle) : undefined;
  return ariClient(httpGetter({ timeoutMs: 15_000, ...(caBundlePem === undefined ? {} : { caBundlePem }) }));
}

/**
 * Runs `work` holding the lock of state_dir, so concurrent runs never place two orders for one
 * lineage: a second run waits (up to 15 minutes), then decides again. SIGINT/SIGTERM abort the
 * signal given to `work` (TXT records are still removed).
 */
export async function withStateLock<T>(config: Config, opts: OutputOptions, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const [{ acquireLock }, { onInterrupt }] = await Promise.all([import('../store/lock.js'), import('./signals.js')]);
  const lock = await acquireLock(config.stateDir, {
    waitMs: 15 * 60_000,
    staleMs: 120_000,
    onWait: ({ holder }) => {
      if (!opts.json) process.stderr.write(`waiting for another gxit-cert run (pid ${holder?.pid ?? '?'}) to finish\n`);
    },
  });
  const controller = new AbortController();
  const stopListening = onInterrupt(() => controller.abort());
  try {
    return await work(controller.signal);
  } finally {
    stopListening();
    await lock.release();
  }
}
