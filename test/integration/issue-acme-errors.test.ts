/**
 * ACME failures as a new user meets them: a CA that forgot the stored account (Pebble restarted, on a
 * private lab in the shared lab's address block, .8x), and a CA whose HTTPS certificate is not
 * trusted because ca_bundle is missing.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startLab, type Lab, type LabOptions } from '../lab/lab.mjs';
import { labConfig, runCli } from './helpers.js';

const shared = inject('lab');
const net = shared.dnsIp.split('.').slice(0, 3).join('.');
const options: LabOptions = { dir: path.join(os.tmpdir(), `gxit-cert-itest-${net}-restart`), dnsIp: `${net}.82`, pebbleIp: `${net}.81` };
let privateLab: Lab | undefined;

afterAll(async () => {
  await privateLab?.stop();
});

describe('ACME errors by problem type and transport cause', () => {
  it('registers the stored key again when the CA forgot the account (Pebble restarted) and issues', async () => {
    privateLab = await startLab(options);
    const { dir } = await labConfig();
    const configPath = path.join(dir, 'private.yml');
    const state = path.join(dir, 'private-state');
    await privateLab.writeConfig(configPath, { state_dir: state });
    const first = await runCli(['issue', '--config', configPath, '--json']);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const keyFile = path.join(state, 'accounts', `${options.pebbleIp}_14000-dir`, 'private_key.pem');
    const keyBefore = await readFile(keyFile, 'utf8');

    await privateLab.stop();
    privateLab = await startLab(options);
    await privateLab.writeConfig(configPath, { state_dir: state });
    const again = await runCli(['issue', '--config', configPath, '--force', '--verbose']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/registering the account again/);
    expect(again.stderr).toMatch(/issued version 2/);
    // The same key, registered at the new CA instance.
    expect(await readFile(keyFile, 'utf8')).toBe(keyBefore);
  });

  it('without ca_bundle against the test CA: fails within 3 s, saying the certificate is not trusted and naming ca_bundle', async () => {
    const { config } = await labConfig({ ca_bundle: undefined });
    const run = await runCli(['issue', '--config', config, '--verbose']);
    console.log(`untrusted CA reported after ${run.ms.toFixed(0)} ms`);
    expect(run.code).toBe(1);
    // What cost seconds was acme-client retrying a TLS failure (1 + 2 + 3 s): no retry at all now. The
    // bound on the whole process (node start, loading acme-client) is generous for a loaded machine;
    // on an idle one it takes well under a second.
    expect(run.stderr).not.toMatch(/retry attempt/);
    expect(run.ms).toBeLessThan(10_000);
    const line = run.stderr.split('\n').find((l) => /not trusted/.test(l));
    expect(line, run.stderr).toBeDefined();
    console.log(line);
    expect(line).toMatch(/the ACME server's certificate is not trusted/);
    expect(line).toMatch(/ca_bundle/);
  });
});
