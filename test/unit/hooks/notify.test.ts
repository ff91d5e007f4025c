import { describe, expect, test } from 'vitest';
import { notificationsFor, type LineageOutcome } from '../../../src/hooks/notify.js';
import { evaluateConfigText } from '../../../src/config/load.js';
import { PROVIDERS } from '../../../src/dns/providers/registry.js';

const NOW = Date.parse('2026-12-03T10:00:00Z');
const DAY = 86_400_000;
const outcome = (status: LineageOutcome['status'], expiresInDays: number, error?: string): LineageOutcome => ({
  name: `l-${status}`,
  domains: ['g.example.org'],
  status,
  expiry: new Date(NOW + expiresInDays * DAY).toISOString(),
  ...(error === undefined ? {} : { error }),
});

describe('notificationsFor', () => {
  const all = [outcome('failed', 20, 'the CA did not see the TXT record'), outcome('renewed', 90), outcome('current', 3), outcome('current', 30)];
  test('failure (default): only the failed lineage, with the error and what failed', () => {
    const list = notificationsFor(all, ['failure'], { mode: 'renew', nowMs: NOW, host: 'h' });
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ event: 'failure', lineage: 'l-failed', failed: 'renewal', error: 'the CA did not see the TXT record', host: 'h' });
    expect(list[0]?.text).toBe('gxit-cert on h: renewal of l-failed [g.example.org] failed: the CA did not see the TXT record (the live certificate expires 2026-12-23T10:00:00.000Z)');
  });
  test('renewal and expiry (< 7 days left, not just renewed)', () => {
    const list = notificationsFor(all, ['renewal', 'expiry'], { mode: 'issue', nowMs: NOW, host: 'h' });
    expect(list.map((n) => [n.event, n.lineage])).toEqual([
      ['renewal', 'l-renewed'],
      ['expiry', 'l-current'],
    ]);
  });
});

describe('notify: in the configuration', () => {
  const text = (...notify: string[]) =>
    ['server: https://127.0.0.1:14000/dir', 'certificates:', '  - domains: [galaxy.example.org]', 'dns:', '  provider: rfc2136', '  rfc2136:', '    server: 127.0.0.2', 'notify:', ...notify, ''].join('\n');
  const evaluate = (t: string) => evaluateConfigText(t, '/etc/gxit-cert/config.yml', { providers: PROVIDERS, env: {}, readSecretFile: () => ({ data: '' }) });
  test('defaults: on [failure], /usr/sbin/sendmail', () => {
    expect(evaluate(text('  webhook: https://chat.example.org/hooks/abc')).config?.notify).toEqual({ webhook: 'https://chat.example.org/hooks/abc', email: [], on: ['failure'], sendmail: '/usr/sbin/sendmail' });
  });
  test('wrong values name their key; the webhook URL is not quoted', () => {
    const result = evaluate(text('  webhook: http://chat.example.org/hooks/TOKEN123', '  email: [nope]', '  on: [failure, sometimes]'));
    expect(result.problems.map((p) => p.path)).toEqual(['notify.webhook', 'notify.email[0]', 'notify.on[1]']);
    expect(JSON.stringify(result.problems)).not.toContain('TOKEN123');
    expect(evaluate(text('  on: [failure]')).problems[0]?.message).toMatch(/names no receiver/);
  });
});
