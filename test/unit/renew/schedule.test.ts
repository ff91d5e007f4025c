import { describe, expect, it } from 'vitest';
import { certbotConflicts, cronEntry, dailyTimeFor, defaultCronExpression, isCertbotRenewLine, systemdUnits } from '../../../src/renew/schedule.js';

const command = { node: '/usr/bin/node', cli: '/opt/gxit cert/bin/gxit-cert.js', config: '/etc/gxit-cert/config.yml', time: { hour: 3, minute: 7 }, randomDelay: 3600 };

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
    expect(service).toContain('ExecStart=/usr/bin/node "/opt/gxit cert/bin/gxit-cert.js" renew --config /etc/gxit-cert/config.yml\n');
    expect(timer).toContain('OnCalendar=*-*-* 03:07:00\n');
    expect(timer).toContain('RandomizedDelaySec=3600\n');
    expect(timer).toContain('Persistent=true\n');
    expect(timer).toContain('WantedBy=timers.target\n');
  });

  it('writes a cron.d line with the user, a quoted path and an escaped %', () => {
    const text = cronEntry({ ...command, config: '/etc/gxit-cert/50%.yml' });
    const line = text.split('\n').find((l) => /^\d/.test(l));
    expect(line).toBe(
      "7 3 * * * root sleep $(( $(od -An -N2 -tu2 /dev/urandom) \\% 3600 )) && /usr/bin/node '/opt/gxit cert/bin/gxit-cert.js' renew --quiet --config '/etc/gxit-cert/50\\%.yml'",
    );
    expect(text).toContain('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n');
    expect(cronEntry({ ...command, randomDelay: 0 })).not.toContain('sleep');
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
    const command = { node: '/usr/bin/node', cli: '/opt/g/bin/gxit-cert.js', config: '/etc/gxit-cert/config.yml', time: { hour: 15, minute: 7 }, randomDelay: 3600, everyHours: 6 };
    expect(cronEntry(command)).toMatch(/^7 3-23\/6 \* \* \* root /m);
    expect(systemdUnits(command).timer).toMatch(/^OnCalendar=\*-\*-\* 03\/6:07:00$/m);
    expect(systemdUnits({ ...command, everyHours: 24 }).timer).toMatch(/^OnCalendar=\*-\*-\* 15:07:00$/m);
  });
});
