/**
 * `provider: exec`: the TXT records are written by a site's own script, in one of the two contracts
 * admins already have scripts for:
 *  - lego's exec provider: `command present <fqdn.> <value>` and `command cleanup <fqdn.> <value>`;
 *  - certbot's manual hooks: `auth_hook` / `cleanup_hook` with CERTBOT_DOMAIN (the domain without
 *    "*."), CERTBOT_VALIDATION, CERTBOT_REMAINING_CHALLENGES and CERTBOT_ALL_DOMAINS in the environment
 *    (and CERTBOT_AUTH_OUTPUT, the auth hook's stdout, for the cleanup hook).
 * One run per record, all at once unless `parallel: false`. The environment is built from scratch
 * like a hook's (no TSIG or cloud secrets of ours reach the script). Whether the value is visible is
 * asked of the authoritative nameservers afterwards, so the script need not sleep.
 */
import { GxitError } from '../../../errors.js';
import { baseEnvironment } from '../../../process/env.js';
import { outputTail } from '../../../process/group.js';
import { cleanOutputLine } from '../../../redact.js';
import { runProbe } from '../probe.js';
import type { DnsProvider, ProbeOptions, ProbeResult, TxtRecord } from '../../provider.js';
import { runScript, type ScriptRun } from './process.js';
import type { ExecCommand, ExecSettings } from './settings.js';

export interface ExecDeps {
  /** The environment gxit-cert was started with (only harmless variables are passed on). */
  parentEnv?: NodeJS.ProcessEnv;
  run?: typeof runScript;
  killGraceMs?: number;
}

/** The script's environment (pure): the one every child of ours starts from (PATH with the sbin directories, a few harmless variables), and the contract's own. */
export function scriptEnvironment(parent: NodeJS.ProcessEnv, own: Record<string, string>): Record<string, string> {
  return { ...baseEnvironment(parent), ...own };
}

/** The domain a record validates: given by the caller, or read from the challenge name. */
export function domainOf(record: TxtRecord): string {
  return record.domain?.replace(/^\*\./, '') ?? record.fqdn.replace(/\.$/, '').replace(/^_acme-challenge\./, '');
}

/** program + args for one call (pure). */
export function invocation(command: ExecCommand, args: string[]): { program: string; args: string[]; label: string } {
  if ('argv' in command) {
    const [program = '', ...rest] = command.argv;
    return { program, args: [...rest, ...args], label: program };
  }
  // The arguments go in as positional parameters, never pasted into the shell text.
  const shell = args.length === 0 ? command.shell : `${command.shell} "$@"`;
  return { program: '/bin/sh', args: ['-c', shell, 'gxit-cert-exec', ...args], label: command.shell.trim().split(/\s+/)[0] ?? command.shell };
}

/** Environment of certbot's hooks for record `index` of `all` (pure). */
export function certbotVariables(all: TxtRecord[], index: number, authOutput?: string): Record<string, string> {
  const record = all[index] as TxtRecord;
  const vars: Record<string, string> = {
    CERTBOT_DOMAIN: domainOf(record),
    CERTBOT_VALIDATION: record.value,
    CERTBOT_REMAINING_CHALLENGES: String(all.length - 1 - index),
    CERTBOT_ALL_DOMAINS: [...new Set(all.map(domainOf))].join(','),
  };
  if (authOutput !== undefined) vars.CERTBOT_AUTH_OUTPUT = authOutput.trim();
  return vars;
}

export function describeRun(what: string, run: ScriptRun, timeoutMs: number): string {
  let how: string;
  if (run.spawnError !== undefined) how = `could not be started: ${run.spawnError}`;
  else if (run.timedOut) how = `did not finish within ${timeoutMs / 1000} s and was killed`;
  else if (run.aborted) how = 'was stopped (interrupted)';
  else if (run.signal !== undefined) how = `was killed by ${run.signal}`;
  else how = `failed with exit code ${run.exitCode ?? '?'}`;
  // The script's stderr ends up in the one error line: escape sequences stripped, as for hooks.
  const tail = outputTail(run.stderr, cleanOutputLine);
  return `${what} ${how}${tail === undefined ? ' (nothing on stderr)' : `: ${tail}`}`;
}

export function createExecProvider(settings: ExecSettings, deps: ExecDeps = {}): DnsProvider {
  const parentEnv = deps.parentEnv ?? process.env;
  const run = deps.run ?? runScript;
  const key = (r: TxtRecord): string => `${r.fqdn.toLowerCase()} ${r.value}`;
  /** Records whose present call was started: cleanup runs for these only (certmagic's rule). */
  const started = new Set<string>();
  /** certbot: the auth hook's stdout per record, for CERTBOT_AUTH_OUTPUT. */
  const authOutput = new Map<string, string>();

  async function call(action: 'present' | 'cleanup', all: TxtRecord[], index: number, signal?: AbortSignal): Promise<void> {
    const record = all[index] as TxtRecord;
    const fqdn = `${record.fqdn.replace(/\.$/, '')}.`;
    let command: ExecCommand | undefined;
    let args: string[] = [];
    let own: Record<string, string> = {};
    if (settings.style === 'lego') {
      command = settings.command;
      args = [action, fqdn, record.value];
    } else {
      command = action === 'present' ? settings.authHook : settings.cleanupHook;
      own = certbotVariables(all, index, action === 'cleanup' ? authOutput.get(key(record)) : undefined);
    }
    if (command === undefined) return; // certbot style without a cleanup hook: nothing to run
    const how = invocation(command, args);
    const result = await run(how.program, how.args, {
      env: scriptEnvironment(parentEnv, own),
      timeoutMs: settings.timeoutMs,
      ...(deps.killGraceMs === undefined ? {} : { killGraceMs: deps.killGraceMs }),
      ...(signal ? { signal } : {}),
    });
    if (result.ok) {
      if (action === 'present' && settings.style === 'certbot') authOutput.set(key(record), result.stdout);
      return;
    }
    const hookName = settings.style === 'lego' ? `dns.exec.command ${how.label} ${action} ${fqdn}` : `dns.exec.${action === 'present' ? 'auth_hook' : 'cleanup_hook'} ${how.label} for ${domainOf(record)}`;
    throw new GxitError('DNS_PROVIDER', describeRun(hookName, result, settings.timeoutMs), {
      subject: record.fqdn,
      fix: result.timedOut
        ? 'make the script finish sooner, or raise dns.exec.timeout'
        : settings.style === 'lego'
          ? `run "${how.label} ${action} ${fqdn} <value>" by hand and fix what it reports`
          : `run the hook by hand with CERTBOT_DOMAIN=${domainOf(record)} CERTBOT_VALIDATION=<value> and fix what it reports`,
    });
  }

  /**
   * Every call, in parallel or one after the other; all started calls settle before the first failure
   * is thrown. `onStart` marks a record just before its call begins.
   */
  async function each(action: 'present' | 'cleanup', records: TxtRecord[], signal: AbortSignal | undefined, stopEarly: boolean, onStart: (r: TxtRecord) => void = () => {}): Promise<void> {
    if (settings.parallel) {
      records.forEach(onStart);
      const results = await Promise.allSettled(records.map((_, i) => call(action, records, i, signal)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      return;
    }
    let first: unknown;
    for (const [i, r] of records.entries()) {
      onStart(r);
      try {
        await call(action, records, i, signal);
      } catch (error) {
        first ??= error;
        if (stopEarly) break;
      }
    }
    if (first !== undefined) throw first;
  }

  const present = (records: TxtRecord[], signal?: AbortSignal): Promise<void> =>
    each('present', dedupe(records), signal, true, (r) => started.add(key(r)));

  const cleanup = async (records: TxtRecord[], signal?: AbortSignal): Promise<void> => {
    const ours = dedupe(records).filter((r) => started.has(key(r)));
    try {
      await each('cleanup', ours, signal, false);
    } finally {
      for (const r of ours) {
        started.delete(key(r));
        authOutput.delete(key(r));
      }
    }
  };

  const probe = (fqdn: string, opts: ProbeOptions): Promise<ProbeResult> =>
    runProbe(
      fqdn.replace(/\.$/, '').toLowerCase(),
      {
        locate: async () => 'through',
        add: (record, signal) => present([record], signal),
        remove: (record, signal) => cleanup([record], signal),
        how: settings.style === 'lego' ? `dns.exec.command ${invocation(settings.command, []).label}` : `dns.exec.auth_hook ${invocation(settings.authHook, []).label}`,
      },
      opts,
    );

  /** Values an earlier run's present started (from the DNS journal): run the cleanup command for them all the same. */
  const removeLeftovers = async (records: TxtRecord[], signal?: AbortSignal): Promise<void> => {
    for (const r of dedupe(records)) started.add(key(r));
    await cleanup(records, signal);
  };

  return { name: 'exec', present, cleanup, removeLeftovers, probe };
}

function dedupe<T extends TxtRecord>(records: T[]): T[] {
  const seen = new Map<string, T>();
  for (const r of records) seen.set(`${r.fqdn.toLowerCase()} ${r.value}`, r);
  return [...seen.values()];
}
