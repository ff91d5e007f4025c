/**
 * When renewal runs, as pure functions: the default daily time (derived from the host name, so a
 * fleet does not renew in the same minute), the systemd units and the cron.d entry that install-timer
 * writes, which scheduler it may write for, and the certbot jobs that would renew the same names a
 * second time.
 */
import { SHORT_LIFETIME_MS } from './due.js';
import { createHash } from 'node:crypto';

export interface DailyTime {
  hour: number;
  minute: number;
}

/** A stable hour and minute for this host. */
export function dailyTimeFor(hostname: string): DailyTime {
  const digest = createHash('sha256').update(hostname.toLowerCase()).digest();
  return { hour: digest.readUInt16BE(0) % 24, minute: digest.readUInt16BE(2) % 60 };
}

/**
 * Hours between renewal runs: 24, or 6 when a lineage lives under 10 days (due at half its
 * lifetime, a 6-day certificate must not depend on one daily run) or is configured with Let's
 * Encrypt's `shortlived` profile before its first issuance. Pure: the lifetimes are passed in.
 */
export function renewalIntervalHours(lifetimesMs: readonly number[], profiles: readonly (string | undefined)[] = []): 6 | 24 {
  const short = lifetimesMs.some((ms) => ms < SHORT_LIFETIME_MS) || profiles.includes('shortlived');
  return short ? 6 : 24;
}

/** The hour field: the host's hour, or every `everyHours` hours starting from it. */
function hourField(hour: number, everyHours: number): string {
  return everyHours >= 24 ? String(hour) : `${hour % everyHours}-23/${everyHours}`;
}

export function defaultCronExpression(hostname: string, everyHours = 24): string {
  const { hour, minute } = dailyTimeFor(hostname);
  return `${minute} ${hourField(hour, everyHours)} * * *`;
}

export interface TimerCommand {
  /** Absolute path of the installed gxit-cert (e.g. /usr/local/bin/gxit-cert), never a checkout's. */
  binary: string;
  /** Directory of the node that runs it: added to PATH when it is not a standard one (the binary starts with `#!/usr/bin/env node`). */
  nodeDir: string;
  /** Absolute path of the configuration. */
  config: string;
  time: DailyTime;
  /** Seconds of random delay after the daily time. */
  randomDelay: number;
  /** More environment of the job (the proxy variables install-timer ran with). */
  environment?: readonly [string, string][];
  /** Hours between runs (default 24: daily). */
  everyHours?: number;
}

export const SYSTEMD_SERVICE = 'gxit-cert-renew.service';
export const SYSTEMD_TIMER = 'gxit-cert-renew.timer';
export const SYSTEMD_SCHEDULE_SERVICE = 'gxit-cert-schedule.service';
export const SYSTEMD_DIR = '/etc/systemd/system';
export const CRON_FILE = '/etc/cron.d/gxit-cert';

/** The PATH that cron sets in its entry and systemd gives services. */
export const STANDARD_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** STANDARD_PATH, preceded by node's directory when node lives elsewhere (/opt/node-v20/bin, nvm). */
export function pathWithNode(nodeDir: string): string {
  return STANDARD_PATH.split(':').includes(nodeDir) ? STANDARD_PATH : `${nodeDir}:${STANDARD_PATH}`;
}

/**
 * A word for systemd's ExecStart= and Environment=: quoted when it holds white space or quotes, and
 * "%" doubled, since systemd expands specifiers (%h, %n, ...) inside quotes too.
 */
function systemdWord(word: string): string {
  const quoted = /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `"${word.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  return quoted.replace(/%/g, '%%');
}

/** A word for /bin/sh (and cron: "%" is a newline there unless escaped). */
function shellWord(word: string): string {
  const quoted = /^[A-Za-z0-9_@+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
  return quoted.replace(/%/g, '\\%');
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** `Environment=PATH=...` when systemd's own PATH would not find node, and the job's other variables. */
function systemdPath(nodeDir: string, environment: readonly [string, string][] = []): string {
  const path = pathWithNode(nodeDir);
  const lines = path === STANDARD_PATH ? [] : [`Environment=${systemdWord(`PATH=${path}`)}`];
  for (const [name, value] of environment) lines.push(`Environment=${systemdWord(`${name}=${value}`)}`);
  return lines.map((l) => `${l}\n`).join('');
}

/** cron.d variable lines: the value is the rest of the line; a newline or % could not be written. */
function cronVariables(environment: readonly [string, string][] = []): string {
  return environment.filter(([, value]) => !/[\n%]/.test(value)).map(([name, value]) => `${name}=${value}\n`).join('');
}

export function systemdUnits(command: TimerCommand): { service: string; timer: string } {
  const exec = [command.binary, 'renew', '--config', command.config].map(systemdWord).join(' ');
  const service = `# Written by gxit-cert install-timer.
[Unit]
Description=Renew gxit-cert certificates that are due (ACME DNS-01)
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
${systemdPath(command.nodeDir, command.environment)}ExecStart=${exec}
`;
  const timer = `# Written by gxit-cert install-timer.
[Unit]
Description=Daily renewal check of gxit-cert certificates

[Timer]
OnCalendar=*-*-* ${(command.everyHours ?? 24) >= 24 ? pad(command.time.hour) : `${pad(command.time.hour % (command.everyHours ?? 24))}/${command.everyHours}`}:${pad(command.time.minute)}:00
RandomizedDelaySec=${command.randomDelay}
Persistent=true

[Install]
WantedBy=timers.target
`;
  return { service, timer };
}

/**
 * The long-running alternative to the timer: `gxit-cert schedule` as a service. The package ships
 * this unit for the default prefix as systemd/gxit-cert-schedule.service (a test keeps them equal).
 */
export function scheduleServiceUnit(command: Pick<TimerCommand, 'binary' | 'nodeDir' | 'config' | 'environment'>): string {
  const exec = [command.binary, 'schedule', '--config', command.config].map(systemdWord).join(' ');
  return `# gxit-cert schedule as a service: renews what is due, daily at a time derived from the host name
# plus a random delay of up to an hour (use either this or gxit-cert-renew.timer, not both).
[Unit]
Description=gxit-cert: renew certificates that are due (ACME DNS-01)
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
${systemdPath(command.nodeDir, command.environment)}ExecStart=${exec}
# SIGTERM reaches gxit-cert first: a renew in progress removes its TXT records, then hooks are stopped.
KillMode=mixed
TimeoutStopSec=60
Restart=on-failure
RestartSec=30

[Install]
WantedBy=multi-user.target
`;
}

export function cronEntry(command: TimerCommand): string {
  const run = [command.binary, 'renew', '--quiet', '--config', command.config].map(shellWord).join(' ');
  const delay = command.randomDelay > 0 ? `sleep $(( $(od -An -N2 -tu2 /dev/urandom) \\% ${command.randomDelay} )) && ` : '';
  return `# Written by gxit-cert install-timer: daily renewal check of gxit-cert certificates.
SHELL=/bin/sh
PATH=${pathWithNode(command.nodeDir)}
${cronVariables(command.environment)}${command.time.minute} ${hourField(command.time.hour, command.everyHours ?? 24)} * * * root ${delay}${run}
`;
}

export type SchedulerKind = 'systemd' | 'cron';

/** What install-timer found on the machine. */
export interface SchedulerFacts {
  /** systemd is the running init (/run/systemd/system exists). */
  systemdRuns: boolean;
  /** The cron daemon's program, when one is installed (/usr/sbin/cron, /usr/sbin/crond, ...). */
  cronDaemon?: string;
}

/** Which scheduler to write for, or why none can be: `{ refuse }` is one sentence and its fix. */
export function chooseScheduler(
  requested: SchedulerKind | undefined,
  facts: SchedulerFacts,
): { kind: SchedulerKind } | { refuse: { message: string; fix: string } } {
  const alternative = 'or run `gxit-cert schedule` as a long-running service (a container)';
  if (requested === 'systemd' || (requested === undefined && facts.systemdRuns)) {
    if (facts.systemdRuns) return { kind: 'systemd' };
    return {
      refuse: {
        message: 'systemd is not running on this machine (no /run/systemd/system): a timer would never fire',
        fix: facts.cronDaemon ? `use --cron (cron is installed: ${facts.cronDaemon}), ${alternative}` : `install cron and use --cron, ${alternative}`,
      },
    };
  }
  if (facts.cronDaemon) return { kind: 'cron' };
  return {
    refuse: {
      message: requested === 'cron'
        ? 'no cron daemon is installed (no cron or crond): /etc/cron.d/gxit-cert would never run'
        : 'neither systemd nor a cron daemon runs this machine\'s scheduled jobs: a renewal entry would never run',
      fix: `install one (apt-get install cron; dnf install cronie) and run install-timer again, ${alternative}`,
    },
  };
}

/** A scheduled certbot renewal found on the machine. */
export interface CertbotJob {
  /** Where: "/etc/cron.d/certbot", "certbot.timer (enabled)", ... */
  where: string;
}

export interface CertbotLineage {
  name: string;
  /** The certbot renewal configuration file. */
  file: string;
  domains: string[];
}

/** Whether a crontab line runs a certbot renewal. */
export function isCertbotRenewLine(line: string): boolean {
  const text = line.trim();
  return text !== '' && !text.startsWith('#') && /\bcertbot(-auto)?\b/.test(text) && /\brenew\b/.test(text);
}

/**
 * Warnings for certbot lineages that a certbot job renews and that share names with ours: two tools
 * renewing the same names double the orders and race for the web server's reload.
 */
export function certbotConflicts(jobs: readonly CertbotJob[], lineages: readonly CertbotLineage[], ourDomains: readonly string[]): string[] {
  if (jobs.length === 0) return [];
  const ours = new Set(ourDomains.map((d) => d.toLowerCase()));
  const by = jobs.map((j) => j.where).join(', ');
  return lineages
    .filter((l) => l.domains.some((d) => ours.has(d.toLowerCase())))
    .map(
      (l) =>
        `certbot also renews ${l.domains.filter((d) => ours.has(d.toLowerCase())).join(', ')} (${l.file}) from ${by}: ` +
        `let one tool renew these names (certbot delete --cert-name ${l.name}, or disable the certbot job)`,
    );
}
