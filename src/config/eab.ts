/**
 * The `eab:` section (External Account Binding, RFC 8555 §7.3.4), at the top level or per certificate:
 *
 *   eab:
 *     kid: kid-1
 *     hmac_key_file: /etc/gxit-cert/eab.key   # or hmac_key: (inline), or hmac_key_env: VAR
 *     algorithm: HS256                         # HS256 | HS384 | HS512
 *
 * The HMAC key is a secret like the TSIG secret: exactly one source, never quoted in a message, a
 * warning when its file is readable by every user. CAs hand it out base64url-encoded (ZeroSSL,
 * Google Trust Services, Sectigo); standard base64 is accepted too.
 */
import { quote, reportSecondSources, secretSources, type Checker, type SecretKeys, type SecretRef } from './combinators.js';
import type { SecretContext } from './provider-section.js';
import { get, locate, type MapNode, type TreeNode } from './tree.js';
import { EAB_ALGORITHMS, type EabAlgorithm, type EabConfig } from './types.js';

export const EAB_KEYS = ['kid', 'hmac_key', 'hmac_key_file', 'hmac_key_env', 'algorithm'] as const;

/** The validated section; the HMAC key is still a reference. */
export interface EabDraft {
  kid: string;
  algorithm: EabAlgorithm;
  hmacKey: SecretRef;
}

const SECTION_FIX = 'write eab: as a mapping with kid: and hmac_key_file: (the values your CA gives you)';

export function validateEab(check: Checker, node: TreeNode | undefined): EabDraft | undefined {
  if (node === undefined) return undefined;
  const map = check.map(node, EAB_KEYS, SECTION_FIX);
  if (map === undefined) return undefined;
  let failed = false;
  const kidFix = 'write the key identifier (kid) your CA gave you with the HMAC key';
  const kid = check.string(map, 'kid', kidFix);
  if (kid === undefined) {
    if (get(map, 'kid') === undefined) check.missing(map, 'kid', kidFix);
    failed = true;
  }
  const algorithm = eabAlgorithm(check, map);
  if (algorithm === undefined) failed = true;
  const hmacKey = hmacKeySource(check, map);
  if (hmacKey === undefined) failed = true;
  if (failed || kid === undefined || algorithm === undefined || hmacKey === undefined) return undefined;
  return { kid: kid.value.trim(), algorithm, hmacKey };
}

function eabAlgorithm(check: Checker, map: MapNode): EabAlgorithm | undefined {
  const fix = `write one of ${EAB_ALGORITHMS.join(', ')} (HS256 unless your CA says otherwise)`;
  if (get(map, 'algorithm') === undefined) return 'HS256';
  const found = check.string(map, 'algorithm', fix);
  if (found === undefined) return undefined;
  const name = found.value.trim().toUpperCase();
  const algorithm = EAB_ALGORITHMS.find((a) => a === name);
  if (algorithm === undefined) return check.report(found.node, `${quote(found.value)} is not an EAB algorithm`, fix);
  return algorithm;
}

const HMAC_KEY_KEYS: SecretKeys = {
  inline: 'hmac_key',
  file: 'hmac_key_file',
  env: 'hmac_key_env',
  inlineFix: 'write the HMAC key (better: keep it in a file and use hmac_key_file:)',
  fileFix: 'write the path of a file holding the HMAC key (mode 0600)',
  envFix: 'write the name of an environment variable, e.g. hmac_key_env: EAB_HMAC_KEY',
  envNameFix: 'write a name of letters, digits and "_", e.g. hmac_key_env: EAB_HMAC_KEY',
  checkInline: (text) => (decodeHmacKey(text) === undefined ? { message: 'is not a base64url HMAC key', fix: 'write the HMAC key exactly as your CA shows it' } : { value: text }),
};

function hmacKeySource(check: Checker, map: MapNode): SecretRef | undefined {
  const { sources, failed } = secretSources(check, map, HMAC_KEY_KEYS);
  if (failed) return undefined;
  if (sources.length === 0) return check.report(locate(map, 'hmac_key_file'), 'is missing', 'add hmac_key_file: (or hmac_key_env:, hmac_key:) with the HMAC key your CA gave you');
  if (reportSecondSources(check, sources, 'the EAB HMAC key', HMAC_KEY_KEYS)) return undefined;
  return sources[0];
}

/** base64url (or base64) text -> key bytes; undefined when it is not that or decodes to nothing. */
export function decodeHmacKey(text: string): Buffer | undefined {
  const compact = text.replace(/\s+/g, '');
  if (compact === '' || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(compact)) return undefined;
  if (/[+/]/.test(compact) && /[_-]/.test(compact)) return undefined;
  if (compact.replace(/=+$/, '').length % 4 === 1) return undefined;
  const key = Buffer.from(compact.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return key.length > 0 ? key : undefined;
}

/** Reads the HMAC key; undefined after reporting a problem (never with the key in it). */
export function resolveEab(draft: EabDraft, context: SecretContext): EabConfig | undefined {
  const ref = draft.hmacKey;
  let text: string | undefined;
  if (ref.kind === 'inline') text = ref.value;
  else if (ref.kind === 'env') {
    const value = context.env[ref.variable];
    if (value === undefined || value.trim() === '') {
      return context.report(ref.at, 'SECRET_UNAVAILABLE', `environment variable ${ref.variable} is not set`, `export ${ref.variable} with the EAB HMAC key, or use hmac_key_file:`);
    }
    text = value;
  } else {
    text = context.readFile(ref);
    if (text === undefined) return undefined;
  }
  const hmacKey = decodeHmacKey(text);
  if (hmacKey === undefined) return context.report(ref.at, 'SECRET_UNAVAILABLE', `${describe(ref)} does not hold a base64url HMAC key`, 'write the HMAC key exactly as your CA shows it (one line)');
  return { kid: draft.kid, algorithm: draft.algorithm, hmacKey };
}

function describe(ref: SecretRef): string {
  if (ref.kind === 'file') return ref.file;
  if (ref.kind === 'env') return `environment variable ${ref.variable}`;
  return 'the value';
}
