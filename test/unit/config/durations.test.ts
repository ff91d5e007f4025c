import { describe, expect, test } from 'vitest';
import { DURATIONS, MAX_TIMER_MS, inDurationRange, toMs, type DurationRule } from '../../../src/config/durations.js';
import { parseConfigText } from '../../../src/config/load.js';
import { PROVIDERS } from '../../../src/dns/providers/registry.js';

const BASE = ['email: a@example.org', 'server: https://127.0.0.1:14000/dir', 'certificates: [{domains: [galaxy.example.org]}]', 'dns:', '  provider: rfc2136', '  rfc2136:', '    server: 127.0.0.2'];

describe('duration rules', () => {
  test.each(Object.entries(DURATIONS))('%s: a timer\'s maximum fits setTimeout and the minimum is below the maximum', (_key, rule: DurationRule) => {
    if (rule.timer) expect(toMs(rule.max, rule)).toBeLessThanOrEqual(MAX_TIMER_MS);
    expect(rule.min).toBeLessThan(rule.max);
  });

  test('a value past 2^31-1 ms is out of range even when a rule would allow it', () => {
    expect(inDurationRange(3_000_000, { min: 0, max: 1e9, unit: 'seconds', what: 'x', timer: true })).toBe(false);
    expect(inDurationRange(Number.NaN, DURATIONS['hooks.timeout'])).toBe(false);
    expect(inDurationRange(Number.POSITIVE_INFINITY, DURATIONS['hooks.timeout'])).toBe(false);
    expect(inDurationRange(120, DURATIONS['hooks.timeout'])).toBe(true);
  });

  test.each([
    ['hooks:\n  timeout: 3000000', 'hooks.timeout', /hooks\.timeout: 3000000 is not from 0\.001 to 86400/],
    ['hooks:\n  timeout: 0', 'hooks.timeout', /hooks\.timeout: 0 is not from 0\.001 to 86400/],
    ['acme_retry_max_wait: 3601', 'acme_retry_max_wait', /acme_retry_max_wait: 3601 is not from 0 to 3600/],
    ['acme_retry_max_wait: -1', 'acme_retry_max_wait', /acme_retry_max_wait: -1 is not from 0 to 3600/],
    ['renew_before_days: 100000', 'renew_before_days', /renew_before_days: 100000 is not from 0\.001 to 365/],
    ['dns_rfc2136', 'dns.rfc2136.timeout', /dns\.rfc2136\.timeout: 3000000 is not from 0\.001 to 300/],
    ['dns_extra', 'dns.propagation_timeout', /dns\.propagation_timeout: 3000000 is not from 0\.001 to 7200/],
  ])('%j is refused naming the key and the range', (extra, _key, message) => {
    const text =
      extra === 'dns_extra'
        ? [...BASE.slice(0, 4), '  propagation_timeout: 3000000', ...BASE.slice(4)].join('\n')
        : extra === 'dns_rfc2136'
          ? [...BASE, '    timeout: 3000000'].join('\n')
          : [...BASE, extra].join('\n');
    expect(() => parseConfigText(text, 'c.yml', { providers: PROVIDERS })).toThrow(message);
  });

  const PROVIDER_SECTIONS: [string, string[], RegExp][] = [
    ['acme-dns', ['  provider: acme-dns', '  acme-dns:', '    api: https://127.0.0.1:1/', '    credentials_file: /nonexistent.json'], /dns\.acme-dns\.timeout: 3000000 is not from 0\.001 to 300/],
    ['cloudflare', ['  provider: cloudflare', '  cloudflare:', '    api_token_env: CF_TOKEN'], /dns\.cloudflare\.timeout: 3000000 is not from 0\.001 to 300/],
    ['exec', ['  provider: exec', '  exec:', '    command: /bin/true'], /dns\.exec\.timeout: 3000000 is not from 0\.001 to 3600/],
  ];
  test.each(PROVIDER_SECTIONS)('the %s timeout has its range (3000000 and 0 are refused, naming the key and the range)', (_name, section, message) => {
    const text = (timeout: number): string => [...BASE.slice(0, 4), ...section, `    timeout: ${timeout}`].join('\n');
    expect(() => parseConfigText(text(3_000_000), 'c.yml', { providers: PROVIDERS })).toThrow(message);
    expect(() => parseConfigText(text(0), 'c.yml', { providers: PROVIDERS })).toThrow(/timeout: 0 is not from 0\.001/);
  });

  test('values in range become milliseconds', () => {
    const config = parseConfigText([...BASE, 'hooks:', '  timeout: 2.5', 'renew_before_days: 30'].join('\n'), 'c.yml', { providers: PROVIDERS });
    expect(config.hooks?.timeoutMs).toBe(2500);
    expect(config.renewBeforeDays).toBe(30);
    expect(config.acmeRetryMaxWaitMs).toBeUndefined();
    expect(parseConfigText([...BASE, 'acme_retry_max_wait: 0'].join('\n'), 'c.yml', { providers: PROVIDERS }).acmeRetryMaxWaitMs).toBe(0);
    expect(parseConfigText([...BASE, 'acme_retry_max_wait: 90'].join('\n'), 'c.yml', { providers: PROVIDERS }).acmeRetryMaxWaitMs).toBe(90_000);
  });
});
