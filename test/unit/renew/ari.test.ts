import { describe, expect, it } from 'vitest';
import {
  ariCheckDue,
  ariStateAfter,
  chooseRenewAt,
  parseRenewalInfo,
  replacesFor,
  retryAfterMs,
  RETRY_AFTER_DEFAULT_MS,
  RETRY_AFTER_ERROR_MS,
  UNSUPPORTED_RECHECK_MS,
  type RenewalAriState,
} from '../../../src/renew/ari.js';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const HOUR = 3_600_000;
const iso = (ms: number): string => new Date(ms).toISOString();

describe('parseRenewalInfo', () => {
  it.each<[string, unknown, { startMs: number; endMs: number; explanationUrl?: string } | undefined]>([
    ['a window', { suggestedWindow: { start: '2026-07-01T00:00:00Z', end: '2026-07-03T00:00:00Z' } }, { startMs: Date.parse('2026-07-01T00:00:00Z'), endMs: Date.parse('2026-07-03T00:00:00Z') }],
    ['a window with an explanation', { suggestedWindow: { start: '2026-07-01T00:00:00Z', end: '2026-07-02T00:00:00Z' }, explanationURL: 'https://ca/why' }, { startMs: Date.parse('2026-07-01T00:00:00Z'), endMs: Date.parse('2026-07-02T00:00:00Z'), explanationUrl: 'https://ca/why' }],
    ['end equal to start (invalid, RFC 9773 §4.2)', { suggestedWindow: { start: '2026-07-01T00:00:00Z', end: '2026-07-01T00:00:00Z' } }, undefined],
    ['end before start', { suggestedWindow: { start: '2026-07-02T00:00:00Z', end: '2026-07-01T00:00:00Z' } }, undefined],
    ['no window', { explanationURL: 'x' }, undefined],
    ['a window of numbers', { suggestedWindow: { start: 1, end: 2 } }, undefined],
    ['unparsable times', { suggestedWindow: { start: 'soon', end: 'later' } }, undefined],
    ['null', null, undefined],
  ])('%s', (_label, body, expected) => {
    expect(parseRenewalInfo(body)).toEqual(expected);
  });
});

describe('retryAfterMs (clamped to one minute .. one day)', () => {
  it.each<[string, string | undefined, number]>([
    ['absent: six hours', undefined, RETRY_AFTER_DEFAULT_MS],
    ['empty', '', RETRY_AFTER_DEFAULT_MS],
    ['seconds', '3600', HOUR],
    ['under a minute counts as a minute', '5', 60_000],
    ['zero counts as a minute', '0', 60_000],
    ['over a day counts as a day', '999999', 24 * HOUR],
    ['an HTTP date', new Date(NOW + 2 * HOUR).toUTCString(), 2 * HOUR],
    ['an HTTP date in the past', new Date(NOW - HOUR).toUTCString(), 60_000],
    ['garbage', 'soon', RETRY_AFTER_DEFAULT_MS],
    ['negative', '-5', RETRY_AFTER_DEFAULT_MS],
  ])('%s', (_label, header, expected) => {
    expect(retryAfterMs(header, NOW)).toBe(expected);
  });

  it('uses the given fallback without a header', () => {
    expect(retryAfterMs(undefined, NOW, RETRY_AFTER_ERROR_MS)).toBe(HOUR);
  });
});

describe('chooseRenewAt', () => {
  const info = { startMs: NOW + 10 * HOUR, endMs: NOW + 20 * HOUR };
  it('draws uniformly inside the window', () => {
    expect(chooseRenewAt(info, undefined, () => 0)).toBe(info.startMs);
    expect(chooseRenewAt(info, undefined, () => 0.5)).toBe(NOW + 15 * HOUR);
    expect(chooseRenewAt(info, undefined, () => 0.999999)).toBeLessThan(info.endMs);
  });
  it('keeps the earlier choice while the window is the same', () => {
    const previous: RenewalAriState = { window: { start: iso(info.startMs), end: iso(info.endMs) }, renewAt: iso(NOW + 12 * HOUR) };
    expect(chooseRenewAt(info, previous, () => 0.9)).toBe(NOW + 12 * HOUR);
  });
  it('draws again when the CA moves the window', () => {
    const previous: RenewalAriState = { window: { start: iso(NOW + 100 * HOUR), end: iso(NOW + 120 * HOUR) }, renewAt: iso(NOW + 110 * HOUR) };
    expect(chooseRenewAt(info, previous, () => 0)).toBe(info.startMs);
  });
});

describe('ariCheckDue', () => {
  const notAfter = NOW + 30 * 24 * HOUR;
  it.each<[string, RenewalAriState | undefined, string | undefined, number, boolean]>([
    ['never asked', undefined, 'id', NOW, true],
    ['asked for another certificate', { certId: 'old', nextFetchAt: iso(NOW + HOUR) }, 'id', NOW, true],
    ['Retry-After not over yet', { certId: 'id', nextFetchAt: iso(NOW + HOUR) }, 'id', NOW, false],
    ['Retry-After over', { certId: 'id', nextFetchAt: iso(NOW - 1) }, 'id', NOW, true],
    ['no next time stored', { certId: 'id' }, 'id', NOW, true],
    ['certificate without an ID', undefined, undefined, NOW, false],
    ['expired certificate (never ask, RFC 9773 §4.3)', undefined, 'id', notAfter, false],
  ])('%s -> %s', (_label, ari, certId, now, expected) => {
    expect(ariCheckDue(ari, certId, now, notAfter)).toBe(expected);
  });
});

describe('ariStateAfter', () => {
  const window = { startMs: NOW + 10 * HOUR, endMs: NOW + 20 * HOUR };
  it('stores the window, a time inside it and the next check from Retry-After', () => {
    const state = ariStateAfter(undefined, 'id', { kind: 'info', info: window, retryAfter: '7200' }, NOW, () => 0.5);
    expect(state).toEqual({
      certId: 'id',
      supported: true,
      window: { start: iso(window.startMs), end: iso(window.endMs) },
      renewAt: iso(NOW + 15 * HOUR),
      fetchedAt: iso(NOW),
      nextFetchAt: iso(NOW + 2 * HOUR),
    });
  });
  it('does not keep a choice made for another certificate', () => {
    const previous: RenewalAriState = { certId: 'old', window: { start: iso(window.startMs), end: iso(window.endMs) }, renewAt: iso(NOW + 19 * HOUR) };
    expect(ariStateAfter(previous, 'id', { kind: 'info', info: window }, NOW, () => 0).renewAt).toBe(iso(window.startMs));
  });
  it('records a CA without renewalInfo and asks again after a week', () => {
    expect(ariStateAfter(undefined, 'id', { kind: 'unsupported' }, NOW, Math.random)).toEqual({
      certId: 'id',
      supported: false,
      fetchedAt: iso(NOW),
      nextFetchAt: iso(NOW + UNSUPPORTED_RECHECK_MS),
    });
  });
  it('keeps the known window after a failed check and moves only the next check', () => {
    const previous: RenewalAriState = { certId: 'id', supported: true, window: { start: 'a', end: 'b' }, renewAt: 'c', nextFetchAt: iso(NOW) };
    expect(ariStateAfter(previous, 'id', { kind: 'error', message: 'HTTP 500', retryAfter: '120' }, NOW, Math.random)).toEqual({
      ...previous,
      error: 'HTTP 500',
      nextFetchAt: iso(NOW + 120_000),
    });
    expect(ariStateAfter(undefined, 'id', { kind: 'error', message: 'refused' }, NOW, Math.random)).toEqual({
      certId: 'id',
      error: 'refused',
      nextFetchAt: iso(NOW + RETRY_AFTER_ERROR_MS),
    });
  });
});

describe('replacesFor', () => {
  it.each<[string, RenewalAriState | undefined, string | undefined, string | undefined]>([
    ['CA offers ARI for this certificate', { certId: 'id', supported: true }, 'id', 'id'],
    ['CA without ARI', { certId: 'id', supported: false }, 'id', undefined],
    ['state of another certificate', { certId: 'old', supported: true }, 'id', undefined],
    ['never asked', undefined, 'id', undefined],
  ])('%s', (_label, ari, certId, expected) => {
    expect(replacesFor(ari, certId)).toBe(expected);
  });
});
