// The acme-dns provider against the acme-dns fixture (HTTP on loopback, no DNS backing): credentials
// in lego's format, which registration a challenge uses, the two-values rule, errors.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAcmeDnsFixture, type AcmeDnsFixture } from '../../../../../fixtures/acme-dns/server.mjs';
import { accountFor, createAcmeDnsProvider, probeValue } from '../../../../../src/dns/providers/acme-dns/provider.js';
import { register } from '../../../../../src/dns/providers/acme-dns/client.js';
import { readCredentialsFile } from '../../../../../src/dns/providers/acme-dns/credentials-file.js';
import { checkOrder, parseCredentials, serializeCredentials, type AcmeDnsCredentials } from '../../../../../src/dns/providers/acme-dns/credentials.js';
import { GxitError } from '../../../../../src/errors.js';

let fx: AcmeDnsFixture;
let dir: string;
const signal = new AbortController().signal;
const token = (c: string): string => c.repeat(43);

beforeAll(async () => {
  fx = await startAcmeDnsFixture({ domain: 'auth.example.org' });
  dir = await mkdtemp(path.join(tmpdir(), 'gxit-acmedns-'));
});
afterAll(async () => {
  await fx.stop();
  await rm(dir, { recursive: true, force: true });
});

const errorOf = async (p: Promise<unknown>): Promise<GxitError> => {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(GxitError);
  return e as GxitError;
};

describe('credentials file (lego / certbot format)', () => {
  const lego = JSON.stringify({
    'galaxy.example.org': { username: 'u1', password: 'p1', fulldomain: 'S1.auth.example.org.', subdomain: 's1', allowfrom: [], server_url: 'https://auth.example.org' },
    '*.other.example.org': { username: 'u2', password: 'p2', fulldomain: 's2.auth.example.org', subdomain: 's2' },
  });

  it('reads entries keyed by domain, a wildcard key counting as its base name, and writes them back', () => {
    const creds = parseCredentials(lego, 'f.json');
    expect([...creds.keys()]).toEqual(['galaxy.example.org', 'other.example.org']);
    expect(creds.get('galaxy.example.org')).toEqual({ username: 'u1', password: 'p1', fulldomain: 's1.auth.example.org', subdomain: 's1', allowfrom: [], server_url: 'https://auth.example.org' });
    expect(parseCredentials(serializeCredentials(creds), 'f.json')).toEqual(creds);
  });

  it('names the file and the entry when one is incomplete, and never quotes a password', () => {
    expect(() => parseCredentials('{"a.org": {"username": "u", "password": "hunter2"}}', 'f.json')).toThrow('f.json: the entry for a.org has no "fulldomain"');
    expect(() => parseCredentials('[1]', 'f.json')).toThrow('f.json: the top level is not an object keyed by domain');
    expect(() => parseCredentials('{', 'f.json')).toThrow(/^f\.json: not JSON/);
  });

  it('refuses a file others may read', async () => {
    const file = path.join(dir, 'open.json');
    await writeFile(file, lego);
    await chmod(file, 0o644);
    expect(() => readCredentialsFile(file)).toThrow(`dns.acme_dns.credentials_file: ${file} is readable by others (mode 644): it holds acme-dns API keys`);
    await chmod(file, 0o600);
    expect(readCredentialsFile(file).size).toBe(2);
    expect(readCredentialsFile(path.join(dir, 'none.json'), { missingOk: true }).size).toBe(0);
    expect(() => readCredentialsFile(path.join(dir, 'none.json'))).toThrow(/does not exist/);
  });

  it('allows a name and its wildcard on one subdomain, and refuses a third value before ordering', () => {
    const creds: AcmeDnsCredentials = new Map([
      ['a.example.org', { username: 'u', password: 'p', fulldomain: 'same.auth.example.org', subdomain: 'same' }],
      ['b.example.org', { username: 'u', password: 'p', fulldomain: 'same.auth.example.org', subdomain: 'same' }],
    ]);
    expect(() => checkOrder('a', ['a.example.org', '*.a.example.org'], creds, 'f.json')).not.toThrow();
    expect(() => checkOrder('a', ['a.example.org', '*.a.example.org', 'b.example.org'], creds, 'f.json')).toThrow(
      'a: a.example.org, *.a.example.org, b.example.org share the acme-dns subdomain same.auth.example.org, which keeps only 2 values at a time',
    );
    expect(() => checkOrder('a', ['a.example.org', 'c.example.org'], creds, 'f.json')).toThrow('a: no acme-dns registration for c.example.org in f.json');
  });
});

describe('provider', () => {
  it('registers, then writes base and wildcard values to the one subdomain; a later order replaces them', async () => {
    const account = await register(fx.url, { timeoutMs: 5000 });
    expect(account.fulldomain).toBe(`${account.subdomain}.auth.example.org`);
    const creds: AcmeDnsCredentials = new Map([['galaxy.example.org', account]]);
    const p = createAcmeDnsProvider({ api: fx.url, credentialsFile: 'f.json', timeoutMs: 5000 }, creds);
    await p.present([{ fqdn: account.fulldomain, value: token('a') }, { fqdn: account.fulldomain, value: token('b') }], signal);
    const stored = () => fx.accounts().find((a) => a.subdomain === account.subdomain)?.values;
    expect(stored()).toEqual([token('a'), token('b')]);
    await p.cleanup([{ fqdn: account.fulldomain, value: token('a') }], signal);
    expect(stored()).toEqual([token('a'), token('b')]);
    await p.present([{ fqdn: account.fulldomain, value: token('c') }], signal);
    expect(stored()).toEqual([token('b'), token('c')]);
    const updates = fx.requests().filter((r) => r.path === '/update');
    expect(updates.every((r) => r.user === account.username && r.status === 200)).toBe(true);
  });

  it('refuses three values for one subdomain before sending any', async () => {
    const account = await register(fx.url, { timeoutMs: 5000 });
    const p = createAcmeDnsProvider({ api: fx.url, credentialsFile: 'f.json', timeoutMs: 5000 }, new Map([['a.example.org', account]]));
    fx.clearLogs();
    const e = await errorOf(p.present(['a', 'b', 'c'].map((c) => ({ fqdn: account.fulldomain, value: token(c) })), signal));
    expect(e.message).toBe(`3 challenge values for the acme-dns subdomain ${account.fulldomain}, which keeps only 2`);
    expect(fx.requests()).toEqual([]);
  });

  it('says the CNAME is missing when the challenge name was not delegated', () => {
    const creds: AcmeDnsCredentials = new Map([['a.example.org', { username: 'u', password: 'p', fulldomain: 'x.auth.example.org', subdomain: 'x' }]]);
    expect(() => accountFor({ fqdn: '_acme-challenge.a.example.org', value: 'v' }, creds, 'f.json')).toThrow('_acme-challenge.a.example.org is not a CNAME to its acme-dns name x.auth.example.org');
    expect(() => accountFor({ fqdn: '_acme-challenge.b.example.org', value: 'v' }, creds, 'f.json')).toThrow('no acme-dns registration in f.json is served at _acme-challenge.b.example.org');
  });

  it('reports refused credentials in one line without the password', async () => {
    const account = await register(fx.url, { timeoutMs: 5000 });
    const wrong = { ...account, password: 'not-the-password-0123456789' };
    const p = createAcmeDnsProvider({ api: fx.url, credentialsFile: 'f.json', timeoutMs: 5000 }, new Map([['a.example.org', wrong]]));
    const e = await errorOf(p.present([{ fqdn: account.fulldomain, value: token('d') }], signal));
    expect(e.code).toBe('DNS_ACCESS_DENIED');
    expect(e.message).toBe(`acme-dns at ${fx.url}/update refused the credentials of a.example.org (forbidden)`);
    expect(`${e.message} ${e.fix}`).not.toContain(wrong.password);
  });

  it('says when the server cannot be reached', async () => {
    const closed = await startAcmeDnsFixture({ domain: 'auth.example.org' });
    await closed.stop();
    const account = { username: 'u', password: 'p', fulldomain: 'x.auth.example.org', subdomain: 'x' };
    const p = createAcmeDnsProvider({ api: closed.url, credentialsFile: 'f.json', timeoutMs: 5000 }, new Map([['a.example.org', account]]));
    const e = await errorOf(p.present([{ fqdn: 'x.auth.example.org', value: token('e') }], signal));
    expect(e.message).toMatch(new RegExp(`^acme-dns at ${closed.url}/update could not be reached \\(update for a.example.org\\): .*ECONNREFUSED`));
  });

  it('probes with a value acme-dns accepts and says that it stays', async () => {
    expect(probeValue()).toMatch(/^gxit-cert-probe-[A-Za-z0-9_-]{27}$/);
    const account = await register(fx.url, { timeoutMs: 5000 });
    const p = createAcmeDnsProvider({ api: fx.url, credentialsFile: 'f.json', timeoutMs: 5000 }, new Map([['a.example.org', account]]));
    let seen = '';
    const r = await p.probe?.(account.fulldomain, { signal, whilePresent: async (rec) => { seen = rec.value; } });
    expect(r).toMatchObject({ ok: true, retained: true });
    expect(fx.accounts().find((a) => a.subdomain === account.subdomain)?.values).toEqual([seen]);
  });
});
