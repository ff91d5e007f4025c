/**
 * The store's JSON records (account.json, renewal/<name>.json, journal entries, the lock file) are
 * JSON objects: one parse for all of them, which says why a text is not one.
 */
import { messageOf } from '../errors.js';

/** The object in `text`, or why it is none; the reason completes "<file> ...". */
export function parseJsonObject(text: string): { ok: true; value: Record<string, unknown> } | { ok: false; reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `is not valid JSON (${messageOf(error)})` };
  }
  // valibot takes an array for an object with missing keys: say what it is.
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'does not hold a JSON object' };
  return { ok: true, value: value as Record<string, unknown> };
}
