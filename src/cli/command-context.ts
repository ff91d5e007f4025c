/**
 * Plumbing shared by the commands: configuration, the store from its factory, the interrupts, the one
 * way a run is started (runOrders), and the one way a command works under the store's lock
 * (withStoreLock: account, revoke, delete). Nothing heavy is imported at the top: `renew` with
 * nothing due must stay fast.
 */
import { loadConfig } from '../config/load.js';
import { PROVIDERS } from '../dns/providers/registry.js';
import { GxitError } from '../errors.js';
import type { Config, RenewerConfig } from '../config/types.js';
import type { HookPhase } from '../hooks/env.js';
import type { OrderingBase } from '../orchestrate/ordering.js';
import type { CycleReport, RunOptions } from '../orchestrate/run.js';
import type { Reporter } from '../orchestrate/reporter.js';
import { decideQuickly } from '../orchestrate/decide.js';
import type { Lock, OpenedStore } from '../store/contract.js';
import { openStore } from '../store/factory.js';
import { redactLine } from '../redact.js';
import { collectingReporter, terminalReporter } from './progress.js';

export interface OutputOptions {
  json?: boolean;
  verbose?: boolean;
}

/** Loads the configuration; its warnings go to `warnings` and, without --json, to stderr. */
export async function loadCommandConfig(path: string, opts: OutputOptions, warnings: string[]): Promise<Config> {
  const config = await loadConfig(path, { providers: PROVIDERS });
  warnings.push(...config.warnings);
  if (!opts.json) for (const w of config.warnings) process.stderr.write(`warning: ${redactLine(w)}\n`);
  return config;
}

/**
 * The configuration of a renewer, or a usage error naming this node: `command` writes DNS records (or
 * registers for them), and a follower (cluster.renewer: false) loads neither a DNS provider nor its secrets.
 */
export function requireRenewer(config: Config, command: string): RenewerConfig {
  if (config.dns !== undefined) return config;
  throw new GxitError('USAGE', `node ${config.cluster.node} is not a renewer (cluster.renewer: false in ${config.source}): ${command} needs the DNS provider and its secrets, which a follower does not load`, {
    subject: 'cluster.renewer',
    fix: `run gxit-cert ${command} on a renewer node, or set cluster.renewer: true here and give this node the dns: section and its secrets`,
  });
}

/** Progress on stderr for people, or warnings collected for the --json document. */
export function commandReporter(opts: OutputOptions, warnings: string[]): Reporter {
  const err = process.stderr;
  return opts.json ? collectingReporter(warnings) : terminalReporter(err, { showSteps: Boolean(opts.verbose) || Boolean(err.isTTY) });
}

export interface OrderCommand {
  config: Config;
  opts: OutputOptions;
  warnings: string[];
  run: RunOptions;
  onHookOutput?: (phase: HookPhase, label: string, text: string) => void;
  /** issue: load acme-client and the provider before anything else, so a configuration problem comes first. */
  preload?: boolean;
}

/** How long a command waits for another run's lock before it gives up (LOCKED). */
const COMMAND_LOCK_WAIT_MS = 60_000;

export interface LockedStore {
  store: OpenedStore['store'];
  lock: Lock;
  /** Aborted by SIGINT/SIGTERM (never, when the command does not listen for them). */
  signal: AbortSignal;
}

/**
 * Open the store, take the lock of `scope` and run `work` under it; SIGINT/SIGTERM abort the wait
 * and the signal handed to `work` unless `interrupts: false`. The lock is released, the listeners
 * removed and the store closed afterwards, also when taking the lock failed.
 */
export async function withStoreLock<T>(
  config: Parameters<typeof openStore>[0],
  scope: string,
  work: (locked: LockedStore) => Promise<T>,
  options: { interrupts?: boolean } = {},
): Promise<T> {
  const opened = await openStore(config);
  try {
    const interrupts = options.interrupts === false ? undefined : (await import('./signals.js')).listenForInterrupts();
    try {
      const signal = interrupts?.signal ?? new AbortController().signal;
      const lock = await opened.locker.acquire(scope, { ...(interrupts === undefined ? {} : { signal }), waitMs: COMMAND_LOCK_WAIT_MS });
      try {
        return await work({ store: opened.store, lock, signal });
      } finally {
        await lock.release();
      }
    } finally {
      interrupts?.stop();
    }
  } finally {
    await opened.close();
  }
}

/** An order command once its configuration is known to be a renewer's. */
interface RenewerCommand extends OrderCommand {
  config: RenewerConfig;
}

/**
 * Decide without the lock (nothing to do: done, nothing heavy loaded); otherwise load the ordering
 * side and run under the store's lock, with SIGINT/SIGTERM aborting the run.
 */
export async function runOrderCommand(command: OrderCommand): Promise<CycleReport> {
  const { config, opts, warnings } = command;
  if (config.dns === undefined) {
    throw new GxitError('USAGE', `node ${config.cluster.node} is not a renewer (cluster.renewer: false in ${config.source}): it never orders`, {
      subject: 'cluster.renewer',
      fix: 'run issue on a renewer node and gxit-cert sync here, or set cluster.renewer: true',
    });
  }
  const renewer: RenewerCommand = { ...command, config };
  const opened = await openStore(config);
  try {
    const base = command.preload ? loadBase(config, opts, warnings) : undefined;
    await base;
    const quick = await decideQuickly(config, opened.store, Date.now(), command.run);
    if (quick.idle !== undefined) {
      await sweepWhenIdle(renewer, opened);
      return quick.idle;
    }
    // Forced runs started at once (on several nodes of a cluster) place one order: see RunOptions.seenVersions.
    const seenVersions = command.run.force ? await versionsOf(config, opened.store) : undefined;
    const run = { ...command.run, only: quick.only, ...(seenVersions === undefined ? {} : { seenVersions }) };
    return await runLocked({ ...renewer, run }, opened, base);
  } finally {
    await opened.close();
  }
}

async function versionsOf(config: Config, store: OpenedStore['store']): Promise<Map<string, number>> {
  const versions = new Map<string, number>();
  for (const { name } of config.certificates) versions.set(name, (await store.readLineage(name))?.state.version ?? 0);
  return versions;
}

/** The provider alone (no ACME code): what removing an earlier run's leftovers needs. */
async function loadDnsProvider(config: RenewerConfig): Promise<import('../dns/provider.js').DnsProvider> {
  const { loadProvider } = await import('../dns/providers/descriptor.js');
  return loadProvider(PROVIDERS, config.dns);
}

/**
 * Nothing to order: still remove what earlier runs left in the DNS journal (under the lock). Costs
 * one directory listing when the journal is empty, the usual case.
 */
async function sweepWhenIdle(command: RenewerCommand, opened: OpenedStore): Promise<void> {
  const journal = opened.store.journal;
  if (journal === undefined || (await journal.list()).length === 0) return;
  const [{ sweepUnderLock }, { listenForInterrupts }] = await Promise.all([import('../orchestrate/journal.js'), import('./signals.js')]);
  const interrupts = listenForInterrupts();
  try {
    await sweepUnderLock({
      journal,
      locker: opened.locker,
      lockWaitMs: 15 * 60_000,
      provider: () => loadDnsProvider(command.config),
      signal: interrupts.signal,
      reporter: commandReporter(command.opts, command.warnings),
    });
  } finally {
    interrupts.stop();
  }
}

function loadBase(config: RenewerConfig, opts: OutputOptions, warnings: string[]): Promise<OrderingBase> {
  return import('../orchestrate/ordering.js').then(({ loadOrderingBase }) =>
    loadOrderingBase(config, {
      reporter: commandReporter(opts, warnings),
      ...(opts.verbose ? { acmeLog: (message: string) => process.stderr.write(`acme-client: ${message}\n`) } : {}),
    }),
  );
}

async function runLocked(command: RenewerCommand, opened: OpenedStore, preloaded: Promise<OrderingBase> | undefined): Promise<CycleReport> {
  const { config, opts, warnings } = command;
  const [{ runOrders }, { buildOrdering }, { listenForInterrupts }, ari] = await Promise.all([
    import('../orchestrate/run.js'),
    import('../orchestrate/ordering.js'),
    import('./signals.js'),
    loadAriClient(config),
  ]);
  const reporter = commandReporter(opts, warnings);
  let base = preloaded;
  const interrupts = listenForInterrupts();
  try {
    return await runOrders(
      {
        config,
        store: opened.store,
        locker: opened.locker,
        reporter,
        leftoverProvider: async () => (await (base ??= loadBase(config, opts, warnings))).provider,
        ordering: async (orderConfig, store) => buildOrdering(await (base ??= loadBase(config, opts, warnings)), orderConfig, store, reporter),
        ari,
        signal: interrupts.signal,
        parentEnv: process.env,
        onLockWait: (holder) => {
          if (!opts.json) process.stderr.write(`waiting for another gxit-cert run (pid ${holder?.pid ?? '?'}) to finish\n`);
        },
        ...(command.onHookOutput === undefined ? {} : { onHookOutput: command.onHookOutput }),
      },
      command.run,
    );
  } finally {
    interrupts.stop();
  }
}

/** The ARI client, trusting the config's ca_bundle like the ACME client does. */
async function loadAriClient(config: Config): Promise<import('../renew/ari-client.js').AriClient> {
  const [{ ariClient, httpGetter }, { readCaBundles }] = await Promise.all([import('../renew/ari-client.js'), import('../orchestrate/ordering.js')]);
  const caBundlePem = await readCaBundles(config);
  return ariClient(httpGetter({ timeoutMs: 15_000, ...(caBundlePem === undefined ? {} : { caBundlePem }) }));
}
