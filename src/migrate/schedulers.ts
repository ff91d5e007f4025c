/**
 * certbot's own renewal schedulers: Debian's certbot.timer and /etc/cron.d/certbot, and the Galaxy
 * role's cron entry (ansible's cron module: a "#Ansible: Certbot automatic renewal." line above the
 * job, in a user crontab or a file under /etc/cron.d). Finding them reads files; disabling comments
 * out the job lines (the original kept as .bak) or runs `systemctl disable --now certbot.timer`.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { messageOf } from '../errors.js';
import { backupAndReplace } from './write.js';

const ROLE_MARKER = '#Ansible: Certbot automatic renewal.';

export interface Scheduler {
  kind: 'systemd-timer' | 'cron-file';
  /** The unit name or the file. */
  where: string;
  /** The job lines that run certbot (cron), for the listing. */
  lines: string[];
}

/** Lines of a crontab that run certbot renew and are not commented out (pure). Role entries count via the marker above. */
export function certbotCronLines(text: string): number[] {
  const lines = text.split('\n');
  const found: number[] = [];
  lines.forEach((line, i) => {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) return;
    const afterMarker = i > 0 && lines[i - 1]!.trim() === ROLE_MARKER;
    if (afterMarker || /\bcertbot\b.*\brenew\b/.test(t)) found.push(i);
  });
  return found;
}

/** The crontab with those lines commented out, saying why (pure). */
export function commentOut(text: string, indexes: readonly number[], note: string): string {
  const lines = text.split('\n');
  for (const i of indexes) lines[i] = `# ${lines[i]!}  # ${note}`;
  return lines.join('\n');
}

/** Files cron reads in `dir`: not our .bak copies, nor (in /etc/cron.d) names with a dot, which cron skips. */
async function listDir(dir: string, dotted: boolean): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names
    .filter((n) => !n.startsWith('.') && !n.endsWith('.bak') && (dotted || !n.includes('.')))
    .sort()
    .map((n) => join(dir, n));
}

/** Every certbot scheduler under `root` ("/" on a real host). */
export async function findSchedulers(root: string): Promise<Scheduler[]> {
  const found: Scheduler[] = [];
  for (const dir of ['lib/systemd/system', 'usr/lib/systemd/system', 'etc/systemd/system']) {
    if (await stat(join(root, dir, 'certbot.timer')).then(() => true, () => false)) {
      found.push({ kind: 'systemd-timer', where: 'certbot.timer', lines: [] });
      break;
    }
  }
  const files = [
    ...(await listDir(join(root, 'etc/cron.d'), false)),
    ...(await listDir(join(root, 'var/spool/cron/crontabs'), true)),
    ...(await listDir(join(root, 'var/spool/cron'), true)),
    join(root, 'etc/crontab'),
  ];
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const lines = certbotCronLines(text);
    if (lines.length > 0) found.push({ kind: 'cron-file', where: file, lines: lines.map((i) => text.split('\n')[i]!.trim()) });
  }
  return found;
}

export interface DisableDeps {
  systemctl?: (args: string[]) => Promise<void>;
}

const execFileP = promisify(execFile);

/** Disables one scheduler; returns what was done, or throws with the reason. */
export async function disableScheduler(s: Scheduler, deps: DisableDeps = {}): Promise<string> {
  if (s.kind === 'systemd-timer') {
    const systemctl = deps.systemctl ?? (async (args: string[]) => { await execFileP('systemctl', args); });
    try {
      await systemctl(['disable', '--now', 'certbot.timer']);
    } catch (error) {
      throw new Error(`systemctl disable --now certbot.timer failed: ${messageOf(error)}`);
    }
    return 'disabled certbot.timer (systemctl disable --now)';
  }
  const text = await readFile(s.where, 'utf8');
  const lines = certbotCronLines(text);
  if (lines.length === 0) return `${s.where}: nothing to do`;
  await backupAndReplace(s.where, commentOut(text, lines, 'disabled by gxit-cert import-certbot'));
  return `${s.where}: commented out ${lines.length} line${lines.length === 1 ? '' : 's'} (original in ${s.where}.bak)`;
}
