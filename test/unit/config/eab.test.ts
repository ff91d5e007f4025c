import { describe, expect, test } from 'vitest';
import { evaluateConfigText } from '../../../src/config/load.js';
import { decodeHmacKey } from '../../../src/config/eab.js';
import type { SecretFile, SecretFileReader } from '../../../src/config/secrets.js';
import { PROVIDERS } from '../../../src/dns/providers/registry.js';

const SOURCE = '/etc/gxit-cert/config.yml';
const KEY_BYTES = Buffer.from('eab-hmac-key-bytes-that-are-secret!!');
const KEY = KEY_BYTES.toString('base64url');

const config = (...eab: string[]): string =>
  [
    'server: https://127.0.0.1:14000/dir',
    'certificates:',
    '  - domains: [galaxy.example.org]',
    'dns:',
    '  provider: rfc2136',
    '  rfc2136:',
    '    server: 127.0.0.2',
    ...eab,
    '',
  ].join('\n');

function files(entries: Record<string, string | SecretFile>): SecretFileReader {
  return (path) => {
    const entry = entries[path];
    if (entry === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return typeof entry === 'string' ? { data: entry, mode: 0o100600 } : entry;
  };
}

const evaluate = (text: string, env: NodeJS.ProcessEnv = {}, reader: SecretFileReader = files({})) =>
  evaluateConfigText(text, SOURCE, { providers: PROVIDERS, env, readSecretFile: reader });

function visible(result: ReturnType<typeof evaluate>): string {
  return JSON.stringify({ problems: result.problems, warnings: result.warnings, configWarnings: result.config?.warnings });
}

describe('eab: where the HMAC key comes from', () => {
  test.each([
    ['hmac_key (inline)', config('eab:', '  kid: kid-1', `  hmac_key: ${KEY}`), {}, files({})],
    ['hmac_key_env', config('eab:', '  kid: kid-1', '  hmac_key_env: EAB_KEY'), { EAB_KEY: `${KEY}\n` }, files({})],
    ['hmac_key_file (relative to the config)', config('eab:', '  kid: kid-1', '  hmac_key_file: eab.key'), {}, files({ '/etc/gxit-cert/eab.key': `${KEY}\n` })],
    ['standard base64 in the file', config('eab:', '  kid: kid-1', '  hmac_key_file: /k'), {}, files({ '/k': KEY_BYTES.toString('base64') })],
  ])('%s', (_what, text, env, reader) => {
    const result = evaluate(text, env, reader);
    expect(result.problems).toEqual([]);
    expect(result.config?.eab).toEqual({ kid: 'kid-1', algorithm: 'HS256', hmacKey: KEY_BYTES });
  });

  test('algorithm HS384 and HS512 are accepted in any case; others name the choices', () => {
    expect(evaluate(config('eab:', '  kid: k', `  hmac_key: ${KEY}`, '  algorithm: hs512')).config?.eab?.algorithm).toBe('HS512');
    const bad = evaluate(config('eab:', '  kid: k', `  hmac_key: ${KEY}`, '  algorithm: RS256'));
    expect(bad.problems[0]).toMatchObject({ path: 'eab.algorithm', line: 11 });
    expect(bad.problems[0]?.fix).toMatch(/HS256, HS384, HS512/);
  });

  test('a missing kid or key, two key sources, an unknown key: each a problem naming its path', () => {
    expect(evaluate(config('eab:', `  hmac_key: ${KEY}`)).problems.map((p) => p.path)).toEqual(['eab.kid']);
    expect(evaluate(config('eab:', '  kid: k')).problems.map((p) => p.path)).toEqual(['eab.hmac_key_file']);
    const two = evaluate(config('eab:', '  kid: k', `  hmac_key: ${KEY}`, '  hmac_key_env: X'), { X: KEY });
    expect(two.problems.map((p) => p.path)).toEqual(['eab.hmac_key_env']);
    expect(evaluate(config('eab:', '  kid: k', `  hmac_key: ${KEY}`, '  hmac: x')).problems[0]?.message).toMatch(/unknown key/);
  });

  test('a file readable by everyone warns; a missing file or variable is SECRET_UNAVAILABLE; the key is never shown', () => {
    const open = evaluate(config('eab:', '  kid: k', '  hmac_key_file: /k'), {}, files({ '/k': { data: KEY, mode: 0o100644 } }));
    expect(open.config?.warnings.join('\n')).toMatch(/\/k is readable by every user.*chmod 600/);
    const missing = evaluate(config('eab:', '  kid: k', '  hmac_key_file: /nope'));
    expect(missing.problems[0]).toMatchObject({ code: 'SECRET_UNAVAILABLE', path: 'eab.hmac_key_file' });
    const unset = evaluate(config('eab:', '  kid: k', '  hmac_key_env: EAB_KEY'));
    expect(unset.problems[0]?.message).toBe('environment variable EAB_KEY is not set');
    const garbage = evaluate(config('eab:', '  kid: k', '  hmac_key_env: EAB_KEY'), { EAB_KEY: 'not base64 !!' });
    expect(garbage.problems[0]?.message).toMatch(/does not hold a base64url HMAC key/);
    const inlineBad = evaluate(config('eab:', '  kid: k', `  hmac_key: "${KEY}!"`));
    for (const result of [open, missing, unset, garbage, inlineBad]) expect(visible(result)).not.toContain(KEY);
  });
});

describe('decodeHmacKey', () => {
  test.each([
    [KEY, KEY_BYTES],
    [`${KEY_BYTES.toString('base64')}`, KEY_BYTES],
    ['', undefined],
    ['a', undefined],
    ['ab+_', undefined],
    ['not base64!', undefined],
  ])('%j', (text, expected) => {
    expect(decodeHmacKey(text)).toEqual(expected);
  });
});
