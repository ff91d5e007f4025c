import { describe, expect, it } from 'vitest';
import type { CertificateConfig } from '../../../src/config/types.js';
import type { LineageSnapshot } from '../../../src/renew/facts.js';
import { lineageStatus, prometheusText, stateWord } from '../../../src/renew/status.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T00:00:00Z');
const cert: CertificateConfig = { name: 'st.example.org', domains: ['st.example.org'], keyType: 'ecdsa-p256' };

function snapshot(left: number, extra: Record<string, unknown> = {}): LineageSnapshot {
  return {
    name: cert.name,
    lineage: {
      state: { name: cert.name, domains: cert.domains, keyType: 'ecdsa-p256', server: 'https://ca/dir', version: 3, history: [{ version: 3, at: '2026-05-01T00:00:00.000Z' }], ...extra },
      live: { dir: '', cert: '', chain: '', fullchain: '', privkey: '' },
      liveVersion: 3,
    },
    certificate: { serial: 'ABCD', issuer: 'Test CA', notBeforeMs: NOW + (left - 90) * DAY, notAfterMs: NOW + left * DAY, fingerprint256: 'FF', sans: cert.domains },
  };
}

describe('lineageStatus', () => {
  it('reports a healthy lineage', () => {
    const entry = lineageStatus(snapshot(60, { lastRun: { at: '2026-05-01T00:00:00.000Z', ok: true } }), cert, NOW);
    expect(entry).toMatchObject({
      name: cert.name,
      configured: true,
      issued: true,
      domains: cert.domains,
      version: 3,
      serial: 'ABCD',
      issuer: 'Test CA',
      notAfter: new Date(NOW + 60 * DAY).toISOString(),
      daysLeft: 60,
      expired: false,
      due: { due: false, basis: 'lifetime' },
      lastRun: { ok: true },
      lastSuccessAt: '2026-05-01T00:00:00.000Z',
      healthy: true,
    });
    expect(entry.lastFailureAt).toBeUndefined();
    expect(stateWord(entry)).toBe('ok');
  });

  it.each<[string, LineageSnapshot, boolean, string]>([
    ['expired', snapshot(-1), false, 'EXPIRED'],
    ['due', snapshot(10), true, 'due'],
    ['due and its last run failed', snapshot(10, { lastRun: { at: '2026-05-31T00:00:00.000Z', ok: false, error: 'DNS' } }), false, 'FAILED'],
    ['last (forced or dry) run failed, not due: a warning only', snapshot(60, { lastRun: { at: '2026-05-31T00:00:00.000Z', ok: false, error: 'DNS' } }), true, 'ok'],
    ['deploy failed', snapshot(60, { runs: { deploy: { at: 'x', version: 3, ok: false, error: 'nginx -t failed' } } }), false, 'NOT DEPLOYED'],
    ['live certificate unreadable', { ...snapshot(60), certificate: undefined, problem: 'cannot read cert.pem' }, false, 'broken'],
  ])('%s', (_label, snap, healthy, word) => {
    const entry = lineageStatus(snap, cert, NOW);
    expect(entry.healthy).toBe(healthy);
    expect(stateWord(entry)).toBe(word);
  });

  it('warns about a failed run of a certificate that is not due', () => {
    const entry = lineageStatus(snapshot(60, { lastRun: { at: '2026-05-31T00:00:00.000Z', ok: false, error: 'DNS refused' } }), cert, NOW);
    expect(entry.warnings).toEqual([expect.stringContaining('failed: DNS refused; the certificate is not due')]);
    expect(lineageStatus(snapshot(60), cert, NOW).warnings).toEqual([]);
  });

  it('takes the failure time from the last run and the run record', () => {
    const entry = lineageStatus(snapshot(60, { lastRun: { at: '2026-05-31T00:00:00.000Z', ok: false, error: 'x' }, runs: { lastSuccessAt: '2026-05-01T01:00:00.000Z' } }), cert, NOW);
    expect(entry.lastFailureAt).toBe('2026-05-31T00:00:00.000Z');
    expect(entry.lastSuccessAt).toBe('2026-05-01T01:00:00.000Z');
  });

  it('lists a configured certificate that was never issued, and a stored lineage no longer configured', () => {
    expect(lineageStatus({ name: cert.name }, cert, NOW)).toMatchObject({ issued: false, configured: true, domains: cert.domains, healthy: true });
    expect(stateWord(lineageStatus({ name: cert.name }, cert, NOW))).toBe('not issued');
    expect(lineageStatus(snapshot(60), undefined, NOW).configured).toBe(false);
  });
});

describe('prometheusText', () => {
  it('writes one gauge per fact with HELP and TYPE, labels escaped', () => {
    const entries = [
      lineageStatus(snapshot(60, { lastRun: { at: '2026-05-31T00:00:00.000Z', ok: false, error: 'x' } }), cert, NOW),
      { ...lineageStatus(snapshot(-1), cert, NOW), name: 'we"ird\\name' },
    ];
    const text = prometheusText(entries);
    const expiry = Math.floor((NOW + 60 * DAY) / 1000);
    expect(text).toContain('# TYPE gxit_cert_expiry_timestamp_seconds gauge\n');
    expect(text).toContain(`gxit_cert_expiry_timestamp_seconds{name="st.example.org"} ${expiry}\n`);
    expect(text).toContain(`gxit_cert_last_failure_timestamp_seconds{name="st.example.org"} ${Date.parse('2026-05-31T00:00:00Z') / 1000}\n`);
    expect(text).toContain(`gxit_cert_last_success_timestamp_seconds{name="st.example.org"} ${Date.parse('2026-05-01T00:00:00Z') / 1000}\n`);
    expect(text).toContain('gxit_cert_last_run_success{name="st.example.org"} 0\n');
    expect(text).toContain('gxit_cert_healthy{name="we\\"ird\\\\name"} 0\n');
    for (const line of text.trimEnd().split('\n')) expect(line).toMatch(/^(# (HELP|TYPE) gxit_cert_\w+ .+|gxit_cert_\w+\{name="(?:[^"\\]|\\.)*"\} -?\d+)$/);
  });

  it('is empty without lineages', () => {
    expect(prometheusText([])).toBe('');
  });
});
