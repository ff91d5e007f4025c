/**
 * When renewal runs, as pure functions: the default daily time (derived from the host name, so a
 * fleet does not renew in the same minute), the systemd units and the cron.d entry that install-timer
 * writes, and the certbot jobs that would renew the same names a second time.
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
  /** Absolute path of node. */
  node: string;
  /** Absolute path of bin/gxit-cert.js. */
  cli: string;
  /** Absolute path of the configuration. */
  config: string;
  time: DailyTime;
  /** Seconds of random delay after the daily time. */
  randomDelay: number;
  /** Hours between runs (default 24: daily). */
  everyHours?: number;
}

export const SYSTEMD_SERVICE = 'gxit-cert-renew.service';
export const SYSTEMD_TIMER = 'gxit-cert-renew.timer';
export const SYSTEMD_DIR = '/etc/systemd/system';
export const CRON_FILE = '/etc/cron.d/gxit-cert';

/** A word for systemd's ExecStart=: quoted when it holds white space or quotes. */
function systemdWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `"${word.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A word for /bin/sh (and cron: "%" is a newline there unless escaped). */
function shellWord(word: string): string {
  const quoted = /^[A-Za-z0-9_@+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
  return quoted.replace(/%/g, '\\%');
}

const pad = (n: number): string => String(n).padStart(2, '0');

export function systemdUnits(command: TimerCommand): { service: string; timer: string } {
  const exec = [command.node, command.cli, 'renew', '--config', command.config].map(systemdWord).join(' ');
  const service = `# Written by gxit-cert install-timer.
[Unit]
Description=Renew gxit-cert certificates that are due (ACME DNS-01)
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
ExecStart=${exec}
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

export function cronEntry(command: TimerCommand): string {
  const run = [command.node, command.cli, 'renew', '--quiet', '--config', command.config].map(shellWord).join(' ');
  const delay = command.randomDelay > 0 ? `sleep $(( $(od -An -N2 -tu2 /dev/urandom) \\% ${command.randomDelay} )) && ` : '';
  return `# Written by gxit-cert install-timer: daily renewal check of gxit-cert certificates.
SHELL=/bin/sh
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
${command.time.minute} ${hourField(command.time.hour, command.everyHours ?? 24)} * * * root ${delay}${run}
`;
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
