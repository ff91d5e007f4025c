/**
 * Lineage state: what renewal/<name>.json holds, and the pure rules to read, merge and write it.
 *
 * The file is open for later fields: parsing keeps every key it does not know, and a commit
 * merges its fields over the previous state, so a field added by a newer module survives an
 * older writer. New fields MUST be optional.
 */
import { KEY_TYPES, type KeyType } from '../config/types.js';
import * as v from 'valibot';
import { GxitError } from '../errors.js';
import { parseJsonObject } from './json.js';

/** One stored version, appended by every commit. */
export interface LineageHistoryEntry {
  version: number;
  /** ISO 8601 time of the commit. */
  at: string;
}

/** Outcome of the last issue/renew run for this lineage (successful or not). */
export interface LineageRun {
  /** ISO 8601. */
  at: string;
  ok: boolean;
  /** Short message of the failure, without secrets. */
  error?: string;
}

/**
 * ACME Renewal Information for the live certificate (RFC 9773). The renewal module owns the
 * meaning of these fields and may add more; all are optional.
 */
export interface AriState {
  /** The ARI certificate identifier (base64url AKI "." base64url serial). */
  certId?: string;
  /** The suggested renewal window, ISO 8601. */
  window?: { start: string; end: string };
  /** Chosen renewal time inside the window, ISO 8601. */
  renewAt?: string;
  explanationUrl?: string;
  /** When the window was last fetched, ISO 8601. */
  fetchedAt?: string;
  /** Do not ask again before this time (Retry-After), ISO 8601. */
  nextFetchAt?: string;
}

/** RFC 5280 reason codes gxit-cert revokes with. */
export const REVOCATION_REASONS = { unspecified: 0, keyCompromise: 1, superseded: 4, cessationOfOperation: 5 } as const;
export type RevocationReason = keyof typeof REVOCATION_REASONS;

/** The live certificate was revoked (gxit-cert revoke); a new commit drops this. */
export interface RevokedState {
  /** ISO 8601. */
  at: string;
  /** Serial number of the revoked certificate (hex, as node:crypto prints it). */
  serial: string;
  reason: RevocationReason;
  /** The version that was live when it was revoked. */
  version: number;
}

export interface LineageState {
  name: string;
  /** Domains in the order given; the first is the common name. */
  domains: string[];
  keyType: KeyType;
  /** ACME directory URL the certificate was issued by. */
  server: string;
  /** The version the live links were switched to by the last commit. */
  version: number;
  history?: LineageHistoryEntry[];
  lastRun?: LineageRun;
  ari?: AriState;
  revoked?: RevokedState;
  /** The ACME profile the live certificate was ordered with (absent: none). */
  profile?: string;
}

/**
 * What a commit states about the new version. Fields given replace the previous ones, fields
 * absent are kept from the previous state; pass `undefined` explicitly to drop one (e.g. `ari`).
 * `name`, `version` and `history` are maintained by the commit itself.
 */
export type CommitState = Pick<LineageState, 'domains' | 'keyType' | 'server'> &
  Partial<Omit<LineageState, 'name' | 'version' | 'history' | 'domains' | 'keyType' | 'server'>>;

/** The state written by committing `version` at time `at` over `previous` (pure). */
export function mergeCommitState(
  name: string,
  previous: LineageState | undefined,
  update: CommitState,
  version: number,
  at: Date,
): LineageState {
  const history = [...(previous?.history ?? []), { version, at: at.toISOString() }];
  return { ...previous, ...update, name, version, history };
}

export function serializeLineageState(state: LineageState): string {
  return `${JSON.stringify(state, null, 2)}\n`;
}

const isoText = v.string();
const version = v.pipe(v.number(), v.integer(), v.minValue(1));

/** renewal/<name>.json; loose objects keep the keys a newer module added. */
const REVOKED = v.looseObject({
  at: isoText,
  serial: v.string(),
  reason: v.picklist(Object.keys(REVOCATION_REASONS) as RevocationReason[]),
  version,
});

const LINEAGE_STATE = v.looseObject({
  name: v.string(),
  domains: v.pipe(v.array(v.pipe(v.string(), v.nonEmpty())), v.nonEmpty()),
  keyType: v.picklist(KEY_TYPES),
  server: v.pipe(v.string(), v.nonEmpty()),
  version,
  history: v.optional(v.array(v.looseObject({ version, at: isoText }))),
  lastRun: v.optional(v.looseObject({ at: isoText, ok: v.boolean(), error: v.optional(v.string()) })),
  ari: v.optional(
    v.looseObject({
      certId: v.optional(v.string()),
      window: v.optional(v.looseObject({ start: isoText, end: isoText })),
      renewAt: v.optional(isoText),
      explanationUrl: v.optional(v.string()),
      fetchedAt: v.optional(isoText),
      nextFetchAt: v.optional(isoText),
    }),
  ),
  revoked: v.optional(REVOKED),
  profile: v.optional(v.string()),
});

/** What is wrong with the field a schema issue points at, in the words of the file's fields. */
function problemOf(key: unknown, value: Record<string, unknown>): string {
  switch (key) {
    case 'domains':
      return 'has no valid "domains" list';
    case 'keyType':
      return `has an unknown "keyType" ${JSON.stringify(value.keyType)}`;
    case 'server':
      return 'has no "server"';
    case 'version':
      return `has an invalid "version" ${JSON.stringify(value.version)}`;
    case 'name':
      return `names lineage ${JSON.stringify(value.name)}`;
    default:
      return typeof key === 'string' ? `has an invalid "${key}"` : 'does not hold a JSON object';
  }
}

/**
 * Parse and check renewal/<name>.json. Unknown keys are kept. Throws STORE_IO naming the file
 * and the broken field.
 */
export function parseLineageState(text: string, name: string, path: string): LineageState {
  const json = parseJsonObject(text);
  if (!json.ok) throw broken(path, json.reason);
  const parsed = v.safeParse(LINEAGE_STATE, json.value);
  if (!parsed.success) throw broken(path, problemOf(parsed.issues[0].path?.[0]?.key, json.value));
  if (parsed.output.name !== name) throw broken(path, `names lineage ${JSON.stringify(parsed.output.name)}, expected "${name}"`);
  return parsed.output;
}

function broken(path: string, what: string): GxitError {
  return new GxitError('STORE_IO', `lineage state ${path} ${what}`, {
    subject: path,
    fix: `Repair ${path} or move it away; without it the next issue starts the lineage afresh (archive/ keeps the old versions).`,
  });
}
