import { chmodSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { evaluateConfigText, parseConfigText } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/config/problems.js';
import { MAX_SECRET_FILE_BYTES, readSecretFileSync, type SecretFile, type SecretFileReader } from '../../../src/config/secrets.js';
import { parseKeyFile } from '../../../src/dns/providers/rfc2136/key-file.js';
import { PROVIDERS } from '../../../src/dns/providers/registry.js';
import { rfc2136Of, route53Of } from '../dns/providers/settings.js';

const SOURCE = '/etc/gxit-cert/config.yml';
const SECRET_TEXT = 'tsig-secret-bytes-do-not-print';
const SECRET = Buffer.from(SECRET_TEXT).toString('base64'); // dHNpZy1zZWNyZXQtYnl0ZXMtZG8tbm90LXByaW50
const OTHER_SECRET = Buffer.from('another-secret-value').toString('base64');

const BIND_KEY = `key "certbot-training." {
\talgorithm hmac-sha512;
\tsecret "${SECRET}";
};
`;

const lines = (...text: string[]): string => `${text.join('\n')}\n`;
const rfc2136 = (...more: string[]): string =>
  lines('certificates:', '  - domains: [galaxy.example.org]', 'dns:', '  provider: rfc2136', '  rfc2136:', '    server: 127.0.0.2', ...more);

/** A reader over an in-memory file system: path -> content (mode 0600 unless given). */
function files(entries: Record<string, string | SecretFile>): SecretFileReader {
  return (path) => {
    const entry = entries[path];
    if (entry === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return typeof entry === 'string' ? { data: entry, mode: 0o100600 } : entry;
  };
}

function evaluate(text: string, env: NodeJS.ProcessEnv = {}, reader: SecretFileReader = files({})) {
  return evaluateConfigText(text, SOURCE, { providers: PROVIDERS, env, readSecretFile: reader });
}

/** Asserts that no secret appears anywhere in what the user may see. */
function expectNoSecret(result: ReturnType<typeof evaluate>): void {
  const visible = JSON.stringify({ problems: result.problems, warnings: result.warnings, configWarnings: result.config?.warnings });
  for (const secret of [SECRET, SECRET_TEXT, OTHER_SECRET]) expect(visible).not.toContain(secret);
}

describe('where the TSIG secret comes from', () => {
  test.each([
    ['inline', rfc2136('    name: certbot-training.', `    secret: ${SECRET}`), {}, files({})],
    ['secret_env', rfc2136('    name: certbot-training.', '    secret_env: LAB_TSIG'), { LAB_TSIG: SECRET }, files({})],
    ['GXIT_CERT_TSIG_SECRET', rfc2136('    name: certbot-training.'), { GXIT_CERT_TSIG_SECRET: `${SECRET}\n` }, files({})],
    ['a file with the bare secret and a newline', rfc2136('    name: certbot-training.', '    secret_file: /etc/gxit-cert/tsig.secret'), {}, files({ '/etc/gxit-cert/tsig.secret': `${SECRET}\n` })],
    ['a file with CRLF', rfc2136('    name: certbot-training.', '    secret_file: tsig.secret'), {}, files({ '/etc/gxit-cert/tsig.secret': `${SECRET}\r\n` })],
    ['a BIND key file', rfc2136('    name: certbot-training.', '    secret_file: /etc/bind/tsig.key'), {}, files({ '/etc/bind/tsig.key': BIND_KEY })],
    ['a BIND key file that names the key', rfc2136('    secret_file: /etc/bind/tsig.key'), {}, files({ '/etc/bind/tsig.key': BIND_KEY })],
    [
      'a certbot rfc2136 credentials file',
      rfc2136('    name: certbot-training.', '    secret_file: /etc/letsencrypt/dns-rfc2136-credentials.ini'),
      {},
      files({
        '/etc/letsencrypt/dns-rfc2136-credentials.ini': `##\n## maintained by Ansible\ndns_rfc2136_server = 127.0.0.2\ndns_rfc2136_port = 53\ndns_rfc2136_name = certbot-training.\ndns_rfc2136_secret = ${SECRET}\ndns_rfc2136_algorithm = HMAC-SHA512\n`,
      }),
    ],
  ])('%s', (_name, text, env, reader) => {
    const result = evaluate(text, env, reader);
    expect(result.problems).toEqual([]);
    expect(rfc2136Of(result.config)?.tsig).toEqual({ name: 'certbot-training', algorithm: 'hmac-sha512', secret: Buffer.from(SECRET_TEXT) });
    expectNoSecret(result);
  });

  test('no name and no secret: unsigned updates (IP-authorized server)', () => {
    const result = evaluate(rfc2136());
    expect(result.problems).toEqual([]);
    expect(rfc2136Of(result.config)?.tsig).toBeUndefined();
  });

  test('the key file algorithm is used when the file does not name one', () => {
    const key = BIND_KEY.replace('hmac-sha512', 'hmac-sha256');
    const result = evaluate(rfc2136('    secret_file: /k'), {}, files({ '/k': key }));
    expect(rfc2136Of(result.config)?.tsig?.algorithm).toBe('hmac-sha256');
  });

  test('a key file with several keys: name chooses', () => {
    const keys = `# keys for the lab\nkey "rndc-key" { algorithm hmac-md5; secret "${OTHER_SECRET}"; };\n// the one we want\n${BIND_KEY}`;
    const result = evaluate(rfc2136('    name: CERTBOT-TRAINING', '    secret_file: /k'), {}, files({ '/k': keys }));
    expect(rfc2136Of(result.config)?.tsig).toEqual({ name: 'certbot-training', algorithm: 'hmac-sha512', secret: Buffer.from(SECRET_TEXT) });
  });

  test('a key statement inside a named.conf fragment is found', () => {
    const conf = `options { directory "/var/cache/bind"; };\n/* a comment with key "x" { } */\n${BIND_KEY}zone "example.org" { type master; file "db"; };\n`;
    const result = evaluate(rfc2136('    secret_file: /k'), {}, files({ '/k': conf }));
    expect(rfc2136Of(result.config)?.tsig?.name).toBe('certbot-training');
  });

  test('a file source wins over GXIT_CERT_TSIG_SECRET, with a warning', () => {
    const result = evaluate(rfc2136('    name: certbot-training.', '    secret_file: /k'), { GXIT_CERT_TSIG_SECRET: OTHER_SECRET }, files({ '/k': SECRET }));
    expect(rfc2136Of(result.config)?.tsig?.secret).toEqual(Buffer.from(SECRET_TEXT));
    expect(result.warnings).toEqual([`${SOURCE}:8: dns.rfc2136.secret_file: takes precedence: GXIT_CERT_TSIG_SECRET is set but not used`]);
    expectNoSecret(result);
  });

  test('the route53 secret access key can come from a file', () => {
    const text = lines(
      'certificates:',
      '  - domains: [galaxy.example.org]',
      'dns:',
      '  provider: route53',
      '  route53:',
      '    access_key_id: AKIAIOSFODNN7EXAMPLE',
      '    secret_access_key_file: /etc/gxit-cert/aws.secret',
    );
    const result = evaluate(text, {}, files({ '/etc/gxit-cert/aws.secret': `${SECRET}\n` }));
    expect(route53Of(result.config)?.secretAccessKey).toBe(SECRET);
    const bad = evaluate(text, {}, files({ '/etc/gxit-cert/aws.secret': `${SECRET} ${OTHER_SECRET}\n` }));
    expect(bad.problems[0]).toMatchObject({ line: 7, path: 'dns.route53.secret_access_key_file' });
    expect(bad.problems[0]!.message).toMatch(/does not hold a single secret access key/);
    expectNoSecret(bad);
  });
});

describe('world-readable secret files', () => {
  test.each([
    [0o100644, true],
    [0o100604, true],
    [0o100640, false],
    [0o100600, false],
    [0o100400, false],
  ])('mode %o warns: %s', (mode, warns) => {
    const result = evaluate(rfc2136('    name: k', '    secret_file: /k'), {}, files({ '/k': { data: SECRET, mode } }));
    expect(result.problems).toEqual([]);
    const warning = result.config!.warnings.find((w) => w.includes('readable by every user'));
    if (warns) {
      expect(warning).toBe(`${SOURCE}:8: dns.rfc2136.secret_file: /k is readable by every user (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); run chmod 600 /k`);
    } else {
      expect(warning).toBeUndefined();
    }
    expectNoSecret(result);
  });
});

describe('secret problems name the key and never the secret', () => {
  const cases: [string, string, NodeJS.ProcessEnv, SecretFileReader, { line: number; path: string; code: string; message: RegExp; fix?: RegExp }][] = [
    ['name without any secret', rfc2136('    name: certbot-training.'), {}, files({}), { line: 7, path: 'dns.rfc2136.name', code: 'SECRET_UNAVAILABLE', message: /the TSIG key "certbot-training" has no secret: none is written and GXIT_CERT_TSIG_SECRET is not set/, fix: /secret_file:.*GXIT_CERT_TSIG_SECRET/ }],
    ['secret_env not set', rfc2136('    name: k', '    secret_env: LAB_TSIG'), {}, files({}), { line: 8, path: 'dns.rfc2136.secret_env', code: 'SECRET_UNAVAILABLE', message: /environment variable LAB_TSIG is not set/ }],
    ['secret_env not base64', rfc2136('    name: k', '    secret_env: LAB_TSIG'), { LAB_TSIG: `${SECRET_TEXT}!` }, files({}), { line: 8, path: 'dns.rfc2136.secret_env', code: 'CONFIG_INVALID', message: /environment variable LAB_TSIG is not base64/ }],
    ['GXIT_CERT_TSIG_SECRET not base64', rfc2136('    name: k'), { GXIT_CERT_TSIG_SECRET: SECRET_TEXT }, files({}), { line: 7, path: 'dns.rfc2136.name', code: 'CONFIG_INVALID', message: /environment variable GXIT_CERT_TSIG_SECRET is not base64/ }],
    ['GXIT_CERT_TSIG_SECRET without a key name', rfc2136(), { GXIT_CERT_TSIG_SECRET: SECRET }, files({}), { line: 5, path: 'dns.rfc2136.name', code: 'CONFIG_INVALID', message: /GXIT_CERT_TSIG_SECRET is set but no TSIG key name is configured/, fix: /unset GXIT_CERT_TSIG_SECRET/ }],
    ['file missing', rfc2136('    name: k', '    secret_file: /etc/gxit-cert/tsig.key'), {}, files({}), { line: 8, path: 'dns.rfc2136.secret_file', code: 'SECRET_UNAVAILABLE', message: /\/etc\/gxit-cert\/tsig\.key does not exist/ }],
    ['file unreadable', rfc2136('    name: k', '    secret_file: /k'), {}, () => { throw Object.assign(new Error('EACCES'), { code: 'EACCES' }); }, { line: 8, path: 'dns.rfc2136.secret_file', code: 'SECRET_UNAVAILABLE', message: /\/k cannot be read \(permission denied\)/, fix: /root/ }],
    ['file is a directory', rfc2136('    name: k', '    secret_file: /k'), {}, () => { throw Object.assign(new Error('EISDIR'), { code: 'EISDIR' }); }, { line: 8, path: 'dns.rfc2136.secret_file', code: 'SECRET_UNAVAILABLE', message: /\/k is not a regular file/ }],
    ['file empty', rfc2136('    name: k', '    secret_file: /k'), {}, files({ '/k': '\n' }), { line: 8, path: 'dns.rfc2136.secret_file', code: 'SECRET_UNAVAILABLE', message: /\/k is empty/ }],
    ['file not base64', rfc2136('    name: k', '    secret_file: /k'), {}, files({ '/k': `${SECRET_TEXT}\n` }), { line: 8, path: 'dns.rfc2136.secret_file', code: 'CONFIG_INVALID', message: /the secret in \/k is not base64/ }],
    ['key file without a name and no name written', rfc2136('    secret_file: /k'), {}, files({ '/k': SECRET }), { line: 5, path: 'dns.rfc2136.name', code: 'CONFIG_INVALID', message: /is missing: the TSIG secret needs its key name/ }],
    ['key file names another key', rfc2136('    name: other-key', '    secret_file: /k'), {}, files({ '/k': BIND_KEY }), { line: 7, path: 'dns.rfc2136.name', code: 'CONFIG_INVALID', message: /is "other-key" but \/k holds the key "certbot-training"/, fix: /name: certbot-training/ }],
    ['key file has another algorithm', rfc2136('    name: certbot-training', '    algorithm: hmac-sha256', '    secret_file: /k'), {}, files({ '/k': BIND_KEY }), { line: 8, path: 'dns.rfc2136.algorithm', code: 'CONFIG_INVALID', message: /is hmac-sha256 but \/k says hmac-sha512/, fix: /algorithm: hmac-sha512/ }],
    ['key file with an unknown algorithm', rfc2136('    secret_file: /k'), {}, files({ '/k': BIND_KEY.replace('hmac-sha512', 'gss-tsig') }), { line: 7, path: 'dns.rfc2136.secret_file', code: 'CONFIG_INVALID', message: /unknown TSIG algorithm "gss-tsig"/ }],
    ['key file with several keys and no name', rfc2136('    secret_file: /k'), {}, files({ '/k': `${BIND_KEY}key "b" { algorithm hmac-sha256; secret "${OTHER_SECRET}"; };` }), { line: 7, path: 'dns.rfc2136.secret_file', code: 'CONFIG_INVALID', message: /holds 2 keys \(certbot-training, b\)/, fix: /add name:/ }],
    ['key file without the named key', rfc2136('    name: c', '    secret_file: /k'), {}, files({ '/k': `${BIND_KEY}key "b" { algorithm hmac-sha256; secret "${OTHER_SECRET}"; };` }), { line: 8, path: 'dns.rfc2136.secret_file', code: 'CONFIG_INVALID', message: /has no key named "c" \(it has certbot-training, b\)/ }],
    ['malformed key statement', rfc2136('    secret_file: /k'), {}, files({ '/k': `key "x" { secret "${SECRET}" }` }), { line: 7, path: 'dns.rfc2136.secret_file', code: 'CONFIG_INVALID', message: /malformed/ }],
    ['key statement without a secret', rfc2136('    secret_file: /k'), {}, files({ '/k': 'key "x" { algorithm hmac-sha256; };' }), { line: 7, path: 'dns.rfc2136.secret_file', code: 'CONFIG_INVALID', message: /has no secret for the key/ }],
    ['ansible credentials with a secret file that is missing', lines('certbot_domains: [galaxy.example.org]', 'certbot_dns_provider: rfc2136', 'certbot_dns_credentials:', '  server: 127.0.0.2', '  name: certbot-training.', '  secret_file: /nope'), {}, files({}), { line: 6, path: 'certbot_dns_credentials.secret_file', code: 'SECRET_UNAVAILABLE', message: /\/nope does not exist/ }],
  ];

  test.each(cases)('%s', (_name, text, env, reader, expected) => {
    const result = evaluate(text, env, reader);
    expect(result.config).toBeUndefined();
    expect(result.problems).toHaveLength(1);
    const problem = result.problems[0]!;
    expect(problem).toMatchObject({ source: SOURCE, line: expected.line, path: expected.path, code: expected.code });
    expect(problem.message).toMatch(expected.message);
    expect(problem.fix).toBeTruthy();
    if (expected.fix) expect(problem.fix).toMatch(expected.fix);
    expectNoSecret(result);

    let thrown: unknown;
    try {
      parseConfigText(text, SOURCE, { providers: PROVIDERS, env, readSecretFile: reader });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const error = thrown as ConfigError;
    expect(error.code).toBe(expected.code);
    expect(error.message).toBe(`${SOURCE}:${expected.line}: ${expected.path}: ${problem.message}`);
    expect(error.subject).toBe(expected.path);
    for (const secret of [SECRET, SECRET_TEXT, OTHER_SECRET]) {
      expect(error.message).not.toContain(secret);
      expect(error.fix ?? '').not.toContain(secret);
      expect(error.stack ?? '').not.toContain(secret);
    }
    expect(error.cause).toBeUndefined();
  });
});

describe('parseKeyFile', () => {
  test.each([
    ['bare', `${SECRET}\n`, 'plain', [{ secret: SECRET }]],
    ['tsig-keygen output', BIND_KEY, 'bind', [{ name: 'certbot-training.', algorithm: 'hmac-sha512', secret: SECRET }]],
    ['unquoted name, one line', `key tsig { algorithm HMAC-SHA256; secret "${SECRET}"; };`, 'bind', [{ name: 'tsig', algorithm: 'HMAC-SHA256', secret: SECRET }]],
    ['secret with slashes is not a comment', 'key k { secret "ab//cd+/ef=="; };', 'bind', [{ name: 'k', secret: 'ab//cd+/ef==' }]],
    ['certbot ini', `dns_rfc2136_name = k\ndns_rfc2136_secret = ${SECRET}\n`, 'certbot-ini', [{ name: 'k', secret: SECRET }]],
  ])('%s', (_name, text, format, keys) => {
    expect(parseKeyFile(text)).toEqual({ format, keys });
  });

  test('an empty file', () => expect(parseKeyFile('  \n')).toEqual({ error: 'is empty' }));
});

describe('readSecretFileSync', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gxit-cert-secrets-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('reads content and mode', () => {
    const path = join(dir, 'tsig.key');
    writeFileSync(path, BIND_KEY);
    chmodSync(path, 0o640);
    const file = readSecretFileSync(path);
    expect(file.data.toString()).toBe(BIND_KEY);
    expect((file.mode ?? 0) & 0o777).toBe(0o640);
  });

  test.each([
    ['missing', (d: string) => join(d, 'missing'), 'missing'],
    ['a directory', (d: string) => { const p = join(d, 'sub'); mkdirSync(p, { recursive: true }); return p; }, 'not-regular'],
    ['too large', (d: string) => { const p = join(d, 'big'); writeFileSync(p, Buffer.alloc(MAX_SECRET_FILE_BYTES + 1, 65)); return p; }, 'too-large'],
  ])('%s -> %s', (_name, make, problem) => {
    expect(() => readSecretFileSync(make(dir))).toThrow(expect.objectContaining({ code: 'SECRET_UNAVAILABLE', problem }));
  });

  test('the whole pipeline with real files warns about a world-readable key file', () => {
    const path = join(dir, 'world.key');
    writeFileSync(path, BIND_KEY);
    chmodSync(path, 0o644);
    const config = parseConfigText(rfc2136(`    secret_file: ${path}`), join(dir, 'config.yml'), { providers: PROVIDERS });
    expect(rfc2136Of(config)?.tsig?.name).toBe('certbot-training');
    expect(config.warnings).toEqual([`${join(dir, 'config.yml')}:7: dns.rfc2136.secret_file: ${path} is readable by every user (mode 0644); run chmod 600 ${path}`]);
  });
});
