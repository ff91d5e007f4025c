import { describe, expect, it } from 'vitest';
import { GxitError } from '../../../src/errors.js';
import {
  accountSlug,
  archivePaths,
  checkLineageName,
  liveLinkTarget,
  livePaths,
  modeOf,
  nextVersion,
  sameDirectoryUrl,
  versionOfArchiveFile,
  versionOfLinkTarget,
} from '../../../src/store/layout.js';

describe('accountSlug', () => {
  it.each([
    ['https://acme-v02.api.letsencrypt.org/directory', 'acme-v02.api.letsencrypt.org-directory'],
    ['https://acme-staging-v02.api.letsencrypt.org/directory', 'acme-staging-v02.api.letsencrypt.org-directory'],
    ['https://localhost:14000/dir', 'localhost_14000-dir'],
    ['https://LOCALHOST:14000/dir/', 'localhost_14000-dir'],
    ['https://ca.example.org/acme/v2/directory', 'ca.example.org-acme-v2-directory'],
    ['https://ca.example.org', 'ca.example.org'],
    ['https://[::1]:14000/dir', '__1_14000-dir'],
    ['https://ca.example.org/a%2Fb/dir', 'ca.example.org-a_2Fb-dir'],
    ['http://ca.example.org/dir?tenant=x', 'ca.example.org-dir-tenant_x'],
  ])('%s -> %s', (url, slug) => {
    expect(accountSlug(url)).toBe(slug);
  });

  it.each(['not a url', 'ftp://ca.example.org/dir', 'file:///etc/passwd'])('rejects %s with STORE_IO', (url) => {
    expect(() => accountSlug(url)).toThrowError(GxitError);
    try {
      accountSlug(url);
    } catch (error) {
      expect((error as GxitError).code).toBe('STORE_IO');
      expect((error as GxitError).subject).toBe(url);
    }
  });

  it('never produces a path separator or a dot-only name', () => {
    for (const url of ['https://a.example/../..', 'https://a.example/./x', 'https://a.example/%2e%2e/']) {
      const slug = accountSlug(url);
      expect(slug).not.toContain('/');
      expect(['.', '..']).not.toContain(slug);
    }
  });
});

describe('sameDirectoryUrl', () => {
  it.each([
    ['https://a.example/dir', 'https://a.example/dir', true],
    ['https://a.example/dir', 'https://a.example/dir/', true],
    ['https://A.example/dir', 'https://a.example/dir', true],
    ['https://a.example/dir', 'http://a.example/dir', false],
    ['https://a.example/a-b', 'https://a.example/a/b', false],
    ['https://a.example:14000/dir', 'https://a.example/dir', false],
  ])('%s vs %s -> %s', (a, b, same) => {
    expect(sameDirectoryUrl(a, b)).toBe(same);
  });
});

describe('nextVersion', () => {
  it.each<[string, string[], number | undefined, number]>([
    ['empty archive', [], undefined, 1],
    ['one complete version', ['cert1.pem', 'chain1.pem', 'fullchain1.pem', 'privkey1.pem'], 1, 2],
    ['gap in numbers', ['cert1.pem', 'cert3.pem'], 3, 4],
    ['half-written version left by a crash', ['cert1.pem', 'privkey1.pem', 'cert2.pem'], 1, 3],
    ['orphan of another kind only', ['privkey7.pem'], 2, 8],
    ['state ahead of the archive (files removed by hand)', ['cert1.pem'], 5, 6],
    ['two-digit versions sort numerically', ['cert9.pem', 'cert10.pem', 'cert2.pem'], undefined, 11],
    ['foreign and temp names ignored', ['README', '.cert3.pem.tmp-0123456789ab', 'cert0.pem', 'cert01.pem', 'certX.pem'], undefined, 1],
  ])('%s', (_label, files, recorded, expected) => {
    expect(nextVersion(files, recorded)).toBe(expected);
  });
});

describe('versionOfArchiveFile', () => {
  it.each<[string, number | undefined]>([
    ['cert1.pem', 1],
    ['fullchain12.pem', 12],
    ['privkey3.pem', 3],
    ['chain4.pem', 4],
    ['cert.pem', undefined],
    ['cert0.pem', undefined],
    ['cert1.pem.bak', undefined],
    ['key1.pem', undefined],
  ])('%s -> %s', (name, version) => {
    expect(versionOfArchiveFile(name)).toBe(version);
  });
});

describe('live link targets', () => {
  it('are relative, like certbot', () => {
    expect(liveLinkTarget('galaxy', 'fullchain', 3)).toBe('../../archive/galaxy/fullchain3.pem');
  });

  it.each<[string, string, number | undefined]>([
    ['../../archive/galaxy/cert3.pem', 'cert', 3],
    ['../../archive/galaxy/cert12.pem', 'cert', 12],
    ['../../archive/other/cert3.pem', 'cert', undefined],
    ['/etc/ssl/cert.pem', 'cert', undefined],
    ['../../archive/galaxy/privkey3.pem', 'cert', undefined],
  ])('%s parsed as version %s', (target, kind, version) => {
    expect(versionOfLinkTarget(target, 'galaxy', kind as 'cert')).toBe(version);
  });
});

describe('paths and modes', () => {
  it('places live and archive files under the state directory', () => {
    expect(livePaths('/s', 'g')).toEqual({
      dir: '/s/live/g',
      cert: '/s/live/g/cert.pem',
      chain: '/s/live/g/chain.pem',
      fullchain: '/s/live/g/fullchain.pem',
      privkey: '/s/live/g/privkey.pem',
    });
    expect(archivePaths('/s', 'g', 2).privkey).toBe('/s/archive/g/privkey2.pem');
  });

  it('keeps private keys private', () => {
    expect(modeOf('privkey')).toBe(0o600);
    expect(modeOf('cert')).toBe(0o644);
    expect(modeOf('chain')).toBe(0o644);
    expect(modeOf('fullchain')).toBe(0o644);
  });
});

describe('checkLineageName', () => {
  it.each(['galaxy', 'usegalaxy.org', 'a', 'wild_card-2', '0x'])('accepts %s', (name) => {
    expect(() => checkLineageName(name)).not.toThrow();
  });
  it.each(['', '.', '..', '../x', 'a/b', '.hidden', '-x', 'a b', 'x'.repeat(129)])('rejects %j', (name) => {
    expect(() => checkLineageName(name)).toThrowError(/cannot be used as a directory name/);
  });
});
