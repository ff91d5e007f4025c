import { describe, expect, it } from 'vitest';
import type { RenewalAriState } from '../../../src/renew/ari.js';
import { decideDue, type CertificateDates, type DueBasis } from '../../../src/renew/due.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T00:00:00Z');
const iso = (ms: number): string => new Date(ms).toISOString();
/** A 90-day certificate with `left` days to go. */
const cert = (left: number, certId = 'id'): CertificateDates => ({ notBeforeMs: NOW + (left - 90) * DAY, notAfterMs: NOW + left * DAY, certId });
const ari = (startDays: number, endDays: number, renewAtDays?: number): RenewalAriState => ({
  certId: 'id',
  supported: true,
  window: { start: iso(NOW + startDays * DAY), end: iso(NOW + endDays * DAY) },
  ...(renewAtDays === undefined ? {} : { renewAt: iso(NOW + renewAtDays * DAY) }),
});

describe('decideDue', () => {
  it.each<[string, CertificateDates, RenewalAriState | undefined, number | undefined, boolean, DueBasis]>([
    ['60 of 90 days left', cert(60), undefined, undefined, false, 'lifetime'],
    ['31 days left', cert(31), undefined, undefined, false, 'lifetime'],
    ['29 days left (under a third)', cert(29), undefined, undefined, true, 'lifetime'],
    ['expired', cert(-1), undefined, undefined, true, 'expired'],
    ['expired, even with an ARI window in the future', cert(-1), ari(5, 6), undefined, true, 'expired'],
    ['renew_before_days 40, 45 days left', cert(45), undefined, 40, false, 'renew-before-days'],
    ['renew_before_days 40, 39 days left', cert(39), undefined, 40, true, 'renew-before-days'],
    ['renew_before_days overrides the third: 10, 20 days left', cert(20), undefined, 10, false, 'renew-before-days'],
    ['ARI window in the future', cert(20), ari(5, 7), undefined, false, 'ari'],
    ['ARI window in the past', cert(60), ari(-3, -1), undefined, true, 'ari'],
    ['ARI window begun, chosen time passed', cert(60), ari(-1, 1, -0.5), undefined, true, 'ari'],
    ['ARI window begun, chosen time ahead', cert(60), ari(-1, 1, 0.5), undefined, false, 'ari'],
    ['ARI decides over renew_before_days', cert(20), ari(5, 7), 40, false, 'ari'],
    ['ARI state of another certificate is ignored', cert(20, 'other'), ari(5, 7), undefined, true, 'lifetime'],
    ['CA without ARI: lifetime', cert(20), { certId: 'id', supported: false }, undefined, true, 'lifetime'],
    ['invalid stored window: lifetime', cert(20), { certId: 'id', supported: true, window: { start: iso(NOW + DAY), end: iso(NOW) } }, undefined, true, 'lifetime'],
  ])('%s', (_label, dates, ariState, renewBeforeDays, due, basis) => {
    const decision = decideDue(dates, ariState, NOW, renewBeforeDays === undefined ? {} : { renewBeforeDays });
    expect(decision.due).toBe(due);
    expect(decision.basis).toBe(basis);
    expect(decision.detail).not.toBe('');
  });

  it('says when a lineage becomes due', () => {
    expect(decideDue(cert(60), undefined, NOW).dueAtMs).toBe(NOW + 30 * DAY);
    expect(decideDue(cert(60), undefined, NOW, { renewBeforeDays: 14 }).dueAtMs).toBe(NOW + 46 * DAY);
    expect(decideDue(cert(60), ari(10, 12, 11), NOW).dueAtMs).toBe(NOW + 11 * DAY);
    expect(decideDue(cert(60), ari(10, 12), NOW).dueAtMs).toBe(NOW + 10 * DAY);
  });

  it('explains itself', () => {
    expect(decideDue(cert(60), undefined, NOW).detail).toBe('60 days left; renews from 2026-07-01 (a third of its lifetime before expiry)');
    expect(decideDue(cert(10), undefined, NOW).detail).toBe('10 days left, less than a third of its lifetime');
    expect(decideDue(cert(-2), undefined, NOW).detail).toBe('expired on 2026-05-30');
  });
});

describe('short-lived certificates (under 10 days) are due at half their lifetime', () => {
  const HOUR = 3_600_000;
  /** A 160-hour certificate (Let's Encrypt shortlived) with `leftHours` to go. */
  const short = (leftHours: number): CertificateDates => ({ notBeforeMs: NOW + (leftHours - 160) * HOUR, notAfterMs: NOW + leftHours * HOUR });
  it.each([
    [81, false],
    [79, true],
    [60, true],
  ])('%i of 160 hours left: due %s', (left, due) => {
    const decision = decideDue(short(left), undefined, NOW);
    expect(decision).toMatchObject({ due, basis: 'lifetime' });
    expect(decision.dueAtMs).toBe(NOW + (left - 80) * HOUR);
    expect(decision.detail).toMatch(/half of its lifetime/);
  });
  it('a 10-day certificate keeps the third; renew_before_days and ARI still win', () => {
    const ten: CertificateDates = { notBeforeMs: NOW - 6 * DAY, notAfterMs: NOW + 4 * DAY };
    expect(decideDue(ten, undefined, NOW).due).toBe(false);
    expect(decideDue(short(100), undefined, NOW, { renewBeforeDays: 5 })).toMatchObject({ due: true, basis: 'renew-before-days' });
  });
});
