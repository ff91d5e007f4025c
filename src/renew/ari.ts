/**
 * ACME Renewal Information (RFC 9773) as pure rules: reading a RenewalInfo response, how long to wait
 * before asking again (Retry-After), when to renew inside the suggested window, and whether a check is
 * due. The HTTP side is ari-client.ts; the state lives in renewal/<name>.json under `ari`.
 */
import type { AriState } from '../store/index.js';

/** The `ari` state as this module writes it: the store's fields plus two of its own. */
export interface RenewalAriState extends AriState {
  /** false: the CA's directory had no renewalInfo when last asked (fetchedAt). */
  supported?: boolean;
  /** The last check failed with this message (the previous window, if any, still applies). */
  error?: string;
}

export interface RenewalInfo {
  startMs: number;
  endMs: number;
  explanationUrl?: string;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Retry-After is clamped to these bounds (RFC 9773 §4.3: under a minute counts as a minute, over a day as a day). */
export const RETRY_AFTER_MIN_MS = MINUTE;
export const RETRY_AFTER_MAX_MS = DAY;
/** Without Retry-After: Let's Encrypt's interval. */
export const RETRY_AFTER_DEFAULT_MS = 6 * HOUR;
/** After a failed check, without Retry-After. */
export const RETRY_AFTER_ERROR_MS = HOUR;
/** A CA without renewalInfo is asked again after this long (it may gain ARI). */
export const UNSUPPORTED_RECHECK_MS = 7 * DAY;

/** A RenewalInfo body, or undefined when it is not one (RFC 9773 §4.2: end must follow start). */
export function parseRenewalInfo(body: unknown): RenewalInfo | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const window = (body as { suggestedWindow?: unknown }).suggestedWindow;
  if (typeof window !== 'object' || window === null) return undefined;
  const { start, end } = window as { start?: unknown; end?: unknown };
  if (typeof start !== 'string' || typeof end !== 'string') return undefined;
  const startMs = Date.parse(start);
  const endMs = Date.parse(end);
  if (!Number.isFinite(startMs) || !Number.isFinite(endMs) || endMs <= startMs) return undefined;
  const explanation = (body as { explanationURL?: unknown }).explanationURL;
  return typeof explanation === 'string' && explanation !== '' ? { startMs, endMs, explanationUrl: explanation } : { startMs, endMs };
}

/** Milliseconds until the next check: Retry-After (seconds or an HTTP date), clamped; `fallbackMs` when absent or unreadable. */
export function retryAfterMs(header: string | undefined, nowMs: number, fallbackMs: number = RETRY_AFTER_DEFAULT_MS): number {
  let wait = fallbackMs;
  const text = header?.trim();
  if (text !== undefined && text !== '') {
    if (/^[0-9]+$/.test(text)) wait = Number(text) * 1000;
    else if (/^[A-Za-z]{3}, /.test(text)) {
      // An HTTP date (IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT").
      const at = Date.parse(text);
      if (Number.isFinite(at)) wait = at - nowMs;
    }
  }
  return Math.min(RETRY_AFTER_MAX_MS, Math.max(RETRY_AFTER_MIN_MS, wait));
}

/**
 * The time to renew: uniformly random inside the window (RFC 9773 §4.2), chosen once per window.
 * An earlier choice is kept while the CA suggests the same window, so repeated checks do not re-draw
 * (which would pull the renewal towards the start of the window).
 */
export function chooseRenewAt(info: RenewalInfo, previous: RenewalAriState | undefined, random: () => number): number {
  if (previous?.window !== undefined && previous.renewAt !== undefined) {
    const sameWindow = Date.parse(previous.window.start) === info.startMs && Date.parse(previous.window.end) === info.endMs;
    const kept = Date.parse(previous.renewAt);
    if (sameWindow && kept >= info.startMs && kept <= info.endMs) return kept;
  }
  return info.startMs + Math.floor(random() * (info.endMs - info.startMs));
}

/**
 * Whether the CA should be asked now. Never for an expired certificate (RFC 9773 §4.3 forbids it);
 * always when the stored state is for another certificate or has no next-check time.
 */
export function ariCheckDue(ari: RenewalAriState | undefined, certId: string | undefined, nowMs: number, notAfterMs: number): boolean {
  if (certId === undefined || nowMs >= notAfterMs) return false;
  if (ari === undefined || ari.certId !== certId || ari.nextFetchAt === undefined) return true;
  const next = Date.parse(ari.nextFetchAt);
  return !Number.isFinite(next) || next <= nowMs;
}

/** The result of asking the CA, as ari-client.ts reports it. */
export type AriFetchOutcome =
  | { kind: 'unsupported' }
  | { kind: 'info'; info: RenewalInfo; retryAfter?: string }
  | { kind: 'error'; message: string; retryAfter?: string };

/** The state to store after a check (pure). */
export function ariStateAfter(
  previous: RenewalAriState | undefined,
  certId: string,
  outcome: AriFetchOutcome,
  nowMs: number,
  random: () => number,
): RenewalAriState {
  const fetchedAt = new Date(nowMs).toISOString();
  switch (outcome.kind) {
    case 'unsupported':
      return { certId, supported: false, fetchedAt, nextFetchAt: new Date(nowMs + UNSUPPORTED_RECHECK_MS).toISOString() };
    case 'info': {
      const current = previous?.certId === certId ? previous : undefined;
      const renewAt = chooseRenewAt(outcome.info, current, random);
      return {
        certId,
        supported: true,
        window: { start: new Date(outcome.info.startMs).toISOString(), end: new Date(outcome.info.endMs).toISOString() },
        renewAt: new Date(renewAt).toISOString(),
        ...(outcome.info.explanationUrl === undefined ? {} : { explanationUrl: outcome.info.explanationUrl }),
        fetchedAt,
        nextFetchAt: new Date(nowMs + retryAfterMs(outcome.retryAfter, nowMs)).toISOString(),
      };
    }
    case 'error': {
      // A window learnt earlier for this certificate still holds; only the next check moves.
      const kept = previous?.certId === certId ? previous : { certId };
      return {
        ...kept,
        certId,
        error: outcome.message,
        nextFetchAt: new Date(nowMs + retryAfterMs(outcome.retryAfter, nowMs, RETRY_AFTER_ERROR_MS)).toISOString(),
      };
    }
  }
}

/** The ARI identifier to send as `replaces` on the next order: only where the CA offers ARI for this certificate. */
export function replacesFor(ari: RenewalAriState | undefined, certId: string | undefined): string | undefined {
  if (certId === undefined || ari?.certId !== certId || ari.supported !== true) return undefined;
  return certId;
}
