/**
 * A range for every duration a configuration (or a flag) can set.
 *
 * Node turns a timer longer than 2^31-1 ms into 1 ms (with a TimeoutOverflowWarning), so an absurd
 * value would make a wait end at once instead of never; and a wait of days is never what a user
 * meant. Each duration key has a minimum and a sane maximum, and the error names the key and the range.
 * Every maximum of a timer key is far below MAX_TIMER_MS (a unit test checks it); renew_before_days is
 * compared with dates, never waited for.
 */
import type { MapNode, ScalarNode } from './tree.js';
import type { Checker } from './combinators.js';

/** The largest delay setTimeout honours. */
export const MAX_TIMER_MS = 2_147_483_647;

export interface DurationRule {
  /** Smallest value, in `unit`. */
  min: number;
  /** Largest value, in `unit`. */
  max: number;
  unit: 'seconds' | 'days';
  /** What the value means, for the fix. */
  what: string;
  /** Whether the value becomes a timer (setTimeout), so its milliseconds must not pass MAX_TIMER_MS. */
  timer: boolean;
}

const DAY = 86_400;

/** Every duration key, by its key path. Keys of provider sections are applied where the section is validated. */
export const DURATIONS = {
  acme_retry_max_wait: { min: 0, max: 3600, unit: 'seconds', what: "seconds of the CA's Retry-After to wait for at most", timer: true },
  'dns.propagation_timeout': { min: 0.001, max: 2 * 3600, unit: 'seconds', what: 'seconds to wait for every nameserver', timer: true },
  'dns.propagation_interval': { min: 0.001, max: 600, unit: 'seconds', what: 'seconds between propagation checks', timer: true },
  'dns.rfc2136.timeout': { min: 0.001, max: 300, unit: 'seconds', what: 'seconds per attempt', timer: true },
  // Rules ready for the sections that do not apply them yet (their check.number has no maximum).
  'dns.acme_dns.timeout': { min: 0.001, max: 300, unit: 'seconds', what: 'seconds per request to the acme-dns API', timer: true },
  'dns.cloudflare.timeout': { min: 0.001, max: 300, unit: 'seconds', what: 'seconds per request to the Cloudflare API', timer: true },
  'dns.exec.timeout': { min: 0.001, max: 3600, unit: 'seconds', what: 'seconds one call of the script may run before it is killed', timer: true },
  'hooks.timeout': { min: 0.001, max: DAY, unit: 'seconds', what: 'seconds a hook may run before it is killed', timer: true },
  renew_before_days: { min: 0.001, max: 365, unit: 'days', what: 'renew when fewer days than this remain', timer: false },
  'schedule --random-delay': { min: 0, max: DAY, unit: 'seconds', what: 'seconds to wait at most before each run', timer: true },
} as const satisfies Record<string, DurationRule>;

export type DurationKey = keyof typeof DURATIONS;

/** Milliseconds of a value in the rule's unit. */
export function toMs(value: number, rule: DurationRule): number {
  return Math.round(value * (rule.unit === 'days' ? DAY * 1000 : 1000));
}

/** Whether a value is inside the rule (and its milliseconds fit a timer). */
export function inDurationRange(value: number, rule: DurationRule): boolean {
  return Number.isFinite(value) && value >= rule.min && value <= rule.max && (!rule.timer || toMs(value, rule) <= MAX_TIMER_MS);
}

/** "from 0.001 to 300 seconds" */
export function describeRange(rule: DurationRule): string {
  return `from ${rule.min} to ${rule.max} ${rule.unit}`;
}

/**
 * Checks `map[key]` against the duration rule of `ruleKey`: a number in range, or a problem that names
 * the key and the range. Returns the value in the rule's unit and in milliseconds.
 */
export function checkDuration(
  check: Checker,
  map: MapNode,
  key: string,
  ruleKey: DurationKey,
): { value: number; ms: number; node: ScalarNode } | undefined {
  const rule: DurationRule = DURATIONS[ruleKey];
  const found = check.number(map, key, { min: rule.min, max: rule.max, what: rule.what });
  if (found === undefined) return undefined;
  return { ...found, ms: toMs(found.value, rule) };
}
