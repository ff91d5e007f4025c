import { describe, expect, it } from 'vitest';
import { isInstalledPackage } from '../../../src/cli/installation.js';

describe('an installed package or a checkout', () => {
  it.each<[string, boolean]>([
    ['/usr/local/lib/node_modules/gxit-cert', true],
    ['/usr/lib/node_modules/gxit-cert', true],
    ['/opt/galaxy/node_modules/gxit-cert', true],
    ['/root/.npm/_npx/1f2e3d/node_modules/gxit-cert', false],
    ['/home/admin/src/gxit-cert', false],
    ['/work/wt/install', false],
    ['/', false],
  ])('%s -> %s', (root, expected) => {
    expect(isInstalledPackage(root)).toBe(expected);
  });
});
