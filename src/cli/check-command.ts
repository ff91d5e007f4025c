import { randomBytes } from 'node:crypto';
import { runChecks } from '../check/run.js';
import { ok, sortResults, summarize, warn, type CheckResult, type CheckStatus } from '../check/types.js';
import { describeEntry, journaled, sweepUnderLock, type SweepResult } from '../orchestrate/journal.js';
import type { RenewerConfig } from '../config/types.js';
import { query } from '../dns/query.js';
import { findProvider, loadProvider } from '../dns/providers/descriptor.js';
import { PROVIDERS } from '../dns/providers/registry.js';
import { exchange } from '../dns/transport.js';
import { readCaBundle } from '../orchestrate/ordering.js';
import { openStore } from '../store/factory.js';
import type { CommonOptions } from './main.js';
import { EXIT_FAILURE, EXIT_OK, reportCommandError } from './output.js';
import { loadCommandConfig, requireRenewer } from './command-context.js';
import { listenForInterrupts } from './signals.js';

/** The sweep of the DNS journal as check lines: what was removed (ok) and what is still there (warn). */
function sweepResults(sweep: SweepResult | undefined): CheckResult[] {
  if (sweep === undefined) return [];
  const lines: CheckResult[] = sweep.removed.map((e) => ok('write', e.records.map((r) => r.fqdn).join(', '), `removed ${describeEntry(e)}, left by an earlier run`));
  for (const k of sweep.kept) {
    lines.push(warn('write', k.entry.records.map((r) => r.fqdn).join(', '), `left over: ${describeEntry(k.entry)}: ${k.reason}`,
      k.retry ? 'run check-dns, issue or renew again once the DNS server answers' : 'remove the values by hand, then delete the entry from the journal'));
  }
  return lines;
}

/**
 * DNS lookups of a preflight: a server that has not answered in 700 ms is asked once more, so a
 * dead nameserver costs 1.4 s, not the 6 s of the issue defaults, and the whole run stays short.
 */
const LOOKUP = { timeoutMs: 700, retries: 2 } as const;
/** The ACME directory and account requests. */
const HTTP_TIMEOUT_MS = 2000;

const MARKS: Record<CheckStatus, string> = { ok: '✓', warn: '!', fail: '✗' };

/** `gxit-cert check-dns`: every check, one line each; exit 0 when nothing failed, 1 otherwise, 2 for config errors. */
export async function runCheckDns(opts: CommonOptions): Promise<number> {
  const started = Date.now();
  const out = process.stdout;
  const err = process.stderr;
  const warnings: string[] = [];
  let config: RenewerConfig;
  let caBundlePem: string | undefined;
  try {
    // A follower has no DNS provider to check: one usage line, exit 2.
    config = requireRenewer(await loadCommandConfig(opts.config, opts, warnings), 'check-dns');
    caBundlePem = config.caBundle ? await readCaBundle(config.caBundle) : undefined;
  } catch (error) {
    return reportCommandError(error, opts, warnings, { out, err });
  }

  const interrupts = listenForInterrupts({ decidesExitCode: false });
  const { store, locker, close } = await openStore(config);
  const stamp = (): string => `[${((Date.now() - started) / 1000).toFixed(2).padStart(6)}s]`;
  const descriptor = findProvider(PROVIDERS, config.dns.provider);
  const provider = { name: descriptor.name, summary: descriptor.summary };
  if (opts.verbose && !opts.json) err.write(`${stamp()} provider ${provider.name}: ${provider.summary}\n`);
  let results: CheckResult[];
  const journal = store.journal;
  try {
    // First remove what earlier runs (or probes) left behind; a run holding the lock does that itself.
    const leftovers = journal === undefined ? [] : sweepResults(
      await sweepUnderLock({ journal, locker, lockWaitMs: 0, provider: () => loadProvider(PROVIDERS, config.dns), signal: interrupts.signal }),
    );
    const probeProvider = journal === undefined ? () => loadProvider(PROVIDERS, config.dns)
      : async () => journaled(await loadProvider(PROVIDERS, config.dns), { journal, command: 'check-dns' });
    results = [...leftovers, ...await runChecks({
      config,
      query: (server, name, type, o) => query(server, name, type, { ...o, ...LOOKUP }),
      ask: (server, name, type, o) => query(server, name, type, { ...LOOKUP, ...(o.tcp ? { tcp: true } : {}) }),
      exchange,
      loadProvider: probeProvider,
      providerChecks: async (targets) => {
        if (descriptor.checks === undefined) return [];
        const resolvers = config.dns.resolvers;
        return descriptor.checks(config.dns.settings, { targets, exchange, now: Date.now, signal: interrupts.signal, ...(resolvers === undefined ? {} : { resolvers }) });
      },
      account: {
        readAccount: (url) => store.readAccount(url, config.eab?.kid),
        loadAcme: () => import('acme-client'),
        http: { ...(caBundlePem ? { caBundlePem } : {}), timeoutMs: HTTP_TIMEOUT_MS },
      },
      accountDir: store.accountLocation(config.server, config.eab?.kid),
      random: () => randomBytes(4).toString('hex'),
      now: Date.now,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      signal: interrupts.signal,
      ...(opts.verbose && !opts.json ? { onStep: (text: string) => err.write(`${stamp()} ${text}\n`) } : {}),
    })];
  } finally {
    interrupts.stop();
    await close();
  }

  const elapsedMs = Date.now() - started;
  const summary = summarize(results);
  if (opts.json) {
    out.write(`${JSON.stringify({ ok: summary.fail === 0, summary, durationMs: elapsedMs, provider, results, warnings }, null, 2)}\n`);
  } else {
    out.write(renderText(results, { verbose: Boolean(opts.verbose), elapsedMs }));
  }
  return summary.fail === 0 ? EXIT_OK : EXIT_FAILURE;
}

/** The terminal report: a line per check, the fix under every ! and ✗, a note under a ✓ that has one, details with --verbose, a summary. */
export function renderText(results: CheckResult[], opts: { verbose: boolean; elapsedMs: number }): string {
  const width = Math.max(0, ...results.map((r) => r.check.length));
  const lines: string[] = [];
  for (const r of sortResults(results)) {
    lines.push(`${MARKS[r.status]} ${r.check.padEnd(width)}  ${r.subject}: ${r.message}`);
    const indent = ' '.repeat(width + 4);
    if (r.fix && r.status !== 'ok') lines.push(`${indent}fix: ${r.fix}`);
    if (r.note && r.status === 'ok') lines.push(`${indent}note: ${r.note}`);
    if (opts.verbose) for (const d of r.details ?? []) lines.push(`${indent}${d}`);
  }
  const s = summarize(results);
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  lines.push(`check-dns: ${s.ok} ok, ${plural(s.warn, 'warning')}, ${plural(s.fail, 'problem')} (${(opts.elapsedMs / 1000).toFixed(2)} s)`);
  return `${lines.join('\n')}\n`;
}
