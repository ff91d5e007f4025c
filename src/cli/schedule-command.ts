/**
 * `gxit-cert schedule`: a long-running process that runs renew on a cron expression (the `cron`
 * package), logs each run, survives failed runs and stops cleanly on SIGTERM/SIGINT.
 * `gxit-cert install-timer`: writes (or prints) a systemd service + timer, an /etc/cron.d entry or a
 * service running `schedule`, always naming the installed gxit-cert, and only for a scheduler that runs.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile } from 'node:fs/promises';
import { readBoundedFile, readBoundedText } from '../files/read.js';
import { hostname } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { DURATIONS, describeRange, inDurationRange } from '../config/durations.js';
import { hasUnsafeChars, redactLine, showPath, showValue } from '../redact.js';
import { PROVIDERS } from '../dns/providers/registry.js';
import { GxitError, messageOf } from '../errors.js';
import { describeCertificate } from '../renew/facts.js';
import {
  CRON_FILE,
  SYSTEMD_DIR,
  SYSTEMD_SCHEDULE_SERVICE,
  SYSTEMD_SERVICE,
  SYSTEMD_TIMER,
  certbotConflicts,
  chooseScheduler,
  cronEntry,
  dailyTimeFor,
  defaultCronExpression,
  renewalIntervalHours,
  isCertbotRenewLine,
  scheduleServiceUnit,
  systemdUnits,
  type CertbotJob,
  type CertbotLineage,
  type SchedulerFacts,
} from '../renew/schedule.js';
import { proxyVariables } from '../net/proxy.js';
import { CRON_DAEMONS, installedBinary } from './installation.js';
import { nodeFs, writeFileAtomic } from '../store/fs.js';
import { EXIT_OK, EXIT_USAGE, exitCodeFor, formatError, formatVerbose } from './output.js';

export interface ScheduleOptions {
  config: string;
  cron?: string;
  randomDelay?: string;
  verbose?: boolean;
}

/** Default random delay before each run of the default (daily) schedule, seconds. */
const DEFAULT_RANDOM_DELAY = 3600;

/** 6 hours when a stored or configured lineage lives under 10 days, else 24 (renew/schedule.ts). */
async function renewalInterval(config: Config): Promise<number> {
  const [{ openStore }, { readSnapshots }] = await Promise.all([import('../store/factory.js'), import('../renew/facts.js')]);
  const opened = await openStore(config);
  try {
    const names = [...new Set([...config.certificates.map((c) => c.name), ...(await opened.store.listLineages())])];
    const snapshots = await readSnapshots(opened.store, names);
    const lifetimes = [...snapshots.values()].flatMap((s) => (s.certificate === undefined ? [] : [s.certificate.notAfterMs - s.certificate.notBeforeMs]));
    return renewalIntervalHours(lifetimes, config.certificates.map((c) => c.profile));
  } finally {
    await opened.close();
  }
}

function log(message: string): void {
  process.stderr.write(`[${new Date().toISOString()}] schedule: ${message}\n`);
}

export async function runSchedule(opts: ScheduleOptions): Promise<number> {
  try {
    const { CronJob, validateCronExpression } = await import('cron');
    const configPath = resolvePath(opts.config);
    // A broken configuration is reported now, not at the first run hours later.
    const config = await loadConfig(configPath, { providers: PROVIDERS });
    const expression = opts.cron ?? defaultCronExpression(hostname(), await renewalInterval(config));
    const valid = validateCronExpression(expression);
    if (!valid.valid) {
      throw new GxitError('USAGE', `--cron "${expression}" is not a cron expression: ${valid.error?.message ?? 'invalid'}`, {
        subject: '--cron',
        fix: 'write 5 fields (minute hour day month weekday) or 6 with seconds first, e.g. --cron "30 3 * * *"',
      });
    }
    const randomDelayMs = parseDelay(opts.randomDelay, opts.cron === undefined ? DEFAULT_RANDOM_DELAY : 0) * 1000;
    const { runRenew } = await import('./renew-command.js');

    let running: Promise<void> | undefined;
    let stopping = false;
    let cancelDelay: (() => void) | undefined;
    const sleep = (ms: number): Promise<void> =>
      new Promise((resolve) => {
        const timer = setTimeout(resolve, ms);
        cancelDelay = () => {
          clearTimeout(timer);
          resolve();
        };
      });

    const runOnce = async (): Promise<void> => {
      if (randomDelayMs > 0) {
        const delay = Math.floor(Math.random() * randomDelayMs);
        log(`waiting ${(delay / 1000).toFixed(0)} s (random delay) before renew`);
        await sleep(delay);
        cancelDelay = undefined;
        if (stopping) return;
      }
      const started = Date.now();
      log(`running renew --config ${configPath}`);
      let code: number;
      try {
        code = await runRenew({ config: configPath, ...(opts.verbose ? { verbose: true } : {}) });
      } catch (error) {
        // runRenew reports its own errors; anything escaping it must not end the schedule.
        log(`renew failed unexpectedly: ${messageOf(error)}`);
        code = 1;
      }
      const seconds = ((Date.now() - started) / 1000).toFixed(2);
      log(`renew finished with exit code ${code} in ${seconds} s${stopping ? '' : `; next run at ${job.nextDate().toISO()}`}`);
    };

    const job = new CronJob(expression, () => {
      if (stopping) return;
      if (running !== undefined) {
        log('the previous renew is still running: skipping this run');
        return;
      }
      running = runOnce().finally(() => {
        running = undefined;
      });
    });
    job.start();
    const delayNote = randomDelayMs > 0 ? `, plus a random delay of up to ${randomDelayMs / 1000} s` : '';
    log(`renew runs at "${expression}"${delayNote}; next run at ${job.nextDate().toISO()}`);

    await new Promise<void>((resolve) => {
      const stop = (signal: NodeJS.Signals): void => {
        if (stopping) return;
        stopping = true;
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        log(`${signal}: stopping${running ? ' after the current renew' : ''}`);
        void job.stop();
        cancelDelay?.();
        // A renew in progress sees the same signal and abandons its order after cleanup.
        void (running ?? Promise.resolve()).then(() => resolve());
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
    log('stopped');
    return EXIT_OK;
  } catch (error) {
    process.stderr.write(`${formatError(error)}\n`);
    if (opts.verbose) process.stderr.write(`${formatVerbose(error)}\n`);
    return exitCodeFor(error);
  }
}

/** `--at HH:MM`. */
function parseTimeOfDay(text: string): { hour: number; minute: number } {
  const match = /^([01]?[0-9]|2[0-3]):([0-5][0-9])$/.exec(text.trim());
  if (!match) {
    throw new GxitError('USAGE', `--at "${text}" is not a time of day`, { subject: '--at', fix: 'write HH:MM, e.g. --at 03:30' });
  }
  return { hour: Number(match[1]), minute: Number(match[2]) };
}

async function requireDirectory(root: string): Promise<void> {
  // A missing root is created below (packaging into an empty tree); anything else must be a directory.
  const stat = await lstat(root).catch(() => undefined);
  if (stat !== undefined && !stat.isDirectory()) {
    throw new GxitError('USAGE', `--root ${JSON.stringify(showPath(root))} is not a directory`, { subject: '--root', fix: 'name a directory (or a path to create) as --root' });
  }
}

function parseDelay(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^[0-9]+$/.test(text.trim())) {
    throw new GxitError('USAGE', `--random-delay ${showValue(text)} is not a number of seconds`, { subject: '--random-delay', fix: 'write whole seconds, e.g. --random-delay 600' });
  }
  const seconds = Number(text.trim());
  const rule = DURATIONS['schedule --random-delay'];
  if (!inDurationRange(seconds, rule)) {
    throw new GxitError('USAGE', `--random-delay ${seconds} is not ${describeRange(rule)}`, { subject: '--random-delay', fix: `write whole seconds ${describeRange(rule)}, e.g. --random-delay 600` });
  }
  return seconds;
}

// ------------------------------------------------------------------------------------------ install

export interface InstallTimerOptions {
  config: string;
  systemd?: boolean;
  cron?: boolean;
  /** Install gxit-cert-schedule.service (a long-running `schedule`) instead of the timer. */
  service?: boolean;
  /** HH:MM instead of the time derived from the host name. */
  at?: string;
  print?: boolean;
  /** Prefix for every system path (packaging, tests). */
  root?: string;
}

const run = promisify(execFile);

export async function runInstallTimer(opts: InstallTimerOptions): Promise<number> {
  const out = process.stdout;
  const err = process.stderr;
  try {
    if ([opts.systemd, opts.cron, opts.service].filter(Boolean).length > 1) {
      throw new GxitError('USAGE', '--systemd, --cron and --service exclude each other', { subject: 'install-timer', fix: 'choose one' });
    }
    const root = resolvePath(opts.root ?? '/');
    if (opts.root !== undefined) await requireDirectory(root);
    const at = (path: string): string => join(root, path);
    const facts = await schedulerFacts(at);
    const choice = chooseScheduler(opts.cron ? 'cron' : opts.systemd || opts.service ? 'systemd' : undefined, facts);
    if ('refuse' in choice) {
      // Printing writes nothing that could silently never run; say so and show the files anyway.
      if (!opts.print) throw new GxitError('SCHEDULER_MISSING', choice.refuse.message, { subject: 'install-timer', fix: choice.refuse.fix });
      err.write(`warning: ${choice.refuse.message} (${choice.refuse.fix})\n`);
    }
    const kind = 'kind' in choice ? choice.kind : opts.cron ? 'cron' : 'systemd';
    const configPath = resolvePath(opts.config);
    // These paths and values become lines of a unit or cron file: a newline in one would add lines of its own.
    const requireSafe = (written: readonly (readonly [string, string])[]): void => {
      for (const [what, value] of written) {
        if (hasUnsafeChars(value)) {
          throw new GxitError('USAGE', `${what} ${JSON.stringify(showPath(value)).replace(/\\\\u/g, '\\u')} contains a control character, which cannot go into a ${kind === 'systemd' ? 'systemd unit' : 'cron file'}`, {
            subject: what,
            fix: 'use a value without newlines or other control characters',
          });
        }
      }
    };
    requireSafe([['--config', configPath], ['the node binary path', process.execPath]]);
    const binary = await installedBinary();
    // Scheduled runs use the proxy this command runs with (a password in it is not written down).
    const proxy = proxyVariables(process.env);
    requireSafe([['the gxit-cert path', binary], ...proxy.variables]);
    const config = await loadConfig(configPath, { providers: PROVIDERS });
    for (const name of proxy.withCredentials) {
      err.write(`warning: ${name} holds a user or password and is not written into the world-readable job; give the job an EnvironmentFile= (see docs/proxies.md)\n`);
    }
    const command = {
      environment: proxy.variables,
      binary,
      nodeDir: dirname(process.execPath),
      config: configPath,
      time: opts.at === undefined ? dailyTimeFor(hostname()) : parseTimeOfDay(opts.at),
      randomDelay: DEFAULT_RANDOM_DELAY,
      everyHours: await renewalInterval(config),
    };
    const unitToEnable = opts.service ? SYSTEMD_SCHEDULE_SERVICE : SYSTEMD_TIMER;
    const files = opts.service
      ? [{ path: `${SYSTEMD_DIR}/${SYSTEMD_SCHEDULE_SERVICE}`, text: scheduleServiceUnit(command) }]
      : kind === 'systemd'
        ? (() => {
            const units = systemdUnits(command);
            return [
              { path: `${SYSTEMD_DIR}/${SYSTEMD_SERVICE}`, text: units.service },
              { path: `${SYSTEMD_DIR}/${SYSTEMD_TIMER}`, text: units.timer },
            ];
          })()
        : [{ path: CRON_FILE, text: cronEntry(command) }];

    const domains = config.certificates.flatMap((c) => c.domains);
    const [jobs, lineages] = await Promise.all([findCertbotJobs(at), findCertbotLineages(at)]);
    for (const warning of certbotConflicts(jobs, lineages, domains)) err.write(`warning: ${redactLine(warning)}\n`);

    if (opts.print) {
      for (const file of files) out.write(`# ${file.path}\n${file.text}\n`);
      return EXIT_OK;
    }
    for (const file of files) {
      const path = at(file.path);
      // Unchanged files are left alone and said so: configuration management counts "wrote" lines.
      if ((await readFile(path, 'utf8').catch(() => undefined)) === file.text) {
        err.write(`unchanged ${path}\n`);
        continue;
      }
      await mkdir(dirname(path), { recursive: true, mode: 0o755 });
      await writeFileAtomic(nodeFs, path, file.text, { mode: 0o644 });
      err.write(`wrote ${path}\n`);
    }
    if (kind === 'systemd') {
      if (root === '/') {
        await run('systemctl', ['daemon-reload']);
        await run('systemctl', ['enable', '--now', unitToEnable]);
        err.write(`enabled ${unitToEnable}: see systemctl ${opts.service ? 'status' : 'list-timers'} ${unitToEnable}\n`);
      } else {
        err.write(`written below ${root}: enable it there with systemctl daemon-reload && systemctl enable --now ${unitToEnable}\n`);
      }
    } else {
      err.write(`cron (${facts.cronDaemon ?? 'cron'}) runs ${command.binary} renew daily at ${String(command.time.hour).padStart(2, '0')}:${String(command.time.minute).padStart(2, '0')} plus up to ${command.randomDelay} s\n`);
      if (root === '/' && !(await processRuns(['cron', 'crond']))) {
        err.write('warning: no cron process runs right now: start the cron daemon (systemctl enable --now cron, or crond), or renewals never run\n');
      }
    }
    return EXIT_OK;
  } catch (error) {
    err.write(`${formatError(error)}\n`);
    return error instanceof GxitError ? exitCodeFor(error) : EXIT_USAGE;
  }
}

/** Whether systemd runs and which cron daemon is installed, below `root`. */
async function schedulerFacts(at: (path: string) => string): Promise<SchedulerFacts> {
  const cronDaemon = CRON_DAEMONS.find((path) => existsSync(at(path)));
  return { systemdRuns: existsSync(at('/run/systemd/system')), ...(cronDaemon === undefined ? {} : { cronDaemon }) };
}

/** Whether a process with one of these names runs (from /proc/<pid>/comm). */
async function processRuns(names: readonly string[]): Promise<boolean> {
  const pids = (await readdir('/proc').catch(() => [] as string[])).filter((p) => /^[0-9]+$/.test(p));
  for (const pid of pids) {
    const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
    if (names.includes(comm.trim())) return true;
  }
  return false;
}

/** certbot renewal jobs: cron.d files and crontabs with `certbot ... renew`, enabled certbot timers. */
async function findCertbotJobs(at: (path: string) => string): Promise<CertbotJob[]> {
  const jobs: CertbotJob[] = [];
  const crontabs = ['/etc/crontab'];
  for (const dir of ['/etc/cron.d', '/var/spool/cron/crontabs', '/var/spool/cron']) {
    for (const name of await readdir(at(dir)).catch(() => [] as string[])) crontabs.push(`${dir}/${name}`);
  }
  for (const file of crontabs) {
    const text = await readBoundedText(at(file), { kind: 'config' }).catch(() => undefined);
    if (text?.split('\n').some(isCertbotRenewLine)) jobs.push({ where: file });
  }
  for (const timer of ['certbot.timer', 'snap.certbot.renew.timer']) {
    if (existsSync(at(`/etc/systemd/system/timers.target.wants/${timer}`))) jobs.push({ where: `${timer} (enabled)` });
  }
  return jobs;
}

/** certbot's lineages (/etc/letsencrypt/renewal/<name>.conf) with the names of their live certificate. */
async function findCertbotLineages(at: (path: string) => string): Promise<CertbotLineage[]> {
  const dir = '/etc/letsencrypt/renewal';
  const lineages: CertbotLineage[] = [];
  for (const file of await readdir(at(dir)).catch(() => [] as string[])) {
    if (!file.endsWith('.conf')) continue;
    const name = file.slice(0, -'.conf'.length);
    let domains = [name];
    try {
      domains = describeCertificate((await readBoundedFile(at(`/etc/letsencrypt/live/${name}/cert.pem`), { kind: 'pem' })).data).sans;
    } catch {
      // Without a readable certificate the lineage name is the best guess at its names.
    }
    lineages.push({ name, file: `${dir}/${file}`, domains });
  }
  return lineages;
}
