import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAriProxy, type AriProxy } from '../../fixtures/ari/proxy.mjs';
import { pebbleUpstream, runCli } from './helpers.js';
import { liveCert, readJson, renewSetup, stateFile, type RenewSetup } from './renew-helpers.js';

const run = promisify(execFile);
const DAY = 86_400_000;
const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The ARI certificate ID computed apart from the code under test: openssl prints the AKI and the
 * serial; the DER serial gets its leading 00 back when the high bit is set.
 */
async function certIdByOpenssl(certFile: string): Promise<string> {
  const { stdout } = await run('openssl', ['x509', '-in', certFile, '-noout', '-serial', '-ext', 'authorityKeyIdentifier']);
  const serialHex = /serial=([0-9A-F]+)/.exec(stdout)?.[1] ?? '';
  const akiHex = (/Authority Key Identifier:\s*\n\s*(?:keyid:)?([0-9A-F:]+)/.exec(stdout)?.[1] ?? '').replace(/:/g, '');
  const padded = serialHex.length % 2 === 1 ? `0${serialHex}` : serialHex;
  const der = parseInt(padded.slice(0, 2), 16) >= 0x80 ? `00${padded}` : padded;
  return `${Buffer.from(akiHex, 'hex').toString('base64url')}.${Buffer.from(der, 'hex').toString('base64url')}`;
}

interface AriState {
  certId?: string;
  supported?: boolean;
  window?: { start: string; end: string };
  renewAt?: string;
  nextFetchAt?: string;
  error?: string;
}

describe('renewal by ACME Renewal Information (RFC 9773) against a renewalInfo fixture', () => {
  let ari: AriProxy;
  let setup: RenewSetup;
  const certFile = () => path.join(setup.stateDir, 'live', setup.names.base, 'cert.pem');
  const ariState = async () => (await readJson<{ ari?: AriState }>(stateFile(setup))).ari;
  /** What the next check would see after Retry-After has passed: the stored next-check time moved into the past. */
  const letRetryAfterPass = async () => {
    const state = await readJson<{ ari: AriState }>(stateFile(setup));
    state.ari.nextFetchAt = iso(Date.now() - 1000);
    await writeFile(stateFile(setup), `${JSON.stringify(state, null, 2)}\n`);
  };

  beforeAll(async () => {
    ari = await startAriProxy(await pebbleUpstream());
    setup = await renewSetup('rnw-ari', { server: ari.directoryUrl });
  });
  afterAll(async () => {
    await ari?.close();
  });

  it('asks for the window right after issuance; a window in the future is not due and Retry-After is respected', async () => {
    ari.setWindow('*', { start: iso(Date.now() + 30 * DAY), end: iso(Date.now() + 32 * DAY), retryAfter: 3600 });
    const issued = await runCli(['issue', '--config', setup.config]);
    expect(issued.code, issued.stderr).toBe(0);
    const certId = await certIdByOpenssl(certFile());
    expect(ari.requests.renewalInfo).toEqual([certId]);
    const state = await ariState();
    expect(state).toMatchObject({ certId, supported: true });
    const renewAt = Date.parse(state?.renewAt ?? '');
    expect(renewAt).toBeGreaterThanOrEqual(Date.parse(state?.window?.start ?? ''));
    expect(renewAt).toBeLessThanOrEqual(Date.parse(state?.window?.end ?? ''));
    expect(Date.parse(state?.nextFetchAt ?? '') - Date.now()).toBeGreaterThan(3500_000);

    const directoryGets = ari.requests.directory;
    const run1 = await runCli(['renew', '--config', setup.config, '--json']);
    expect(run1.code).toBe(0);
    expect(JSON.parse(run1.stdout).results[0]).toMatchObject({ status: 'not-due', due: { due: false, basis: 'ari' } });
    // Retry-After has not passed: the CA was not contacted at all.
    expect(ari.requests.renewalInfo).toEqual([certId]);
    expect(ari.requests.directory).toBe(directoryGets);

    // Even a window in the past is not seen before Retry-After has passed.
    ari.setWindow(certId, { start: iso(Date.now() - 3 * DAY), end: iso(Date.now() - DAY), retryAfter: 3600 });
    const run2 = await runCli(['renew', '--config', setup.config, '--json']);
    expect(JSON.parse(run2.stdout).results[0].status).toBe('not-due');
    expect(ari.requests.renewalInfo).toHaveLength(1);
  });

  it('renews when the window is in the past, sending `replaces`, then asks about the new certificate', async () => {
    const oldId = await certIdByOpenssl(certFile());
    const oldSerial = (await liveCert(setup)).serialNumber;
    await letRetryAfterPass();
    const ordersBefore = ari.requests.newOrders.length;
    const run = await runCli(['renew', '--config', setup.config, '--json']);
    expect(run.code, run.stdout).toBe(0);
    const result = JSON.parse(run.stdout).results[0];
    expect(result).toMatchObject({ status: 'renewed', reason: 'due', due: { due: true, basis: 'ari' } });
    expect(result.due.detail).toMatch(/the CA's renewal window \(.*\) has begun/);
    expect(ari.requests.newOrders.slice(ordersBefore)).toEqual([expect.objectContaining({ replaces: oldId })]);
    const newId = await certIdByOpenssl(certFile());
    expect((await liveCert(setup)).serialNumber).not.toBe(oldSerial);
    expect(ari.requests.renewalInfo.slice(-2)).toEqual([oldId, newId]);
    expect(await ariState()).toMatchObject({ certId: newId, supported: true });

    // The new certificate's window is in the future: nothing due.
    const after = await runCli(['renew', '--config', setup.config, '--json']);
    expect(JSON.parse(after.stdout).results[0]).toMatchObject({ status: 'not-due', due: { basis: 'ari' } });
  });

  it('falls back to the lifetime rule and keeps Retry-After when renewalInfo fails', async () => {
    const certId = await certIdByOpenssl(certFile());
    ari.setWindow(certId, { status: 503, retryAfter: 120, body: JSON.stringify({ type: 'urn:ietf:params:acme:error:serverInternal', detail: 'try later' }) });
    await letRetryAfterPass();
    const started = Date.now();
    const run = await runCli(['renew', '--config', setup.config, '--json']);
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc.results[0]).toMatchObject({ status: 'not-due' });
    expect(doc.warnings.join('\n')).toMatch(/no renewal information from the CA \(renewalInfo answered HTTP 503: try later\)/);
    const state = await ariState();
    expect(state?.error).toMatch(/HTTP 503/);
    const next = Date.parse(state?.nextFetchAt ?? '') - started;
    expect(next).toBeGreaterThan(110_000);
    expect(next).toBeLessThan(140_000);
    ari.setWindow(certId, undefined);
  });

  it('records a CA without renewalInfo, decides by lifetime and sends no `replaces`', async () => {
    ari.offerRenewalInfo(false);
    try {
      const other = await renewSetup('rnw-noari', { server: ari.directoryUrl });
      expect((await runCli(['issue', '--config', other.config])).code).toBe(0);
      const state = (await readJson<{ ari?: AriState }>(stateFile(other))).ari;
      expect(state).toMatchObject({ supported: false });
      expect(Date.parse(state?.nextFetchAt ?? '') - Date.now()).toBeGreaterThan(6 * DAY);
      const ordersBefore = ari.requests.newOrders.length;
      const forced = await runCli(['renew', '--force', '--config', other.config, '--json']);
      expect(forced.code).toBe(0);
      expect(ari.requests.newOrders.slice(ordersBefore)).toHaveLength(1);
      expect(ari.requests.newOrders.at(-1)).not.toHaveProperty('replaces');
      const notDue = await runCli(['renew', '--config', other.config, '--json']);
      expect(JSON.parse(notDue.stdout).results[0]).toMatchObject({ status: 'not-due', due: { basis: 'lifetime' } });
    } finally {
      ari.offerRenewalInfo(true);
    }
  });
});
