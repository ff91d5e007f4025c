/**
 * revoke and delete against the lab: Pebble's management port reports the serial revoked, status
 * says REVOKED (exit 1), the next renew replaces the certificate; delete keeps a 0600 tarball.
 */
import { X509Certificate } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { httpsGet } from './extra-pebble.js';
import { lab, labConfig, runCli } from './helpers.js';

const NAME = 'galaxy.example.org';

async function serialOf(state: string): Promise<string> {
  return new X509Certificate(await readFile(path.join(state, 'live', NAME, 'cert.pem'))).serialNumber;
}

async function pebbleStatus(serial: string): Promise<string> {
  const hex = serial.toLowerCase().replace(/^0+/, '');
  const answer = await httpsGet(`${lab().managementUrl}/cert-status-by-serial/${hex}`, await readFile(lab().caBundle, 'utf8'));
  expect(answer.status, answer.body).toBe(200);
  return (JSON.parse(answer.body) as { Status: string }).Status;
}

describe('revoke', () => {
  it('revokes at the CA, status REVOKED exit 1, the next renew replaces it', async () => {
    const { dir, config } = await labConfig();
    const state = path.join(dir, 'state');
    expect((await runCli(['issue', '--config', config])).code).toBe(0);
    const serial = await serialOf(state);
    expect(await pebbleStatus(serial)).toBe('Valid');

    const bad = await runCli(['revoke', NAME, '--config', config, '--reason', 'stolen']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--reason.*unspecified, keyCompromise, superseded, cessationOfOperation/);

    const revoked = await runCli(['revoke', NAME, '--config', config, '--reason', 'superseded']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stderr).toMatch(/revoked serial/);
    expect(await pebbleStatus(serial)).toBe('Revoked');

    const status = await runCli(['status', '--config', config]);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/REVOKED/);

    const renewed = await runCli(['renew', '--config', config, '--json']);
    expect(renewed.code, renewed.stderr).toBe(0);
    expect(JSON.parse(renewed.stdout).results[0]).toMatchObject({ name: NAME, reason: 'revoked' });
    const replacement = await serialOf(state);
    expect(replacement).not.toBe(serial);
    expect(await pebbleStatus(replacement)).toBe('Valid');
    expect((await runCli(['status', '--config', config])).code).toBe(0);
  });

  it('keyCompromise is signed with the certificate key; --delete removes the lineage into a 0600 tarball', async () => {
    const { dir, config } = await labConfig();
    const state = path.join(dir, 'state');
    expect((await runCli(['issue', '--config', config])).code).toBe(0);
    const serial = await serialOf(state);
    const run = await runCli(['revoke', NAME, '--config', config, '--reason', 'keyCompromise', '--delete', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(await pebbleStatus(serial)).toBe('Revoked');
    const doc = JSON.parse(run.stdout) as { deleted: string };
    expect((await stat(doc.deleted)).mode & 0o777).toBe(0o600);
    await expect(stat(path.join(state, 'live', NAME))).rejects.toThrow();
    await expect(stat(path.join(state, 'renewal', `${NAME}.json`))).rejects.toThrow();
    const listing = spawnSync('tar', ['-tzf', doc.deleted], { encoding: 'utf8' }).stdout;
    expect(listing).toMatch(new RegExp(`archive/${NAME}/privkey1.pem`));
    expect(listing).toMatch(new RegExp(`renewal/${NAME}.json`));
  });
});

describe('delete', () => {
  it('refuses a configured lineage without --force and without --yes; removes an unconfigured one with a backup', async () => {
    const { dir, config } = await labConfig();
    const state = path.join(dir, 'state');
    expect((await runCli(['issue', '--config', config])).code).toBe(0);
    const refused = await runCli(['delete', NAME, '--config', config, '--yes']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/still configured/);
    // The host was renamed: the old lineage is no longer configured.
    await lab().writeConfig(config, { state_dir: state, certificates: [{ domains: ['renamed.example.org'] }] });
    const unconfirmed = await runCli(['delete', NAME, '--config', config]);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(/--yes/);
    const removed = await runCli(['delete', NAME, '--config', config, '--yes']);
    expect(removed.code, removed.stderr).toBe(0);
    const backups = await readdir(path.join(state, 'deleted'));
    expect(backups).toHaveLength(1);
    expect((await stat(path.join(state, 'deleted', backups[0]!))).mode & 0o777).toBe(0o600);
    const status = await runCli(['status', '--config', config, '--json']);
    expect((JSON.parse(status.stdout) as { lineages: { name: string }[] }).lineages.map((l) => l.name)).toEqual(['renamed.example.org']);
    const again = await runCli(['delete', NAME, '--config', config, '--yes']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/no lineage/);
  });
});
