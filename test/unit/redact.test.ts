import { describe, expect, test } from 'vitest';
import { escapeControl, looksLikeSecret, redactLine, redactUrlUserinfo, showKey, showValue } from '../../src/redact.js';

describe('redactUrlUserinfo', () => {
  test.each([
    ['https://user:pw@host/dir', 'https://user:***@host/dir'],
    ['server https://admin:hunter2@acme.example.org:443/x is bad', 'server https://admin:***@acme.example.org:443/x is bad'],
    ['http://a:b@127.0.0.1/ and https://c:d@e/', 'http://a:***@127.0.0.1/ and https://c:***@e/'],
    ['https://host/path?x=a:b@c', 'https://host/path?x=a:b@c'],
    ['https://:secret@host', 'https://:***@host'],
    ['no url here: a:b@c', 'no url here: a:b@c'],
  ])('%s -> %s', (text, expected) => expect(redactUrlUserinfo(text)).toBe(expected));

  test('a user name that looks like a token is masked too', () => {
    expect(redactUrlUserinfo('https://K8sQ3xZp9LmN2vB7cR4tY6wE:pw@host')).toBe('https://***:***@host');
  });
});

describe('looksLikeSecret', () => {
  test.each([
    'c2VjcmV0VG9wU2VjcmV0MTIzNDU2Nzg5MA==',
    'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    '$6$rounds=5000$saltsalt$hashhashhashhash',
    '$y$j9T$Jd8xFz0AbCdEfGhIjKlMnOp$QwErTyUiOp',
    '0123456789abcdef0123456789abcdef',
    '-----BEGIN PRIVATE KEY-----',
  ])('%s is a secret', (value) => expect(looksLikeSecret(value)).toBe(true));
  test.each(['galaxy.example.org', 'hmac-sha512', 'https://acme-v02.api.letsencrypt.org/directory', 'Z0123456789ABCDEFGHIJ', 'propagation_timeout'])(
    '%s is not',
    (value) => expect(looksLikeSecret(value)).toBe(false),
  );
});

describe('showValue', () => {
  test('quotes plain values and masks URL passwords', () => {
    expect(showValue('galaxy.example.org')).toBe('"galaxy.example.org"');
    expect(showValue('https://u:pw@acme.example.org/dir')).toBe('"https://u:***@acme.example.org/dir"');
  });
  test('escapes controls and bidi marks instead of printing them', () => {
    expect(showValue('a\nb')).toBe('"a\\u000ab"');
    expect(showValue('ab\u202ec')).toBe('"ab\\u202ec"');
  });
  test('a shadow line is not shown', () => {
    expect(showValue('root:$6$saltsalt$hashhashhashhashhash:19700:0:99999:7:::')).toMatch(/not shown/);
  });
});

describe('showKey', () => {
  test.each([
    ['propagation_timeout', 'propagation_timeout'],
    ['c2VjcmV0VG9wU2VjcmV0MTIzNDU2Nzg5MA==', '(a key that is not a name, not shown)'],
    ['root:$6$abc$def:1:2:::', '(a key that is not a name, not shown)'],
    ['a\nb', '(a key that is not a name, not shown)'],
    ['two words', '"two words"'],
  ])('%j -> %s', (key, shown) => expect(showKey(key)).toBe(shown));
});

test('escapeControl and redactLine keep one line', () => {
  expect(escapeControl('a\r\n\u0000\u200f')).toBe('a\\u000d\\u000a\\u0000\\u200f');
  expect(redactLine('x https://a:b@h\ny')).toBe('x https://a:***@h\\u000ay');
});

test('paths and plain names are not mistaken for secrets', () => {
  for (const value of ['/var/lib/gxit-cert/state', '/tmp/gxit-bad-input-KXxlnz/case-421/rootfile', 'certbot-training', 'ep-interactivetool-galaxy', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ']) {
    expect(looksLikeSecret(value), value).toBe(false);
  }
  expect(looksLikeSecret('Xk9_mQ2-vL7pR4tW8zY1aB3c')).toBe(true);
});
