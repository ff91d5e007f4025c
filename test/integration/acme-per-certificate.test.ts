/**
 * Two CAs in one configuration: the first certificate from the shared lab's Pebble (top-level
 * server), the second from a Pebble that requires EAB (its own server: and eab:). Accounts are
 * kept per CA and per kid; each lineage records the CA it came from.
 */
import { X509Certificate } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startExtraPebble, type ExtraPebble } from './extra-pebble.js';
import { lab, labConfig, runCli } from './helpers.js';

const HMAC_KEY = Buffer.from('per-certificate-eab-key-0123456789abcdef').toString('base64url');
let extra: ExtraPebble;

beforeAll(async () => {
  extra = await startExtraPebble(inject('lab'), {
    name: 'eab',
    acmePort: 14100,
    managementPort: 15100,
    config: { externalAccountBindingRequired: true, externalAccountMACKeys: { 'kid-7': HMAC_KEY } },
  });
});
afterAll(async () => {
  await extra?.stop();
});

describe('per-certificate server, email and eab', () => {
  it('orders each certificate from its own CA with its own account', async () => {
    const { dir } = await labConfig();
    const keyFile = path.join(dir, 'eab.key');
    await writeFile(keyFile, HMAC_KEY, { mode: 0o600 });
    const state = path.join(dir, 'state');
    const config = await lab().writeConfig(path.join(dir, 'two-cas.yml'), {
      state_dir: state,
      certificates: [
        { name: 'public', domains: ['galaxy.example.org'] },
        { name: 'internal', domains: ['internal.example.org'], server: extra.directoryUrl, email: 'pki@example.org', eab: { kid: 'kid-7', hmac_key_file: keyFile }, key_type: 'rsa-2048' },
      ],
    });
    const run = await runCli(['issue', '--config', config, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const accounts = (await readdir(path.join(state, 'accounts'))).sort();
    const host = new URL(lab().directoryUrl).hostname;
    expect(accounts).toEqual([`${host}_14000-dir`, `${host}_14100-dir+eab-kid-7`]);
    const bound = JSON.parse(await readFile(path.join(state, 'accounts', accounts[1]!, 'account.json'), 'utf8'));
    expect(bound).toMatchObject({ directoryUrl: extra.directoryUrl, eabKid: 'kid-7', email: 'pki@example.org' });
    const internalState = JSON.parse(await readFile(path.join(state, 'renewal', 'internal.json'), 'utf8'));
    expect(JSON.stringify(internalState)).toContain(extra.directoryUrl);
    // Each certificate is signed by its own CA's intermediate: two Pebbles never share one.
    const issuerOf = async (name: string) => new X509Certificate(await readFile(path.join(state, 'live', name, 'cert.pem'))).issuer;
    expect(await issuerOf('internal')).not.toBe(await issuerOf('public'));
    const internalKey = new X509Certificate(await readFile(path.join(state, 'live', 'internal', 'cert.pem'))).publicKey;
    expect(internalKey.asymmetricKeyType).toBe('rsa');
    // Nothing due: a second issue orders nothing (the CA of each lineage is its own).
    const again = await runCli(['issue', '--config', config, '--json']);
    expect(again.code, again.stderr).toBe(0);
    const statuses = (JSON.parse(again.stdout) as { results: { name: string; status: string }[] }).results.map((r) => [r.name, r.status]);
    expect(statuses).toEqual([['public', 'current'], ['internal', 'current']]);
  });
});
