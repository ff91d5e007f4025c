/** reuse_key against the lab's Pebble: the public key survives issue --force; a change of key type makes a new one. */
import { X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lab, labConfig, runCli } from './helpers.js';

const NAME = 'galaxy.example.org';

async function liveKey(state: string): Promise<{ publicKey: string; serial: string; mode: number }> {
  const cert = new X509Certificate(await readFile(path.join(state, 'live', NAME, 'cert.pem')));
  const mode = (await stat(path.join(state, 'live', NAME, 'privkey.pem'))).mode & 0o777;
  return { publicKey: cert.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'), serial: cert.serialNumber, mode };
}

describe('reuse_key', () => {
  it('keeps the public key across issue --force; key_type changed: a new key; without reuse_key: a new key each time', async () => {
    const { dir, config } = await labConfig({ reuse_key: true });
    const state = path.join(dir, 'state');
    expect((await runCli(['issue', '--config', config])).code).toBe(0);
    const first = await liveKey(state);
    const forced = await runCli(['issue', '--config', config, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    const second = await liveKey(state);
    expect(second.serial).not.toBe(first.serial);
    expect(second.publicKey).toBe(first.publicKey);
    expect(second.mode).toBe(0o600);

    await lab().writeConfig(config, { state_dir: state, reuse_key: true, key_type: 'ecdsa-p384' });
    expect((await runCli(['issue', '--config', config])).code).toBe(0);
    const third = await liveKey(state);
    expect(third.publicKey).not.toBe(first.publicKey);

    await lab().writeConfig(config, { state_dir: state, key_type: 'ecdsa-p384' });
    expect((await runCli(['issue', '--config', config, '--force'])).code).toBe(0);
    expect((await liveKey(state)).publicKey).not.toBe(third.publicKey);
  });
});
