/**
 * The bad-input table (issues 9 and 15): configuration keys with wrong types, empty, huge and unicode
 * values, unknown keys, YAML syntax errors, aliases and duplicate keys; files that are missing,
 * directories, FIFOs or devices; corrupted state; CLI misuse. Each case is data: how to build the
 * input, the command line, and what the CLI must answer (exit code, the one error line).
 *
 * A case whose fix belongs in code that is being restructured carries `pendingFix: 'issue 15 item N'`:
 * it still runs, the test asserts that it still fails its checks (so a fix is noticed and the marker
 * removed) and prints the list.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, lstatSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export type ConfigObject = Record<string, unknown>;

export interface CaseContext {
  /** The case's own directory. */
  dir: string;
  /** dir/config.yml, written from `edit` or `text` before the run. */
  config: string;
  /** dir/state (the base config's state_dir); with `state: true` a copy of an issued lineage. */
  stateDir: string;
  /** The lineage name of the base config. */
  lineage: string;
  /** The lab TSIG key's base64 secret (must never be printed). */
  labSecret: string;
}

export interface BadInputCase {
  name: string;
  group: string;
  /** Edits a fresh copy of the base configuration (the lab's, state_dir = ctx.stateDir). */
  edit?: (config: ConfigObject, ctx: CaseContext) => void;
  /** The configuration file's raw content instead (string or bytes). */
  text?: string | Buffer | ((ctx: CaseContext) => string | Buffer);
  /** Start from a copy of a state_dir with one issued lineage. */
  state?: boolean;
  /** Anything else to set up (files, links, FIFOs). */
  prepare?: (ctx: CaseContext) => void;
  /** Command line; default `status -c <config>`. */
  args?: (ctx: CaseContext) => string[];
  env?: Record<string, string>;
  /** Text that must not appear in the output (raw escape sequences, say). */
  absent?: string[];
  /** Expected exit code. */
  exit: 0 | 1 | 2;
  /**
   * The error line: a pattern the single `error:` line must match; 'report' when the command reports
   * the fault in its normal output (status) instead, with `report` matching it.
   */
  error: RegExp | 'report';
  report?: RegExp;
  /** Strings that must not appear anywhere in the output (besides the lab secret, always checked). */
  secrets?: string[];
  /** Whether `live/` must stay unchanged (default true). */
  liveUnchanged?: boolean;
  pendingFix?: string;
  timeoutMs?: number;
}

// ------------------------------------------------------------------------------------------ helpers

/** Sets a value at a dotted path (numbers index lists); `undefined` deletes. */
export function setPath(target: ConfigObject, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let node: Record<string, unknown> | unknown[] = target;
  for (const part of parts.slice(0, -1)) {
    const next: unknown = Array.isArray(node) ? node[Number(part)] : node[part];
    if (next === null || typeof next !== 'object') {
      const created: Record<string, unknown> = {};
      if (Array.isArray(node)) node[Number(part)] = created;
      else node[part] = created;
      node = created;
    } else {
      node = next as Record<string, unknown>;
    }
  }
  const last = parts.at(-1)!;
  if (Array.isArray(node)) node[Number(last)] = value;
  else if (value === undefined) delete node[last];
  else node[last] = value;
}

const escapeRe = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The error line must name this key path. */
const names = (key: string): RegExp => new RegExp(`(^|[ :])${escapeRe(key.replace(/\.(\d+)(?=\.|$)/g, '[$1]'))}([.[][^ ]*)?:`);

const config = (ctx: CaseContext): string[] => ['-c', ctx.config];
const status = (ctx: CaseContext): string[] => ['status', ...config(ctx)];
const COMMANDS = ['status', 'issue', 'renew', 'check-dns'] as const;

function fifo(file: string): void {
  execFileSync('mkfifo', [file]);
}

/** The live file of the case's lineage. */
const live = (ctx: CaseContext, file: string): string => path.join(ctx.stateDir, 'live', ctx.lineage, file);

/** Replaces a live link's target file content (the archive file it points to). */
function rewriteTarget(ctx: CaseContext, file: string, content: (old: string) => string): void {
  const target = path.resolve(path.dirname(live(ctx, file)), readlinkOf(live(ctx, file)));
  writeFileSync(target, content(readFileSync(target, 'utf8')));
}

function readlinkOf(file: string): string {
  return readlinkSync(file);
}

function relink(ctx: CaseContext, file: string, target: string): void {
  rmSync(live(ctx, file), { force: true });
  symlinkSync(target, live(ctx, file));
}

// -------------------------------------------------------------------------------------------- cases

const cases: BadInputCase[] = [];
const add = (c: BadInputCase): void => {
  cases.push(c);
};

// Keys whose value must be a string: a list, a mapping, a boolean, a number or an empty string is refused.
const STRING_KEYS = [
  'email',
  'server',
  'ca_bundle',
  'state_dir',
  'key_type',
  'dns.provider',
  'dns.expect_target',
  'dns.rfc2136.name',
  'dns.rfc2136.algorithm',
  'dns.rfc2136.secret_file',
  'dns.rfc2136.zone',
  'certificates.0.name',
];
const WRONG_FOR_STRING: [string, unknown][] = [
  ['a list', ['a', 'b']],
  ['a mapping', { a: 1 }],
  ['a boolean', true],
  ['a number', 12345],
  ['an empty string', ''],
];
for (const key of STRING_KEYS) {
  for (const [what, value] of WRONG_FOR_STRING) {
    add({ group: 'wrong type', name: `${key} is ${what}`, edit: (c) => setPath(c, key, value), exit: 2, error: names(key) });
  }
}

// dns.rfc2136.server: one address or host name, or a non-empty list of them.
const WRONG_FOR_SERVERS: [string, unknown][] = [
  ...WRONG_FOR_STRING.filter(([what]) => what !== 'a list'),
  ['an empty list', []],
  ['a list with a mapping', ['127.0.0.1', { a: 1 }]],
  ['a list with an empty string', ['127.0.0.1', '']],
  ['a list with a bad host name', ['127.0.0.1', 'bad host!']],
];
for (const [what, value] of WRONG_FOR_SERVERS) {
  add({ group: 'wrong type', name: `dns.rfc2136.server is ${what}`, edit: (c) => setPath(c, 'dns.rfc2136.server', value), exit: 2, error: names('dns.rfc2136.server') });
}

// Keys whose value must be a number in a range.
const NUMBER_KEYS: { key: string; zeroOk?: boolean; hugeOk?: boolean; integer?: boolean; pendingHuge?: string }[] = [
  { key: 'dns.propagation_timeout' },
  { key: 'dns.propagation_interval' },
  { key: 'dns.nameserver_port', integer: true },
  { key: 'dns.rfc2136.port', integer: true },
  { key: 'dns.rfc2136.ttl', zeroOk: true, hugeOk: true, integer: true },
  { key: 'dns.rfc2136.timeout' },
  { key: 'dns.rfc2136.retries', integer: true },
  { key: 'renew_before_days' },
  { key: 'hooks.timeout' },
];
const WRONG_FOR_NUMBER: [string, unknown][] = [
  ['a string', 'abc'],
  ['a unit string', '2m'],
  ['negative', -1],
  ['1e308', 1e308],
  ['infinite', Number.POSITIVE_INFINITY],
  ['NaN', Number.NaN],
  ['a list', [1]],
  ['a mapping', { a: 1 }],
  ['a boolean', true],
];
for (const rule of NUMBER_KEYS) {
  for (const [what, value] of WRONG_FOR_NUMBER) {
    const pending = what === '1e308' ? rule.pendingHuge : undefined;
    add({ group: 'wrong type', name: `${rule.key} is ${what}`, edit: (c) => setPath(c, rule.key, value), exit: 2, error: names(rule.key), ...(pending === undefined ? {} : { pendingFix: pending }) });
  }
  if (!rule.zeroOk) add({ group: 'range', name: `${rule.key} is 0`, edit: (c) => setPath(c, rule.key, 0), exit: 2, error: names(rule.key) });
  if (!rule.hugeOk) {
    add({
      group: 'range',
      name: `${rule.key} is 3000000`,
      edit: (c) => setPath(c, rule.key, 3_000_000),
      exit: 2,
      error: names(rule.key),
      ...(rule.pendingHuge === undefined ? {} : { pendingFix: rule.pendingHuge }),
    });
  }
  if (rule.integer) add({ group: 'range', name: `${rule.key} is 1.5`, edit: (c) => setPath(c, rule.key, 1.5), exit: 2, error: names(rule.key) });
}

// Provider sections' timeouts have their ranges too (config/durations.ts): past 2^31-1 ms, zero or negative is refused naming the key.
const PROVIDER_TIMEOUTS: [string, Record<string, unknown>, number][] = [
  ['exec', { command: '/bin/true' }, 3600],
  ['acme-dns', { api: 'https://127.0.0.1:1/', credentials_file: '/nonexistent/acme-dns.json' }, 300],
  ['cloudflare', { api_token_env: 'GXIT_TEST_CF_TOKEN' }, 300],
];
for (const [provider, section, max] of PROVIDER_TIMEOUTS) {
  for (const value of [3_000_000, max + 1, 0, -5]) {
    add({
      group: 'range',
      name: `dns.${provider}.timeout is ${value}`,
      edit: (c) => {
        setPath(c, 'dns.provider', provider);
        setPath(c, 'dns.rfc2136', undefined);
        setPath(c, `dns.${provider}`, { ...section, timeout: value });
      },
      env: { GXIT_TEST_CF_TOKEN: 'cf-token-for-the-table-0123456789abcdef' },
      exit: 2,
      error: new RegExp(`dns\\.${provider.replace('-', '\\-')}\\.timeout: ${value} is not from 0\\.001 to ${max}\\b`),
    });
  }
}

// Keys whose value must be true or false.
for (const key of ['dns.propagation_check', 'dns.rfc2136.tcp']) {
  for (const [what, value] of [['"yes"', 'yes'], ['"true"', 'true'], ['1', 1], ['a list', [true]], ['a mapping', { a: 1 }]] as [string, unknown][]) {
    add({ group: 'wrong type', name: `${key} is ${what}`, edit: (c) => setPath(c, key, value), exit: 2, error: names(key) });
  }
}

// Values of the right type that are not valid.
const INVALID_VALUES: [string, unknown, string[]?][] = [
  ['email', 'admin\u0000@example.org'],
  ['email', 'admin@example.org\u202e'],
  ['email', 'ad\u200bmin@example.org'],
  ['email', 'admin\u0007@example.org'],
  ['email', 'admin\ufffd@example.org'],
  ['email', 'admin@exa mple.org'],
  ['email', `${'a'.repeat(100_000)}@example.org`],
  ['email', 'mailto:admin@example.org'],
  ['email', 'admin@@example.org'],
  ['email', 'admin'],
  ['server', 'ftp://acme.example.org/dir'],
  ['server', 'http://acme.example.org/dir'],
  ['server', 'https://acme:hunter2pass@acme.example.org/dir', ['hunter2pass']],
  ['server', 'https://acme.example.org:99999/dir'],
  ['server', 'not a url'],
  ['server', 'letsencrypt-prod'],
  ['server', 'javascript:alert(1)'],
  ['server', 'https://\u202eacme.example.org/dir'],
  ['key_type', 'rsa-1024'],
  ['key_type', 'ECDSA-P999'],
  ['key_type', 'rsa\u0000'],
  ['key_type', 'x'.repeat(10_000)],
  ['dns.provider', 'route54'],
  ['dns.provider', 'powerdns-http'],
  ['dns.provider', 'RFC2136'],
  ['dns.provider', 'rfc2136\u202e'],
  ['dns.rfc2136.server', 'bad host!'],
  ['dns.rfc2136.server', '[::1'],
  ['dns.rfc2136.server', '127.0.0.1:0'],
  ['dns.rfc2136.server', '127.0.0.1:65536'],
  ['dns.rfc2136.server', 'host\u0000name'],
  ['dns.rfc2136.server', 'a'.repeat(300)],
  ['dns.rfc2136.server', 'https://admin:s3cr3tpw@ns1.example.org', ['s3cr3tpw']],
  ['dns.rfc2136.server', '-bad.example.org'],
  ['dns.rfc2136.name', 'bad name!'],
  ['dns.rfc2136.name', 'a..b'],
  ['dns.rfc2136.name', 'x'.repeat(300)],
  ['dns.rfc2136.name', 'key\u202e'],
  ['dns.rfc2136.algorithm', 'hmac-sha3'],
  ['dns.rfc2136.algorithm', 'md5'],
  ['dns.rfc2136.algorithm', 'HMAC-SHA512\u0000'],
  ['dns.rfc2136.zone', '*.example.org'],
  ['dns.rfc2136.zone', 'a..b'],
  ['dns.rfc2136.zone', 'exa mple.org'],
  ['dns.rfc2136.secret_env', '1BAD'],
  ['dns.rfc2136.secret_env', 'NOT_SET_ANYWHERE_GXIT'],
  ['dns.expect_target', '*.example.org'],
  ['dns.expect_target', 'bad host!'],
  ['certificates.0.name', '../../etc'],
  ['certificates.0.name', 'a/b'],
  ['certificates.0.name', '.hidden'],
  ['certificates.0.name', 'x'.repeat(200)],
  ['certificates.0.key_type', 'dsa'],
  ['state_dir', '~/state'],
  ['state_dir', 'with\u0000nul'],
  ['ca_bundle', '~/ca.pem'],
];
for (const [key, value, secrets] of INVALID_VALUES) {
  const shown = typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 20)}...(${value.length})` : value) : String(value);
  add({
    group: 'invalid value',
    name: `${key} = ${shown}`,
    edit: (c) => {
      if (key === 'dns.rfc2136.secret_env') setPath(c, 'dns.rfc2136.secret_file', undefined);
      setPath(c, key, value);
    },
    exit: 2,
    error: names(key),
    ...(secrets === undefined ? {} : { secrets }),
  });
}

// Lists: certificates, domains, resolvers, caa_identities, verify_served.
const LIST_VALUES: [string, unknown][] = [
  ['certificates', 'galaxy.example.org'],
  ['certificates', {}],
  ['certificates', []],
  ['certificates', [1]],
  ['certificates.0', {}],
  ['certificates.0.domains', []],
  ['certificates.0.domains', 'galaxy.example.org'],
  ['certificates.0.domains', [1]],
  ['certificates.0.domains', [null]],
  ['certificates.0.domains', [{ a: 1 }]],
  ['certificates.0.domains', ['*.*.example.org']],
  ['certificates.0.domains', ['a..example.org']],
  ['certificates.0.domains', ['127.0.0.1']],
  ['certificates.0.domains', [`${'x'.repeat(64)}.example.org`]],
  ['certificates.0.domains', ['dup.example.org', 'dup.example.org']],
  ['certificates.0.domains', ['gal axy.example.org']],
  ['certificates.0.domains', ['galaxy.example.org\u202e']],
  ['certificates.0.domains', ['-x.example.org']],
  ['certificates.0.domains', ['org']],
  ['certificates.0.domains', ['ex*ample.org']],
  ['certificates.0.domains', ['example.123']],
  ['certificates.0.domains', [`${'a.'.repeat(130)}org`]],
  ['dns.resolvers', '127.0.0.1'],
  ['dns.resolvers', []],
  ['dns.resolvers', ['ns1.example.org']],
  ['dns.resolvers', ['127.0.0.1:0']],
  ['dns.resolvers', ['[::1']],
  ['dns.resolvers', [1]],
  ['dns.resolvers', ['256.1.1.1']],
  ['caa_identities', 'letsencrypt.org'],
  ['caa_identities', []],
  ['caa_identities', ['*.x.org']],
  ['caa_identities', [1]],
  ['verify_served', { a: 1 }],
  ['verify_served', [1]],
  ['verify_served', ['bad host!']],
  ['hooks', 'x'],
  ['hooks.deploy', 1],
  ['hooks.deploy', [1]],
  ['hooks.deploy', [[]]],
  ['hooks.pre', { a: 1 }],
];
for (const [key, value] of LIST_VALUES) {
  add({ group: 'invalid list', name: `${key} = ${JSON.stringify(value).slice(0, 60)}`, edit: (c) => setPath(c, key, value), exit: 2, error: names(key) });
}
add({
  group: 'invalid list',
  name: 'two certificates with the same name',
  edit: (c) => {
    const [first] = c.certificates as ConfigObject[];
    c.certificates = [first, { ...first }];
  },
  exit: 2,
  error: /certificates\[1\]\.name: lineage name .* is already used/,
});

// Unknown keys, including a secret written as a key (it must not be echoed).
const UNKNOWN_KEYS: [string, RegExp][] = [
  ['emial', /emial: unknown key; did you mean email\?/],
  ['servr', /servr: unknown key; did you mean server\?/],
  ['foo', /foo: unknown key/],
  ['dns.foo', /dns\.foo: unknown key/],
  ['dns.rfc2163', /dns\.rfc2163: unknown key/],
  ['dns.rfc2136.secrte', /dns\.rfc2136\.secrte: unknown key/],
  ['dns.rfc2136.keyname', /dns\.rfc2136\.keyname: unknown key/],
  ['certificates.0.domain', /certificates\[0\]\.domain: unknown key/],
  ['hooks.deplo', /hooks\.deplo: unknown key/],
  ['dns.route53', /dns\.route53: is ignored|unknown key|must be a mapping/],
];
for (const [key, error] of UNKNOWN_KEYS) {
  add({ group: 'unknown key', name: `unknown key ${key}`, edit: (c) => setPath(c, key, 1), exit: 2, error });
}
add({
  group: 'secret leak',
  name: 'the TSIG secret written as a mapping key',
  edit: (c, ctx) => setPath(c, `dns.rfc2136.${ctx.labSecret}`, null),
  exit: 2,
  error: /dns\.rfc2136\.\(a key that is not a name, not shown\): unknown key/,
});
add({
  group: 'secret leak',
  name: 'the TSIG secret written as a top-level key',
  edit: (c, ctx) => setPath(c, ctx.labSecret, 'x'),
  exit: 2,
  error: /\(a key that is not a name, not shown\): unknown key/,
});
add({
  group: 'secret leak',
  name: 'an AWS secret key under the wrong key',
  edit: (c) => setPath(c, 'dns.rfc2136.zone', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'),
  exit: 2,
  error: /dns\.rfc2136\.zone: \(a value that looks like a secret, not shown\)/,
  secrets: ['wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
});

add({
  group: 'secret leak',
  name: 'the TSIG secret written as a key of a certificate',
  edit: (c, ctx) => setPath(c, `certificates.0.${ctx.labSecret}`, 1),
  exit: 2,
  error: /certificates\[0\]\.\(a key that is not a name, not shown\): unknown key/,
});
add({
  group: 'secret leak',
  name: 'the TSIG secret written as a key under hooks',
  edit: (c, ctx) => setPath(c, `hooks.${ctx.labSecret}`, 'x'),
  exit: 2,
  error: /hooks\.\(a key that is not a name, not shown\): unknown key/,
});

// Hook output is printed without ANSI escapes or raw control characters (cleanOutputLine).
add({
  group: 'hook output',
  name: 'a failing pre hook that prints ANSI escapes and control characters',
  state: true,
  edit: (c) => setPath(c, 'hooks.pre', ["printf '\\033[31mred\\033[0m \\033]0;owned\\007 bell\\007 end\\n'; exit 3"]),
  args: (ctx) => ['issue', '--force', ...config(ctx)],
  exit: 1,
  error: 'report',
  report: /pre hook .*failed with exit code 3: red {2}bell\\u0007 end; no order was placed/,
  absent: ['\u001b', '\u0007'],
  timeoutMs: 30_000,
});
add({
  group: 'hook output',
  name: 'a failing pre hook that prints a fake error line after a carriage return',
  state: true,
  edit: (c) => setPath(c, 'hooks.pre', ["printf 'x\\rerror: all good\\033[2K\\n'; exit 4"]),
  args: (ctx) => ['issue', '--force', ...config(ctx)],
  exit: 1,
  error: 'report',
  report: /pre hook .*failed with exit code 4: x\\u000derror: all good; no order was placed/,
  absent: ['\u001b', '\r'],
  timeoutMs: 30_000,
});

// TSIG secret sources.
add({ group: 'secret', name: 'secret and secret_file both', edit: (c, ctx) => setPath(c, 'dns.rfc2136.secret', ctx.labSecret), exit: 2, error: /second source for the TSIG secret/ });
add({ group: 'secret', name: 'inline secret not base64', edit: (c) => { setPath(c, 'dns.rfc2136.secret_file', undefined); setPath(c, 'dns.rfc2136.secret', 'not base64!!'); }, exit: 2, error: /dns\.rfc2136\.secret: is not a base64 TSIG secret/, secrets: ['not base64!!'] });
add({ group: 'secret', name: 'inline secret without a key name', edit: (c, ctx) => { setPath(c, 'dns.rfc2136.secret_file', undefined); setPath(c, 'dns.rfc2136.name', undefined); setPath(c, 'dns.rfc2136.secret', ctx.labSecret); }, exit: 2, error: /without a key name/ });
add({ group: 'secret', name: 'GXIT_CERT_TSIG_SECRET set without a key name', edit: (c) => { setPath(c, 'dns.rfc2136.secret_file', undefined); setPath(c, 'dns.rfc2136.name', undefined); }, env: { GXIT_CERT_TSIG_SECRET: 'c2VjcmV0c2VjcmV0c2VjcmV0' }, exit: 2, error: /GXIT_CERT_TSIG_SECRET is set but no TSIG key name/, secrets: ['c2VjcmV0c2VjcmV0c2VjcmV0'] });
add({ group: 'secret', name: 'a key name and no secret anywhere', edit: (c) => setPath(c, 'dns.rfc2136.secret_file', undefined), exit: 2, error: /has no secret/ });
add({ group: 'secret', name: 'secret_env names an empty variable', edit: (c) => { setPath(c, 'dns.rfc2136.secret_file', undefined); setPath(c, 'dns.rfc2136.secret_env', 'GXIT_EMPTY_SECRET'); }, env: { GXIT_EMPTY_SECRET: ' ' }, exit: 2, error: /GXIT_EMPTY_SECRET is not set/ });

// secret_file that is not a usable file.
const SECRET_FILES: [string, (ctx: CaseContext) => string, RegExp][] = [
  ['missing', (ctx) => path.join(ctx.dir, 'nope.key'), /does not exist/],
  ['a directory', (ctx) => ctx.dir, /is a directory, not a regular file/],
  ['a FIFO', (ctx) => { const f = path.join(ctx.dir, 'key.fifo'); fifo(f); return f; }, /is a FIFO \(named pipe\), not a regular file/],
  ['/dev/zero', () => '/dev/zero', /is a character device, not a regular file/],
  ['/dev/urandom', () => '/dev/urandom', /is a character device, not a regular file/],
  ['/dev/null', () => '/dev/null', /is a character device, not a regular file/],
  ['empty', (ctx) => { const f = path.join(ctx.dir, 'empty.key'); writeFileSync(f, '', { mode: 0o600 }); return f; }, /is empty/],
  ['white space only', (ctx) => { const f = path.join(ctx.dir, 'ws.key'); writeFileSync(f, ' \n\t\n', { mode: 0o600 }); return f; }, /is empty/],
  ['too large', (ctx) => { const f = path.join(ctx.dir, 'big.key'); writeFileSync(f, Buffer.alloc(70_000, 65), { mode: 0o600 }); return f; }, /larger than 65536 bytes/],
  ['not base64', (ctx) => { const f = path.join(ctx.dir, 'bad.key'); writeFileSync(f, 'this is not base64 !!!\n', { mode: 0o600 }); return f; }, /is not base64/],
  ['two BIND keys and no name', (ctx) => { const f = path.join(ctx.dir, 'two.key'); writeFileSync(f, 'key "a." { algorithm hmac-sha256; secret "c2VjcmV0"; };\nkey "b." { algorithm hmac-sha256; secret "c2VjcmV0"; };\n', { mode: 0o600 }); return f; }, /holds 2 keys|no key named/],
  ['a malformed BIND key', (ctx) => { const f = path.join(ctx.dir, 'mal.key'); writeFileSync(f, 'key "a." { algorithm hmac-sha256; secret "c2VjcmV0"\n', { mode: 0o600 }); return f; }, /malformed|not base64/],
  ['a dangling link', (ctx) => { const f = path.join(ctx.dir, 'dangling.key'); symlinkSync(path.join(ctx.dir, 'gone'), f); return f; }, /does not exist/],
  ['a link loop', (ctx) => { const f = path.join(ctx.dir, 'loop.key'); symlinkSync(f, f); return f; }, /symbolic link|cannot be read/],
];
for (const [what, make, error] of SECRET_FILES) {
  add({
    group: 'secret file',
    name: `secret_file is ${what}`,
    edit: (c, ctx) => {
      setPath(c, 'dns.rfc2136.secret_file', make(ctx));
      if (what === 'two BIND keys and no name') setPath(c, 'dns.rfc2136.name', undefined);
    },
    exit: 2,
    error,
    timeoutMs: 15_000,
  });
}

// YAML syntax, aliases, duplicate keys, sizes.
const BASE_TEXT = (ctx: CaseContext): string => `email: admin@example.org\nserver: https://127.0.0.1:1/dir\nstate_dir: ${ctx.stateDir}\ncertificates:\n  - domains: [galaxy.example.org]\ndns:\n  provider: rfc2136\n  rfc2136:\n    server: 127.0.0.1\n`;
const YAML_CASES: [string, string | Buffer | ((ctx: CaseContext) => string | Buffer), RegExp][] = [
  ['a tab for indentation', 'email: a@example.org\ndns:\n\tprovider: rfc2136\n', /YAML syntax error/],
  ['an unclosed single quote', "email: 'a@example.org\nserver: x\n", /YAML syntax error/],
  ['an unclosed double quote', 'email: "a@example.org\nserver: x\n', /YAML syntax error/],
  ['an unclosed flow list', 'certificates: [a, b\nemail: x\n', /YAML syntax error/],
  ['an unclosed flow mapping', 'dns: {provider: rfc2136\nemail: x\n', /YAML syntax error/],
  ['bad indentation', 'dns:\n  provider: rfc2136\n   resolvers: []\n', /YAML syntax error/],
  ['two documents', 'email: a@example.org\n---\nemail: b@example.org\n', /YAML syntax error/],
  ['an undefined alias', (ctx) => `${BASE_TEXT(ctx)}key_type: *nope\n`, /key_type: the alias "\*nope" refers to no anchor/],
  ['an undefined alias in a list', (ctx) => `${BASE_TEXT(ctx)}caa_identities: [*nope]\n`, /caa_identities\[0\]: the alias "\*nope" refers to no anchor/],
  ['an undefined merge alias', (ctx) => `${BASE_TEXT(ctx)}hooks:\n  <<: *nope\n`, /alias "\*nope" refers to no anchor/],
  ['a merge of a scalar', (ctx) => `x: &s 1\n${BASE_TEXT(ctx)}hooks:\n  <<: *s\n`, /merge key needs a mapping|unknown key/],
  ['an alias bomb', `a: &a ["x","x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n`, /too many values|YAML syntax error/],
  ['nesting 200 levels deep', `${'['.repeat(200)}${']'.repeat(200)}\n`, /too many values|YAML syntax error|must be a mapping/],
  ['nesting 100 mappings deep', Array.from({ length: 100 }, (_, i) => `${'  '.repeat(i)}k${i}:`).join('\n') + ' 1\n', /too many values|unknown key/],
  ['50,000 keys', Array.from({ length: 50_000 }, (_, i) => `k${i}: ${i}`).join('\n'), /larger than|more than/],
  ['20,000 keys in one flow mapping', `{${Array.from({ length: 20_000 }, (_, i) => `k${i}: 1`).join(', ')}}\n`, /more than 10000 keys|larger than/],
  ['12,000 keys in one flow mapping under 256 KiB', `{${Array.from({ length: 12_000 }, (_, i) => `k${i}: 1`).join(',')}}\n`, /more than 10000 keys/],
  ['20,000 comment lines', `${'#\n'.repeat(20_000)}email: a@example.org\n`, /more than 10000 lines/],
  ['300 KiB of text', `email: a@example.org\n# ${'x'.repeat(300 * 1024)}\n`, /larger than 262144 bytes/],
  ['a duplicate top-level key', (ctx) => `${BASE_TEXT(ctx)}email: b@example.org\n`, /email: YAML syntax error: duplicate key \(also on line 1\)/],
  ['a duplicate nested key', (ctx) => `${BASE_TEXT(ctx)}    server: 127.0.0.2\n`, /dns\.rfc2136\.server: YAML syntax error: duplicate key/],
  ['a duplicate key in a flow mapping', (ctx) => `${BASE_TEXT(ctx)}hooks: {timeout: 1, timeout: 2}\n`, /hooks\.timeout: YAML syntax error: duplicate key/],
  ['a top-level list', '- email: a@example.org\n', /top level must be a mapping/],
  ['a top-level scalar', 'just some text\n', /top level must be a mapping/],
  ['an empty file', '', /the file is empty/],
  ['only comments', '# nothing\n# here\n', /the file is empty/],
  ['a byte order mark and garbage', '\ufeff:::\n', /YAML syntax error|top level|unknown key|key must be/],
  ['binary garbage', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256)), /YAML syntax error|top level|unknown key|key must be|control characters|more than/],
  ['invalid UTF-8 in the e-mail', (ctx) => Buffer.concat([Buffer.from('email: adm'), Buffer.from([0xff, 0xfe]), Buffer.from(`in@example.org\n${BASE_TEXT(ctx).split('\n').slice(1).join('\n')}`)]), /email: .*invalid UTF-8|email: .*not an e-mail/],
  ['a NUL byte in the file', 'email: a\u0000@example.org\n', /YAML syntax error|email/],
  ['an Ansible Vault value', (ctx) => `${BASE_TEXT(ctx)}    secret: !vault |\n      $ANSIBLE_VAULT;1.1;AES256\n      6130356562\n`, /encrypted with Ansible Vault/],
  ['an unrendered Jinja template', (ctx) => BASE_TEXT(ctx).replace('admin@example.org', '"{{ admin_email }}"'), /unrendered Jinja template/],
  ['a list as a key', '[a, b]: 1\n', /key must be a plain name/],
  ['a mapping as a key', '? {a: 1}\n: 1\n', /key must be a plain name/],
  ['a !!set as the e-mail', (ctx) => BASE_TEXT(ctx).replace('admin@example.org', '!!set {a, b}'), /email: must be a string/],
  ['a JSON document with a wrong type', '{"email": 1, "certificates": []}\n', /email: must be a string/],
];
for (const [what, text, error] of YAML_CASES) {
  add({ group: 'yaml', name: `YAML: ${what}`, text, exit: 2, error, timeoutMs: 15_000 });
}
// The same syntax errors through every command that reads the configuration.
for (const command of COMMANDS.slice(1)) {
  for (const [what, text, error] of YAML_CASES.filter(([w]) => ['an unclosed double quote', 'an undefined alias', '50,000 keys', 'a duplicate nested key', 'an alias bomb'].includes(w))) {
    add({ group: 'yaml', name: `${command}: YAML: ${what}`, text, args: (ctx) => [command, ...config(ctx)], exit: 2, error, timeoutMs: 15_000 });
  }
}

// --config that is not a usable file, through every command.
const CONFIG_FILES: [string, (ctx: CaseContext) => string, RegExp, string[]?][] = [
  ['missing', (ctx) => path.join(ctx.dir, 'nope.yml'), /the configuration file does not exist/],
  ['a directory', (ctx) => ctx.dir, /is a directory, not a regular file/],
  ['a FIFO', (ctx) => { const f = path.join(ctx.dir, 'config.fifo'); fifo(f); return f; }, /is a FIFO \(named pipe\), not a regular file/],
  ['/dev/zero', () => '/dev/zero', /is a character device, not a regular file/],
  ['/dev/urandom', () => '/dev/urandom', /is a character device, not a regular file/],
  ['a shadow-format file', (ctx) => {
    const f = path.join(ctx.dir, 'shadow');
    writeFileSync(f, 'root:$6$Jd8xFz0AbCdEfGhI$QwErTyUiOpAsDfGhJkLzXcVbNm1234567890abcdQwErTyUiOpAsDfGhJkLzXcVbNm12345:19700:0:99999:7:::\ndaemon:*:19700:0:99999:7:::\n');
    return f;
  }, /unknown key|top level|YAML syntax error/, ['$6$Jd8xFz0AbCdEfGhI', 'QwErTyUiOpAsDfGhJkLzXcVbNm']],
];
for (const command of COMMANDS) {
  for (const [what, make, error, secrets] of CONFIG_FILES) {
    add({ group: 'config file', name: `${command} --config ${what}`, args: (ctx) => [command, '-c', make(ctx)], exit: 2, error, ...(secrets === undefined ? {} : { secrets }), timeoutMs: 15_000 });
  }
}
const MORE_CONFIG_FILES: [string, (ctx: CaseContext) => string, RegExp, string[]?][] = [
  ['/dev/null', () => '/dev/null', /is a character device, not a regular file/],
  ['a dangling link', (ctx) => { const f = path.join(ctx.dir, 'dangling.yml'); symlinkSync(path.join(ctx.dir, 'gone.yml'), f); return f; }, /does not exist/],
  ['a link loop', (ctx) => { const f = path.join(ctx.dir, 'loop.yml'); symlinkSync(f, f); return f; }, /cannot be read|symbolic link/],
  ['a path with a newline', (ctx) => path.join(ctx.dir, 'a\nb.yml'), /a\\u000ab\.yml: the configuration file does not exist/],
  ['an empty path', () => '', /does not exist|cannot be read/],
  ['a path below a regular file', () => '/etc/hostname/config.yml', /does not exist/],
  ['a PEM private key', (ctx) => {
    const f = path.join(ctx.dir, 'key.pem');
    writeFileSync(f, '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgVcB9Ew0y2cY5pYQk\n-----END PRIVATE KEY-----\n');
    return f;
  }, /top level must be a mapping|YAML syntax error/, ['MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgVcB9Ew0y2cY5pYQk']],
  ['an executable', () => process.execPath, /larger than|YAML syntax error|top level|key must be|unknown key|control/],
  ['/proc/self/environ', () => '/proc/self/environ', /YAML syntax error|top level|unknown key|is empty|key must be/],
];
for (const [what, make, error, secrets] of MORE_CONFIG_FILES) {
  add({ group: 'config file', name: `status --config ${what}`, args: (ctx) => ['status', '-c', make(ctx)], exit: 2, error, ...(secrets === undefined ? {} : { secrets }), timeoutMs: 15_000 });
}

// ca_bundle that is not a usable file: read when an order is about to be placed.
const CA_BUNDLES: [string, (ctx: CaseContext) => string, RegExp][] = [
  ['missing', (ctx) => path.join(ctx.dir, 'nope.pem'), /ca_bundle: .*does not exist/],
  ['a directory', (ctx) => ctx.dir, /ca_bundle: .*is a directory/],
  ['a FIFO', (ctx) => { const f = path.join(ctx.dir, 'ca.fifo'); fifo(f); return f; }, /ca_bundle: .*is a FIFO/],
  ['/dev/zero', () => '/dev/zero', /ca_bundle: .*is a character device/],
];
for (const [what, make, error] of CA_BUNDLES) {
  add({ group: 'ca bundle', name: `issue with ca_bundle ${what}`, edit: (c, ctx) => setPath(c, 'ca_bundle', make(ctx)), args: (ctx) => ['issue', ...config(ctx)], exit: 2, error, timeoutMs: 20_000 });
}

// Route53 section (provider route53): checked before any AWS call.
const ROUTE53: [string, unknown, RegExp, string[]?][] = [
  ['region', 'us-east', /dns\.route53\.region:/],
  ['region', ['us-east-1'], /dns\.route53\.region:/],
  ['access_key_id', 'AKIAIOSFODNN7EXAMPLE', /needs a secret access key/],
  ['endpoint', 'https://AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY@route53.example.org', /dns\.route53\.endpoint:/, ['wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY']],
  ['endpoint', 'https://user:plainpw@route53.example.org/', /dns\.route53\.endpoint:/, ['plainpw']],
  ['endpoint', 'http://route53.example.org', /dns\.route53\.endpoint:/],
  ['role_arn', 'arn:aws:iam::12:role/x', /dns\.route53\.role_arn:/],
  ['hosted_zone_id', 'not a zone id', /dns\.route53\.hosted_zone_id:/],
  ['session_token', 'tok', /session_token: is only used/],
  ['private_zone', 'yes', /dns\.route53\.private_zone:/],
  ['ttl', -1, /dns\.route53\.ttl:/],
  ['external_id', 'x', /external_id: is only used/],
  ['secret_access_key', 'wJalrXUtnFEMI K7MDENG', /needs an access key ID|secret access key/, ['wJalrXUtnFEMI K7MDENG']],
];
for (const [key, value, error, secrets] of ROUTE53) {
  add({
    group: 'route53',
    name: `route53.${key} = ${JSON.stringify(value).slice(0, 40)}`,
    edit: (c) => {
      setPath(c, 'dns.provider', 'route53');
      setPath(c, 'dns.rfc2136', undefined);
      setPath(c, `dns.route53.${key}`, value);
    },
    exit: 2,
    error,
    ...(secrets === undefined ? {} : { secrets }),
  });
}

// CLI misuse.
const CLI_CASES: [string, (ctx: CaseContext) => string[], RegExp, string?][] = [
  ['an unknown command', () => ['frobnicate'], /unknown command/],
  ['an unknown option', (ctx) => ['status', '--bogus', ...config(ctx)], /unknown option '--bogus'/],
  ['--config without a value', () => ['status', '-c'], /argument missing|option '-c, --config <file>'/],
  ['an extra argument', (ctx) => ['status', 'extra', ...config(ctx)], /too many arguments|unknown command|excess/],
  ['--dry-run on issue', (ctx) => ['issue', '--dry-run', ...config(ctx)], /unknown option '--dry-run'/],
  ['--force on check-dns', (ctx) => ['check-dns', '--force', ...config(ctx)], /unknown option '--force'/],
  ['--force=yes on issue', (ctx) => ['issue', '--force=yes', ...config(ctx)], /unknown option|does not take an argument|too many/],
  ['schedule --cron garbage', (ctx) => ['schedule', '--cron', 'not a cron', ...config(ctx)], /cron/],
  ['schedule --cron with 3 fields', (ctx) => ['schedule', '--cron', '* * *', ...config(ctx)], /cron/],
  ['schedule --random-delay abc', (ctx) => ['schedule', '--random-delay', 'abc', ...config(ctx)], /--random-delay "abc" is not a number of seconds/],
  ['schedule --random-delay -5', (ctx) => ['schedule', '--random-delay', '-5', ...config(ctx)], /--random-delay/],
  ['schedule --random-delay 99999999', (ctx) => ['schedule', '--random-delay', '99999999', ...config(ctx)], /--random-delay 99999999 is not from 0 to 86400 seconds/],

  ['install-timer --root a regular file', (ctx) => { const f = path.join(ctx.dir, 'rootfile'); writeFileSync(f, 'x'); return ['install-timer', '--systemd', '--root', f, ...config(ctx)]; }, /--root ".*rootfile" is not a directory/],
  ['install-timer --root a FIFO', (ctx) => { const f = path.join(ctx.dir, 'root.fifo'); fifo(f); return ['install-timer', '--cron', '--root', f, ...config(ctx)]; }, /--root ".*root\.fifo" is not a directory/],
  ['install-timer with a newline in the config path', (ctx) => { const f = `${ctx.config}\nExecStartPre=/bin/false`; cpSync(ctx.config, f); return ['install-timer', '--systemd', '--print', '-c', f]; }, /--config ".*\\u000aExecStartPre=\/bin\/false" contains a control character/],
  ['install-timer --cron with a newline in the config path', (ctx) => { const f = `${ctx.config}\n* * * * * root /bin/false`; cpSync(ctx.config, f); return ['install-timer', '--cron', '--print', '-c', f]; }, /contains a control character, which cannot go into a cron file/],
  ['install-timer with a carriage return in the config path', (ctx) => { const f = `${ctx.config}\rx`; cpSync(ctx.config, f); return ['install-timer', '--systemd', '--print', '-c', f]; }, /contains a control character/],
];
for (const [what, args, error, pendingFix] of CLI_CASES) {
  add({ group: 'cli', name: `CLI: ${what}`, args, exit: 2, error, ...(pendingFix === undefined ? {} : { pendingFix }), timeoutMs: 15_000 });
}

add({ group: 'cli', name: 'CLI: status --prometheus into a missing directory', args: (ctx) => ['status', '--prometheus', path.join(ctx.dir, 'no', 'such', 'dir', 'x.prom'), ...config(ctx)], exit: 1, error: /cannot write the textfile/ });

add({
  group: 'secret leak',
  name: 'status --json with a URL password in server',
  edit: (c) => setPath(c, 'server', 'https://acme:jsonpass99@acme.example.org/dir'),
  args: (ctx) => ['status', '--json', ...config(ctx)],
  exit: 2,
  error: 'report',
  report: /"ok": false[\s\S]*https:\/\/acme:\*\*\*@acme\.example\.org/,
  secrets: ['jsonpass99'],
});

// World-readable configuration with an inline secret: a warning, and the secret is never printed.
add({
  group: 'secret leak',
  name: 'a world-readable config with an inline secret warns (and a later error does not print it)',
  edit: (c, ctx) => {
    setPath(c, 'dns.rfc2136.secret_file', undefined);
    setPath(c, 'dns.rfc2136.secret', ctx.labSecret);
    setPath(c, 'email', 'not-an-email');
  },
  prepare: (ctx) => execFileSync('chmod', ['0644', ctx.config]),
  exit: 2,
  error: /email: "not-an-email" is not an e-mail address/,
});

// ------------------------------------------------------------------------------- corrupted state

const STATE_CASES: { what: string; prepare: (ctx: CaseContext) => void; args?: (ctx: CaseContext) => string[]; exit: 1 | 2; error: RegExp | 'report'; report?: RegExp; pendingFix?: string; liveUnchanged?: boolean; timeoutMs?: number }[] = [
  { what: 'renewal JSON truncated', prepare: (ctx) => truncateHalf(path.join(ctx.stateDir, 'renewal', `${ctx.lineage}.json`)), exit: 1, error: /renewal|state|JSON/ },
  { what: 'renewal JSON of wrong types', prepare: (ctx) => writeFileSync(path.join(ctx.stateDir, 'renewal', `${ctx.lineage}.json`), '{"version": "x", "domains": 5, "lastAttempt": []}'), exit: 1, error: /renewal|state/ },
  { what: 'renewal JSON an array', prepare: (ctx) => writeFileSync(path.join(ctx.stateDir, 'renewal', `${ctx.lineage}.json`), '[1,2,3]'), exit: 1, error: /renewal|state/ },
  { what: 'renewal JSON empty', prepare: (ctx) => writeFileSync(path.join(ctx.stateDir, 'renewal', `${ctx.lineage}.json`), ''), exit: 1, error: /renewal|state/ },
  { what: 'renewal JSON a FIFO', prepare: (ctx) => { const f = path.join(ctx.stateDir, 'renewal', `${ctx.lineage}.json`); rmSync(f); fifo(f); }, exit: 1, error: /renewal|state|regular/, timeoutMs: 10_000 },
  { what: 'renewal JSON a link to /dev/zero', prepare: (ctx) => { const f = path.join(ctx.stateDir, 'renewal', `${ctx.lineage}.json`); rmSync(f); symlinkSync('/dev/zero', f); }, exit: 1, error: /renewal|state|regular|link/ },
  { what: 'renewal JSON of 5 MB', prepare: (ctx) => writeFileSync(path.join(ctx.stateDir, 'renewal', `${ctx.lineage}.json`), `{"pad": "${'x'.repeat(5_000_000)}"}`), exit: 1, error: /renewal|state|large/ },
  { what: 'cert.pem truncated', prepare: (ctx) => rewriteTarget(ctx, 'cert.pem', (old) => old.slice(0, Math.floor(old.length / 2))), exit: 1, error: 'report', report: /broken/ },
  { what: 'cert.pem garbage', prepare: (ctx) => rewriteTarget(ctx, 'cert.pem', () => 'garbage\n'), exit: 1, error: 'report', report: /broken/ },
  { what: 'cert.pem empty', prepare: (ctx) => rewriteTarget(ctx, 'cert.pem', () => ''), exit: 1, error: 'report', report: /broken/ },
  { what: 'cert.pem dangling', prepare: (ctx) => relink(ctx, 'cert.pem', '../../archive/gone/cert9.pem'), exit: 1, error: 'report', report: /broken|not deployed|missing/, liveUnchanged: false },
  { what: 'cert.pem a link to /dev/zero', prepare: (ctx) => relink(ctx, 'cert.pem', '/dev/zero'), exit: 1, error: 'report', report: /broken|regular/, liveUnchanged: false },
  { what: 'cert.pem a link to /dev/urandom', prepare: (ctx) => relink(ctx, 'cert.pem', '/dev/urandom'), exit: 1, error: 'report', report: /broken|regular/, liveUnchanged: false },
  { what: 'cert.pem a link to a FIFO', prepare: (ctx) => { const f = path.join(ctx.dir, 'pem.fifo'); fifo(f); relink(ctx, 'cert.pem', f); }, exit: 1, error: 'report', report: /broken|regular/, liveUnchanged: false },
  { what: 'cert.pem a link outside state_dir', prepare: (ctx) => relink(ctx, 'cert.pem', '/etc/hostname'), exit: 1, error: 'report', report: /broken|outside/, liveUnchanged: false },
  { what: 'cert.pem a directory', prepare: (ctx) => relink(ctx, 'cert.pem', ctx.dir), exit: 1, error: 'report', report: /broken|regular/, liveUnchanged: false },
  { what: 'privkey.pem truncated', prepare: (ctx) => rewriteTarget(ctx, 'privkey.pem', (old) => old.slice(0, 40)), exit: 1, error: 'report', report: /broken/ },
  { what: 'privkey.pem of another key', prepare: (ctx) => rewriteTarget(ctx, 'privkey.pem', () => execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']).toString()), exit: 1, error: 'report', report: /broken/ },
  { what: 'fullchain.pem truncated', prepare: (ctx) => rewriteTarget(ctx, 'fullchain.pem', (old) => old.slice(0, Math.floor(old.length / 2))), exit: 1, error: 'report', report: /broken/ },
  { what: 'chain.pem garbage', prepare: (ctx) => rewriteTarget(ctx, 'chain.pem', () => 'garbage\n'), exit: 1, error: 'report', report: /broken/ },
  { what: 'live/<name> a link elsewhere', prepare: (ctx) => { const d = path.join(ctx.stateDir, 'live', ctx.lineage); const moved = path.join(ctx.dir, 'moved-live'); execFileSync('mv', [d, moved]); symlinkSync(moved, d); }, exit: 1, error: /symbolic link/ },
  // issue without --force repairs a broken lineage with a new version (it is not "current").
  { what: 'issue (not forced) with cert.pem garbage', prepare: (ctx) => rewriteTarget(ctx, 'cert.pem', () => 'garbage\n'), args: (ctx) => ['issue', ...config(ctx)], exit: 0, error: 'report', report: /issued version 2 .*broken/, liveUnchanged: false, timeoutMs: 60_000 },
  { what: 'issue (not forced) with cert.pem dangling', prepare: (ctx) => relink(ctx, 'cert.pem', '../../archive/gone/cert9.pem'), args: (ctx) => ['issue', ...config(ctx)], exit: 0, error: 'report', report: /issued version 2 .*broken/, liveUnchanged: false, timeoutMs: 60_000 },
  { what: 'issue (not forced) with privkey.pem of another key', prepare: (ctx) => rewriteTarget(ctx, 'privkey.pem', () => execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']).toString()), args: (ctx) => ['issue', ...config(ctx)], exit: 0, error: 'report', report: /issued version 2 .*broken/, liveUnchanged: false, timeoutMs: 60_000 },
  // More ways live files are broken (health check, renew/health.ts): status says broken, exit 1.
  { what: 'privkey.pem garbage', prepare: (ctx) => rewriteTarget(ctx, 'privkey.pem', () => 'garbage\n'), exit: 1, error: 'report', report: /broken.*privkey\.pem/s },
  { what: 'privkey.pem empty', prepare: (ctx) => rewriteTarget(ctx, 'privkey.pem', () => ''), exit: 1, error: 'report', report: /broken/ },
  { what: 'privkey.pem an RSA key', prepare: (ctx) => rewriteTarget(ctx, 'privkey.pem', () => execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024']).toString()), exit: 1, error: 'report', report: /broken.*does not belong/s },
  { what: 'privkey.pem dangling', prepare: (ctx) => relink(ctx, 'privkey.pem', '../../archive/gone/privkey9.pem'), exit: 1, error: 'report', report: /broken/, liveUnchanged: false },
  { what: 'fullchain.pem only the certificate', prepare: (ctx) => rewriteTarget(ctx, 'fullchain.pem', () => readFileSync(live(ctx, 'cert.pem'), 'utf8')), exit: 1, error: 'report', report: /broken.*fullchain\.pem/s },
  { what: 'fullchain.pem with the chain first', prepare: (ctx) => rewriteTarget(ctx, 'fullchain.pem', () => readFileSync(live(ctx, 'chain.pem'), 'utf8') + readFileSync(live(ctx, 'cert.pem'), 'utf8')), exit: 1, error: 'report', report: /broken.*fullchain\.pem/s },
  { what: 'fullchain.pem empty', prepare: (ctx) => rewriteTarget(ctx, 'fullchain.pem', () => ''), exit: 1, error: 'report', report: /broken/ },
  { what: 'chain.pem truncated', prepare: (ctx) => rewriteTarget(ctx, 'chain.pem', (old) => old.slice(0, Math.floor(old.length / 2))), exit: 1, error: 'report', report: /broken.*chain\.pem/s },
  { what: 'chain.pem empty', prepare: (ctx) => rewriteTarget(ctx, 'chain.pem', () => ''), exit: 1, error: 'report', report: /broken/ },
  { what: 'cert.pem the chain certificate', prepare: (ctx) => rewriteTarget(ctx, 'cert.pem', () => readFileSync(live(ctx, 'chain.pem'), 'utf8')), exit: 1, error: 'report', report: /broken/ },
  // One symlink rule under state_dir (store/fs.ts refuseSymlinkedDirs): symlinked store directories are refused, nothing is written.
  ...(['live', 'archive', 'renewal'] as const).flatMap((dir) => [
    { what: `state_dir/${dir} a symlink (status)`, prepare: (ctx: CaseContext) => moveAndLink(path.join(ctx.stateDir, dir), path.join(ctx.dir, `moved-${dir}`)), exit: 1 as const, error: /symbolic link/ },
    { what: `state_dir/${dir} a symlink (issue --force)`, prepare: (ctx: CaseContext) => moveAndLink(path.join(ctx.stateDir, dir), path.join(ctx.dir, `moved-${dir}`)), args: (ctx: CaseContext) => ['issue', '--force', ...config(ctx)], exit: 1 as const, error: /symbolic link/, timeoutMs: 30_000 },
  ]),
  { what: 'archive/<name> a symlink (issue --force)', prepare: (ctx) => moveAndLink(path.join(ctx.stateDir, 'archive', ctx.lineage), path.join(ctx.dir, 'moved-archive')), args: (ctx) => ['issue', '--force', ...config(ctx)], exit: 1, error: /symbolic link/, timeoutMs: 30_000 },
  { what: 'live/<name> a symlink (renew --force)', prepare: (ctx) => moveAndLink(path.join(ctx.stateDir, 'live', ctx.lineage), path.join(ctx.dir, 'moved-live')), args: (ctx) => ['renew', '--force', ...config(ctx)], exit: 1, error: /symbolic link/, timeoutMs: 30_000 },
  { what: 'the lock file a FIFO', prepare: (ctx) => { const f = path.join(ctx.stateDir, '.lock'); rmSync(f, { force: true }); fifo(f); }, args: (ctx) => ['renew', '--force', '--dry-run', ...config(ctx)], exit: 1, error: /lock/, timeoutMs: 20_000 },
  // A lock file that is not one, left long ago: stale, so the run takes it over and succeeds.
  { what: 'an old garbage lock file', prepare: (ctx) => { const f = path.join(ctx.stateDir, '.lock'); writeFileSync(f, '\u0000garbage'); const old = new Date(Date.now() - 86_400_000); utimesSync(f, old, old); }, args: (ctx) => ['renew', '--force', '--dry-run', ...config(ctx)], exit: 0, error: 'report', timeoutMs: 30_000 },
];
for (const c of STATE_CASES) {
  add({
    group: 'state',
    name: `state: ${c.what}`,
    state: true,
    prepare: c.prepare,
    ...(c.args === undefined ? {} : { args: c.args }),
    exit: c.exit,
    error: c.error,
    ...(c.report === undefined ? {} : { report: c.report }),
    ...(c.pendingFix === undefined ? {} : { pendingFix: c.pendingFix }),
    ...(c.liveUnchanged === undefined ? {} : { liveUnchanged: c.liveUnchanged }),
    timeoutMs: c.timeoutMs ?? 20_000,
  });
}

/** Moves a directory away and leaves a symlink to it in its place. */
function moveAndLink(dir: string, moved: string): void {
  execFileSync('mv', [dir, moved]);
  symlinkSync(moved, dir);
}

function truncateHalf(file: string): void {
  truncateSync(file, Math.floor(statSync(file).size / 2));
}

export const BAD_INPUT_CASES: readonly BadInputCase[] = cases;

/** A listing of live/ (names, link targets, file contents) to compare before and after a run. */
export function snapshotLive(stateDir: string): string {
  const root = path.join(stateDir, 'live');
  const out: string[] = [];
  const walk = (dir: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir).sort();
    } catch {
      out.push(`${path.relative(root, dir) || '.'}: (none)`);
      return;
    }
    for (const name of entries) {
      const full = path.join(dir, name);
      const stat = lstatSync(full);
      if (stat.isSymbolicLink()) out.push(`${path.relative(root, full)} -> ${readlinkSync(full)}`);
      else if (stat.isDirectory()) walk(full);
      else out.push(`${path.relative(root, full)}: ${stat.isFile() ? readFileSync(full).toString('base64') : 'special'}`);
    }
  };
  walk(root);
  return out.join('\n');
}

