/**
 * External Account Binding against a Pebble that requires it (its own lab on .91/.92, one MAC key
 * `kid-1`): without eab: the run fails with one line naming eab; with eab: it registers a bound
 * account (kept per kid) and issues.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startLab, type Lab, type LabOptions } from '../lab/lab.mjs';
import { labConfig, runCli } from './helpers.js';

const shared = inject('lab');
const net = shared.dnsIp.split('.').slice(0, 3).join('.');
const HMAC_KEY = Buffer.from('lab-eab-hmac-key-for-kid-1-0123456789').toString('base64url');
const options: LabOptions = {
  dir: path.join(os.tmpdir(), `gxit-cert-itest-${net}-eab`),
  dnsIp: `${net}.92`,
  pebbleIp: `${net}.91`,
  pebbleConfig: { externalAccountBindingRequired: true, externalAccountMACKeys: { 'kid-1': HMAC_KEY } },
};
let eabLab: Lab;

beforeAll(async () => {
  eabLab = await startLab(options);
});
afterAll(async () => {
  await eabLab?.stop();
});

describe('EAB against a Pebble that requires it', () => {
  it('without eab: fails with one line naming eab; with eab: (HMAC key in a 0600 file) it issues', async () => {
    const { dir } = await labConfig();
    const configPath = path.join(dir, 'eab.yml');
    const state = path.join(dir, 'state-eab');
    await eabLab.writeConfig(configPath, { state_dir: state });
    const refused = await runCli(['issue', '--config', configPath]);
    expect(refused.code, refused.stderr).toBe(1);
    const line = refused.stderr.split('\n').find((l) => /external account/i.test(l));
    console.log(line);
    expect(line, refused.stderr).toMatch(/eab:/);

    const keyFile = path.join(dir, 'eab.key');
    await writeFile(keyFile, `${HMAC_KEY}\n`, { mode: 0o600 });
    await eabLab.writeConfig(configPath, { state_dir: state, eab: { kid: 'kid-1', hmac_key_file: keyFile } });
    const issued = await runCli(['issue', '--config', configPath, '--verbose']);
    expect(issued.code, issued.stderr).toBe(0);
    expect(issued.stderr).toMatch(/issued version 1/);
    expect(issued.stdout + issued.stderr).not.toContain(HMAC_KEY);
    const accountDir = path.join(state, 'accounts', `${options.pebbleIp}_14000-dir+eab-kid-1`);
    const meta = JSON.parse(await readFile(path.join(accountDir, 'account.json'), 'utf8'));
    expect(meta).toMatchObject({ eabKid: 'kid-1' });
    expect((await stat(path.join(accountDir, 'private_key.pem'))).mode & 0o777).toBe(0o600);
  });

  it('a wrong HMAC key is refused by the CA; a world-readable key file warns', async () => {
    const { dir } = await labConfig();
    const configPath = path.join(dir, 'eab.yml');
    const keyFile = path.join(dir, 'eab.key');
    const wrong = Buffer.from('not-the-key-the-ca-has-0123456789ab').toString('base64url');
    await writeFile(keyFile, wrong, { mode: 0o644 });
    await eabLab.writeConfig(configPath, { state_dir: path.join(dir, 'state'), eab: { kid: 'kid-1', hmac_key_file: keyFile, algorithm: 'HS256' } });
    const run = await runCli(['issue', '--config', configPath]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/eab\.hmac_key_file.*readable by every user/);
    expect(run.stderr).toMatch(/could not register an account/);
    expect(run.stdout + run.stderr).not.toContain(wrong);
  });
});
