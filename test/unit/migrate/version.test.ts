import { describe, expect, it } from 'vitest';
import { anyVersions, completeVersions, resolveLive } from '../../../src/migrate/version.js';

const files = (...versions: number[]): string[] => versions.flatMap((v) => ['cert', 'chain', 'fullchain', 'privkey'].map((k) => `${k}${v}.pem`));
const links = (name: string, v: Record<'cert' | 'privkey' | 'chain' | 'fullchain', number>) =>
  Object.fromEntries(Object.entries(v).map(([k, n]) => [k, `../../archive/${name}/${k}${n}.pem`]));

describe('archive versions', () => {
  it('counts a version complete only with all four files', () => {
    const names = [...files(1, 2, 10), 'cert3.pem', 'privkey3.pem', 'README', 'cert0.pem', 'cert01.pem'];
    expect(completeVersions(names)).toEqual([1, 2, 10]);
    expect(anyVersions(names)).toEqual([1, 2, 3, 10]);
  });
});

describe('resolveLive', () => {
  const all = (n: number) => ({ cert: n, privkey: n, chain: n, fullchain: n });
  it('takes the version all links agree on', () => {
    expect(resolveLive('g', links('g', all(2)), [1, 2])).toEqual({ ok: true, version: 2, mixed: false });
  });
  it('takes the newest complete version of mixed links (an interrupted certbot run)', () => {
    expect(resolveLive('g', links('g', { cert: 3, privkey: 3, chain: 2, fullchain: 2 }), [1, 2])).toEqual({ ok: true, version: 2, mixed: true });
    expect(resolveLive('g', links('g', { cert: 3, privkey: 3, chain: 2, fullchain: 2 }), [1, 2, 3])).toEqual({ ok: true, version: 3, mixed: true });
  });
  it.each([
    [{ ...links('g', all(1)), chain: undefined }, 'live/g/chain.pem is missing or not a symbolic link'],
    [{ ...links('g', all(1)), cert: '/etc/ssl/certs/cert.pem' }, 'live/g/cert.pem points to /etc/ssl/certs/cert.pem, not into archive/g/'],
    [links('g', all(4)), 'live/g points to version 4/4/4/4, which is not complete in archive/g/'],
  ])('refuses %j', (targets, reason) => {
    expect(resolveLive('g', targets, [1])).toEqual({ ok: false, reason });
  });
});
