import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import {
  certbotConflicts,
  chooseScheduler,
  cronEntry,
  dailyTimeFor,
  defaultCronExpression,
  isCertbotRenewLine,
  scheduleServiceUnit,
  systemdUnits,
  type SchedulerFacts,
  type SchedulerKind,
} from '../../../src/renew/schedule.js';

const command = { binary: '/opt/gxit cert/bin/gxit-cert', nodeDir: '/usr/bin', config: '/etc/gxit-cert/config.yml', time: { hour: 3, minute: 7 }, randomDelay: 3600 };

describe('default schedule', () => {
  it('derives a stable time in range from the host name', () => {
    const a = dailyTimeFor('galaxy.example.org');
    expect(dailyTimeFor('GALAXY.example.org')).toEqual(a);
    for (const host of ['a', 'b', 'galaxy-1', 'galaxy-2', 'usegalaxy.eu']) {
      const t = dailyTimeFor(host);
      expect(t.hour).toBeGreaterThanOrEqual(0);
      expect(t.hour).toBeLessThan(24);
      expect(t.minute).toBeGreaterThanOrEqual(0);
      expect(t.minute).toBeLessThan(60);
    }
    const times = new Set(['galaxy-1', 'galaxy-2', 'galaxy-3', 'galaxy-4'].map((h) => defaultCronExpression(h)));
    expect(times.size).toBeGreaterThan(1);
    expect(defaultCronExpression('galaxy.example.org')).toBe(`${a.minute} ${a.hour} * * *`);
  });
});

describe('install-timer files', () => {
  it('writes a oneshot service and a persistent timer with a random delay', () => {
    const { service, timer } = systemdUnits(command);
    expect(service).toContain('Type=oneshot\n');
    expect(service).toContain('\nExecStart="/opt/gxit cert/bin/gxit-cert" renew --config /etc/gxit-cert/config.yml\n');
    expect(service).not.toContain('Environment=');
    expect(timer).toContain('OnCalendar=*-*-* 03:07:00\n');
    expect(timer).toContain('RandomizedDelaySec=3600\n');
    expect(timer).toContain('Persistent=true\n');
    expect(timer).toContain('WantedBy=timers.target\n');
  });

  it('doubles % in the units, since systemd expands specifiers such as %h even inside quotes', () => {
    const odd = { ...command, config: '/etc/gxit-cert/50%h.yml', environment: [['NO_PROXY', '50%.example.org']] as [string, string][] };
    expect(systemdUnits(odd).service).toContain('\nExecStart="/opt/gxit cert/bin/gxit-cert" renew --config /etc/gxit-cert/50%%h.yml\n');
    expect(systemdUnits(odd).service).toContain('\nEnvironment=NO_PROXY=50%%.example.org\n');
    expect(scheduleServiceUnit(odd)).toContain('50%%h.yml');
  });

  it('writes a cron.d line with the user, a quoted path and an escaped %', () => {
    const text = cronEntry({ ...command, config: '/etc/gxit-cert/50%.yml' });
    const line = text.split('\n').find((l) => /^\d/.test(l));
    expect(line).toBe(
      "7 3 * * * root sleep $(( $(od -An -N2 -tu2 /dev/urandom) \\% 3600 )) && '/opt/gxit cert/bin/gxit-cert' renew --quiet --config '/etc/gxit-cert/50\\%.yml'",
    );
    expect(text).toContain('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n');
    expect(cronEntry({ ...command, randomDelay: 0 })).not.toContain('sleep');
  });

  it('puts node on PATH when it lives outside the standard directories', () => {
    const elsewhere = { ...command, nodeDir: '/opt/node-v20.20.2/bin' };
    expect(cronEntry(elsewhere)).toContain('\nPATH=/opt/node-v20.20.2/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n');
    expect(systemdUnits(elsewhere).service).toContain('\nEnvironment=PATH=/opt/node-v20.20.2/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nExecStart=');
    expect(scheduleServiceUnit(elsewhere)).toContain('\nEnvironment=PATH=/opt/node-v20.20.2/bin:');
    expect(cronEntry({ ...command, nodeDir: '/usr/local/bin' })).toContain('\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n');
  });

  it('gives the job the proxy variables it is given', () => {
    const environment: [string, string][] = [['HTTPS_PROXY', 'http://proxy.example.org:3128'], ['NO_PROXY', 'localhost, .example.org']];
    expect(systemdUnits({ ...command, environment }).service).toContain(
      '\nEnvironment=HTTPS_PROXY=http://proxy.example.org:3128\nEnvironment="NO_PROXY=localhost, .example.org"\nExecStart=',
    );
    expect(scheduleServiceUnit({ ...command, environment })).toContain('\nEnvironment=HTTPS_PROXY=http://proxy.example.org:3128\n');
    expect(cronEntry({ ...command, environment })).toContain('\nHTTPS_PROXY=http://proxy.example.org:3128\nNO_PROXY=localhost, .example.org\n7 3 * * * root ');
    expect(cronEntry({ ...command, environment: [['NO_PROXY', '50%.example.org']] })).not.toContain('NO_PROXY');
  });

  it('ships systemd/gxit-cert-schedule.service as the unit it writes for the default prefix', async () => {
    const shipped = await readFile(new URL('../../../systemd/gxit-cert-schedule.service', import.meta.url), 'utf8');
    expect(shipped).toBe(scheduleServiceUnit({ binary: '/usr/local/bin/gxit-cert', nodeDir: '/usr/bin', config: '/etc/gxit-cert/config.yml' }));
    expect(shipped).toContain('\nExecStart=/usr/local/bin/gxit-cert schedule --config /etc/gxit-cert/config.yml\n');
    expect(shipped).toContain('\nKillMode=mixed\n');
  });
});

describe('which scheduler install-timer writes for', () => {
  const none: SchedulerFacts = { systemdRuns: false };
  const cron: SchedulerFacts = { systemdRuns: false, cronDaemon: '/usr/sbin/cron' };
  const systemd: SchedulerFacts = { systemdRuns: true };
  const both: SchedulerFacts = { systemdRuns: true, cronDaemon: '/usr/sbin/cron' };
  it.each<[SchedulerKind | undefined, SchedulerFacts, SchedulerKind | RegExp]>([
    [undefined, systemd, 'systemd'],
    [undefined, both, 'systemd'],
    [undefined, cron, 'cron'],
    [undefined, none, /^neither systemd nor a cron daemon/],
    ['systemd', systemd, 'systemd'],
    ['systemd', cron, /^systemd is not running/],
    ['systemd', none, /^systemd is not running/],
    ['cron', both, 'cron'],
    ['cron', cron, 'cron'],
    ['cron', systemd, /^no cron daemon is installed/],
    ['cron', none, /^no cron daemon is installed/],
  ])('requested %s with %j -> %s', (requested, facts, expected) => {
    const choice = chooseScheduler(requested, facts);
    if (typeof expected === 'string') {
      expect(choice).toEqual({ kind: expected });
    } else {
      expect('refuse' in choice && choice.refuse.message).toMatch(expected);
      expect('refuse' in choice && choice.refuse.fix).toContain('gxit-cert schedule');
    }
  });

  it('suggests --cron when systemd is absent but cron is installed', () => {
    const choice = chooseScheduler('systemd', cron);
    expect('refuse' in choice && choice.refuse.fix).toMatch(/^use --cron \(cron is installed: \/usr\/sbin\/cron\)/);
  });
});

describe('certbot jobs', () => {
  it.each<[string, boolean]>([
    ['30 3 * * * certbot renew --quiet', true],
    ['0 */12 * * * root test -x /usr/bin/certbot -a \\! -d /run/systemd/system && perl -e \'sleep int(rand(43200))\' && certbot -q renew', true],
    ['#Ansible: Certbot automatic renewal.', false],
    ['# 30 3 * * * certbot renew', false],
    ['30 3 * * * /usr/local/bin/certbot-auto renew', true],
    ['30 3 * * * gxit-cert renew', false],
    ['30 3 * * * certbot certonly -d x', false],
  ])('%s -> %s', (line, expected) => {
    expect(isCertbotRenewLine(line)).toBe(expected);
  });

  it('warns for certbot lineages with our names only while a certbot job runs', () => {
    const lineages = [
      { name: 'galaxy.example.org', file: '/etc/letsencrypt/renewal/galaxy.example.org.conf', domains: ['galaxy.example.org', '*.ep.interactivetool.galaxy.example.org'] },
      { name: 'other.example.org', file: '/etc/letsencrypt/renewal/other.example.org.conf', domains: ['other.example.org'] },
    ];
    const ours = ['galaxy.example.org', '*.ep.interactivetool.galaxy.example.org'];
    const warnings = certbotConflicts([{ where: '/var/spool/cron/crontabs/root' }], lineages, ours);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('galaxy.example.org, *.ep.interactivetool.galaxy.example.org');
    expect(warnings[0]).toContain('/var/spool/cron/crontabs/root');
    expect(warnings[0]).toContain('certbot delete --cert-name galaxy.example.org');
    expect(certbotConflicts([], lineages, ours)).toEqual([]);
    expect(certbotConflicts([{ where: 'certbot.timer (enabled)' }], lineages, ['x.example.org'])).toEqual([]);
  });
});

describe('short-lived lineages are checked every 6 hours', async () => {
  const { renewalIntervalHours, defaultCronExpression, cronEntry, systemdUnits } = await import('../../../src/renew/schedule.js');
  const DAY = 86_400_000;
  it('6 h when a lineage lives under 10 days or the shortlived profile is configured; else 24 h', () => {
    expect(renewalIntervalHours([90 * DAY, 6.6 * DAY])).toBe(6);
    expect(renewalIntervalHours([90 * DAY, 10 * DAY])).toBe(24);
    expect(renewalIntervalHours([], [undefined, 'shortlived'])).toBe(6);
    expect(renewalIntervalHours([], ['tlsserver'])).toBe(24);
  });
  it('the cron hour field and the systemd OnCalendar repeat from the host hour', () => {
    const daily = defaultCronExpression('galaxy.example.org');
    const [minute, hour] = daily.split(' ');
    expect(defaultCronExpression('galaxy.example.org', 6)).toBe(`${minute} ${Number(hour) % 6}-23/6 * * *`);
    const command = { binary: '/opt/g/bin/gxit-cert', nodeDir: '/usr/bin', config: '/etc/gxit-cert/config.yml', time: { hour: 15, minute: 7 }, randomDelay: 3600, everyHours: 6 };
    expect(cronEntry(command)).toMatch(/^7 3-23\/6 \* \* \* root /m);
    expect(systemdUnits(command).timer).toMatch(/^OnCalendar=\*-\*-\* 03\/6:07:00$/m);
    expect(systemdUnits({ ...command, everyHours: 24 }).timer).toMatch(/^OnCalendar=\*-\*-\* 15:07:00$/m);
  });
});
