import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isNone, parseBool, parseConfigObj, scalarOf, setRenewalParam } from '../../../src/migrate/configobj.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/certbot');
const fixture = (name: string): string => readFileSync(path.join(fixtures, name), 'utf8');

describe('parseConfigObj', () => {
  it.each([
    ['key = value', 'value'],
    ['key =   spaced value   ', 'spaced value'],
    ['key = value # comment', 'value'],
    ['key = "a # b"', 'a # b'],
    ["key = 'a, b'", 'a, b'],
    ['key = a, b, c', ['a', 'b', 'c']],
    ['key = a,', ['a']],
    ['key = "x", \'y\'', ['x', 'y']],
    ['key =', ''],
    ['key = ""', ''],
    ['key = None', 'None'],
    ['"quoted key" = 1', '1'],
  ])('reads %s', (line, expected) => {
    const { root, problems } = parseConfigObj(`${line}\n`);
    expect(problems).toEqual([]);
    expect([...root.values.values()][0]?.value).toEqual(expected);
  });

  it.each([
    ['key = "open', 'key: the " quote is not closed'],
    ["key = '''multi", 'key: triple-quoted (multi-line) values are not supported; write the value on one line'],
    ['no equals sign', 'cannot read "no equals sign" (expected key = value)'],
    ['key = "a" b', 'key: unexpected text after the value: b'],
    ['[[deep]]', 'section deep is nested 2 deep under a section only 0 deep'],
    ['[broken]]', 'cannot read the section header [broken]]'],
  ])('reports %s with its line', (line, message) => {
    expect(parseConfigObj(`ok = 1\n${line}\n`).problems).toEqual([{ line: 2, message }]);
  });

  it('reports a key set twice', () => {
    expect(parseConfigObj('a = 1\na = 2\n').problems).toEqual([{ line: 2, message: 'a is set twice' }]);
  });

  it('nests sections by bracket count, and a new [section] closes the [[subsection]]', () => {
    const { root, problems } = parseConfigObj(fixture('certbot-0.31-webroot.conf') + '[other]\nx = 1\n');
    expect(problems).toEqual([]);
    const params = root.sections.get('renewalparams')!;
    expect(scalarOf(params, 'rsa_key_size')).toBe('4096');
    expect(params.values.get('webroot_path')?.value).toEqual(['/srv/nginx/_well-known_root']);
    expect(scalarOf(params.sections.get('webroot_map'), 'galaxy.example.org')).toBe('/srv/nginx/_well-known_root');
    expect(scalarOf(root.sections.get('other'), 'x')).toBe('1');
    expect(scalarOf(root, 'version')).toBe('0.31.0');
    // "# renew_before_expiry = 30 days" is certbot's commented default, not a setting.
    expect(root.values.has('renew_before_expiry')).toBe(false);
  });

  it('reads the hand-written variants of older releases', () => {
    const old = parseConfigObj(fixture('certbot-1.12-rfc2136.conf'));
    expect(old.problems).toEqual([]);
    const params = old.root.sections.get('renewalparams');
    expect(scalarOf(params, 'pre_hook')).toBe('systemctl stop foo # not a comment, inside quotes');
    expect(scalarOf(params, 'post_hook')).toBe('echo a, b');
    expect(scalarOf(params, 'manual_public_ip_logging_ok')).toBeUndefined();
    expect(params?.values.get('pref_challs')?.value).toEqual(['dns-01']);
    const ari = parseConfigObj(fixture('certbot-2.11-route53-ari.conf'));
    expect(ari.problems).toEqual([]);
    expect(scalarOf(ari.root.sections.get('renewalparams'), 'autorenew')).toBe('False');
    expect(scalarOf(ari.root.sections.get('acme_renewal_info'), 'ari_retry_after')).toBe('2026-12-04T06:00:00');
  });
});

describe('values', () => {
  it('tells None and booleans as certbot reads them', () => {
    expect(isNone('None')).toBe(true);
    expect(isNone(undefined)).toBe(true);
    expect(isNone('none')).toBe(false);
    expect(['True', 'yes', 'on', '1'].map(parseBool)).toEqual([true, true, true, true]);
    expect(['False', 'NO', 'off', '0'].map(parseBool)).toEqual([false, false, false, false]);
    expect(parseBool('maybe')).toBeUndefined();
  });
});

describe('setRenewalParam', () => {
  it('adds the key right after [renewalparams] and keeps every other line', () => {
    const text = fixture('certbot-0.31-webroot.conf');
    const edited = setRenewalParam(text, 'autorenew', 'False');
    expect(edited).toBe(text.replace('[renewalparams]\n', '[renewalparams]\nautorenew = False\n'));
    const params = parseConfigObj(edited).root.sections.get('renewalparams');
    expect(scalarOf(params, 'autorenew')).toBe('False');
    // Not inside [[webroot_map]].
    expect(params?.sections.get('webroot_map')?.values.has('autorenew')).toBe(false);
  });

  it('replaces an existing value in place, keeping its indentation', () => {
    const text = '[renewalparams]\n  autorenew = True  # on\nserver = x\n';
    expect(setRenewalParam(text, 'autorenew', 'False')).toBe('[renewalparams]\n  autorenew = False\nserver = x\n');
  });

  it('leaves a same-named key of another section alone and adds the section when missing', () => {
    expect(setRenewalParam('[other]\nautorenew = True\n', 'autorenew', 'False')).toBe('[other]\nautorenew = True\n[renewalparams]\nautorenew = False\n');
    expect(setRenewalParam('a = 1', 'autorenew', 'False')).toBe('a = 1\n[renewalparams]\nautorenew = False\n');
  });

  it('keeps CRLF line ends', () => {
    expect(setRenewalParam('[renewalparams]\r\nserver = x\r\n', 'autorenew', 'False')).toBe('[renewalparams]\r\nautorenew = False\r\nserver = x\r\n');
  });
});
