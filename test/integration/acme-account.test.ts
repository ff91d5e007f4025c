/** account show | rollover | deactivate against the lab's Pebble. */
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { labConfig, runCli } from './helpers.js';

interface Shown {
  url: string;
  status: string;
  contact: string[];
  thumbprint: string;
}

describe('account', () => {
  it('show, rollover (new key, same account, still orders), deactivate (needs --yes; then the CA refuses it)', async () => {
    const { dir, config } = await labConfig();
    const none = await runCli(['account', 'show', '--config', config]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no account .* is stored/);
    expect((await runCli(['issue', '--config', config])).code).toBe(0);

    const shown = await runCli(['account', 'show', '--config', config, '--json']);
    expect(shown.code, shown.stderr).toBe(0);
    const before = JSON.parse(shown.stdout) as Shown;
    expect(before).toMatchObject({ status: 'valid' });
    expect(before.url).toMatch(/^https:\/\/.*\/my-account\//);
    expect(before.thumbprint).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const accountDir = path.join(dir, 'state', 'accounts', (await readdir(path.join(dir, 'state', 'accounts')))[0]!);
    const keyBefore = await readFile(path.join(accountDir, 'private_key.pem'), 'utf8');
    const rolled = await runCli(['account', 'rollover', '--config', config, '--json']);
    expect(rolled.code, rolled.stderr).toBe(0);
    const after = JSON.parse(rolled.stdout) as Shown;
    expect(after.url).toBe(before.url);
    expect(after.thumbprint).not.toBe(before.thumbprint);
    expect(await readFile(path.join(accountDir, 'private_key.pem'), 'utf8')).not.toBe(keyBefore);
    expect((await stat(path.join(accountDir, 'private_key.pem'))).mode & 0o777).toBe(0o600);
    expect((await readdir(accountDir)).sort()).toEqual(['account.json', 'private_key.pem']);
    // The CA knows the new key: show (signed with it) and a new order work.
    const again = JSON.parse((await runCli(['account', 'show', '--config', config, '--json'])).stdout) as Shown;
    expect(again).toMatchObject({ url: before.url, thumbprint: after.thumbprint, status: 'valid' });
    const ordered = await runCli(['issue', '--config', config, '--force']);
    expect(ordered.code, ordered.stderr).toBe(0);
    expect(ordered.stderr).not.toMatch(/registering the account again/);

    const unconfirmed = await runCli(['account', 'deactivate', '--config', config]);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(/--yes/);
    const deactivated = await runCli(['account', 'deactivate', '--config', config, '--yes', '--json']);
    expect(deactivated.code, deactivated.stderr).toBe(0);
    expect(JSON.parse(deactivated.stdout)).toMatchObject({ status: 'deactivated', url: before.url });
    const refused = await runCli(['issue', '--config', config, '--force']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/deactivated/i);
  });
});
