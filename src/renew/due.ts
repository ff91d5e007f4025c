/**
 * Is a lineage due for renewal? One pure function of the certificate's dates, the stored ARI state and
 * the clock:
 * - expired: always due;
 * - the CA's ARI window for this certificate is known: due from the time chosen inside it;
 * - otherwise renew_before_days when configured, else when less than a third of the lifetime is left
 *   (half of it for certificates living under 10 days, as certbot does: a 6-day certificate renewed
 *   at 2 days left would not survive a missed daily run).
 * ARI alone decides where it is known: its windows start around the last third already, and a fixed
 * rule on top would defeat the spreading of renewals that ARI is for.
 */
import type { RenewalAriState } from './ari.js';

export interface CertificateDates {
  notBeforeMs: number;
  notAfterMs: number;
  /** ARI certificate identifier; undefined for certificates without an AKI. */
  certId?: string;
}

export type DueBasis = 'expired' | 'ari' | 'renew-before-days' | 'lifetime';

export interface DueDecision {
  due: boolean;
  /** The rule that decided. */
  basis: DueBasis;
  /** When the lineage is (or was) due, ms since the epoch. */
  dueAtMs: number;
  /** One phrase for people: why it is due, or when it will be. */
  detail: string;
}

const DAY = 86_400_000;
/** Certificates living less than this are renewed at half their lifetime. */
export const SHORT_LIFETIME_MS = 10 * DAY;

export function decideDue(
  cert: CertificateDates,
  ari: RenewalAriState | undefined,
  nowMs: number,
  opts: { renewBeforeDays?: number } = {},
): DueDecision {
  const left = describeLeft(cert.notAfterMs - nowMs);
  if (nowMs >= cert.notAfterMs) {
    return { due: true, basis: 'expired', dueAtMs: cert.notAfterMs, detail: `expired on ${day(cert.notAfterMs)}` };
  }
  const window = usableWindow(ari, cert.certId);
  if (window !== undefined) {
    const range = `${window.start} .. ${window.end}`;
    return window.renewAtMs <= nowMs
      ? { due: true, basis: 'ari', dueAtMs: window.renewAtMs, detail: `the CA's renewal window (${range}) has begun (${left} left)` }
      : { due: false, basis: 'ari', dueAtMs: window.renewAtMs, detail: `renews at ${iso(window.renewAtMs)}, inside the CA's renewal window ${range}` };
  }
  if (opts.renewBeforeDays !== undefined) {
    const dueAtMs = cert.notAfterMs - opts.renewBeforeDays * DAY;
    const rule = `renew_before_days: ${opts.renewBeforeDays}`;
    return dueAtMs <= nowMs
      ? { due: true, basis: 'renew-before-days', dueAtMs, detail: `${left} left (${rule})` }
      : { due: false, basis: 'renew-before-days', dueAtMs, detail: `${left} left; renews from ${day(dueAtMs)} (${rule})` };
  }
  const lifetime = cert.notAfterMs - cert.notBeforeMs;
  const short = lifetime < SHORT_LIFETIME_MS;
  const dueAtMs = cert.notAfterMs - Math.floor(lifetime / (short ? 2 : 3));
  const part = short ? 'half of its lifetime (it lives under 10 days)' : 'a third of its lifetime';
  return dueAtMs <= nowMs
    ? { due: true, basis: 'lifetime', dueAtMs, detail: `${left} left, less than ${part}` }
    : { due: false, basis: 'lifetime', dueAtMs, detail: `${left} left; renews from ${short ? iso(dueAtMs) : day(dueAtMs)} (${part} before expiry)` };
}

function usableWindow(
  ari: RenewalAriState | undefined,
  certId: string | undefined,
): { start: string; end: string; renewAtMs: number } | undefined {
  if (ari === undefined || certId === undefined || ari.certId !== certId || ari.supported === false || ari.window === undefined) return undefined;
  const startMs = Date.parse(ari.window.start);
  const endMs = Date.parse(ari.window.end);
  if (!Number.isFinite(startMs) || !Number.isFinite(endMs) || endMs <= startMs) return undefined;
  const chosen = ari.renewAt === undefined ? Number.NaN : Date.parse(ari.renewAt);
  return { start: ari.window.start, end: ari.window.end, renewAtMs: Number.isFinite(chosen) ? chosen : startMs };
}

function describeLeft(ms: number): string {
  if (ms <= 0) return 'no time';
  const days = ms / DAY;
  if (days >= 2) return `${Math.floor(days)} days`;
  const hours = ms / 3_600_000;
  if (hours >= 2) return `${Math.floor(hours)} hours`;
  return `${Math.max(1, Math.floor(ms / 60_000))} minutes`;
}

function day(ms: number): string {
  return iso(ms).slice(0, 10);
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
