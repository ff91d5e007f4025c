import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { certbotCronLines, commentOut, disableScheduler, findSchedulers } from '../../../src/migrate/schedulers.js';

const DEBIAN = [
  'SHELL=/bin/sh',
  'PATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin',
  '',
  "0 */12 * * * root test -x /usr/bin/certbot -a \\! -d /run/systemd/system && perl -e 'sleep int(rand(43200))' && certbot -q renew",
  '',
].join('\n');
const ROLE = '#Ansible: Certbot automatic renewal.\n30 3 * * * /opt/certbot/venv/bin/certbot renew --quiet \n#Ansible: other\n0 1 * * * /usr/bin/backup\n';

describe('certbotCronLines', () => {
  it('finds the job of Debian\'s cron file and the one under the role\'s marker, not comments or other jobs', () => {
    expect(certbotCronLines(DEBIAN)).toEqual([3]);
    expect(certbotCronLines(ROLE)).toEqual([1]);
    expect(certbotCronLines('# 0 0 * * * certbot renew\n0 0 * * * /usr/bin/true\n')).toEqual([]);
  });
  it('comments them out with a note', () => {
    expect(commentOut(ROLE, [1], 'off')).toBe('#Ansible: Certbot automatic renewal.\n# 30 3 * * * /opt/certbot/venv/bin/certbot renew --quiet   # off\n#Ansible: other\n0 1 * * * /usr/bin/backup\n');
  });
});

describe('findSchedulers / disableScheduler', () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('lists the timer and the cron files under a root, and disables each', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'gxit-sched-'));
    dirs.push(root);
    await mkdir(path.join(root, 'lib/systemd/system'), { recursive: true });
    await writeFile(path.join(root, 'lib/systemd/system/certbot.timer'), '[Timer]\n');
    await mkdir(path.join(root, 'etc/cron.d'), { recursive: true });
    await writeFile(path.join(root, 'etc/cron.d/certbot'), DEBIAN);
    await mkdir(path.join(root, 'var/spool/cron/crontabs'), { recursive: true });
    await writeFile(path.join(root, 'var/spool/cron/crontabs/root'), ROLE, { mode: 0o600 });
    const found = await findSchedulers(root);
    expect(found.map((s) => [s.kind, s.where])).toEqual([
      ['systemd-timer', 'certbot.timer'],
      ['cron-file', path.join(root, 'etc/cron.d/certbot')],
      ['cron-file', path.join(root, 'var/spool/cron/crontabs/root')],
    ]);
    const calls: string[][] = [];
    expect(await disableScheduler(found[0]!, { systemctl: async (args) => { calls.push(args); } })).toBe('disabled certbot.timer (systemctl disable --now)');
    expect(calls).toEqual([['disable', '--now', 'certbot.timer']]);
    await expect(disableScheduler(found[0]!, { systemctl: async () => { throw new Error('Failed to connect to bus'); } })).rejects.toThrow('systemctl disable --now certbot.timer failed: Failed to connect to bus');
    const cron = path.join(root, 'etc/cron.d/certbot');
    expect(await disableScheduler(found[1]!)).toBe(`${cron}: commented out 1 line (original in ${cron}.bak)`);
    expect(certbotCronLines(await readFile(cron, 'utf8'))).toEqual([]);
    expect(await readFile(`${cron}.bak`, 'utf8')).toBe(DEBIAN);
    // Disabling twice is harmless, and the first .bak stays.
    expect(await disableScheduler(found[1]!)).toBe(`${cron}: nothing to do`);
    expect(await readFile(`${cron}.bak`, 'utf8')).toBe(DEBIAN);
    expect((await findSchedulers(root)).map((s) => s.where)).toEqual(['certbot.timer', path.join(root, 'var/spool/cron/crontabs/root')]);
  });
});
