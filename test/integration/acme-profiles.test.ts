/**
 * ACME profiles through the fixture proxy in front of the lab's Pebble (Pebble 2.4 has none): the
 * proxy advertises classic and shortlived and records each newOrder.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAriProxy, type AriProxy } from '../../fixtures/ari/proxy.mjs';
import { labConfig, pebbleUpstream, runCli } from './helpers.js';

let proxy: AriProxy;

beforeAll(async () => {
  proxy = await startAriProxy({
    ...(await pebbleUpstream()),
    renewalInfo: false,
    profiles: { classic: '90 days', shortlived: '160 hours' },
  });
});
afterAll(async () => {
  await proxy?.close();
});

describe('profile:', () => {
  it('is sent in newOrder, kept in the lineage, a change is a reason to order; unknown: names the offered ones', async () => {
    const { config, stateDir, rewrite } = await labConfig({ server: proxy.directoryUrl, profile: 'shortlived' });
    const first = await runCli(['issue', '--config', config]);
    expect(first.code, first.stderr).toBe(0);
    expect(proxy.requests.newOrders.at(-1)).toMatchObject({ profile: 'shortlived' });
    const lineage = JSON.parse(await readFile(path.join(stateDir, 'renewal', 'galaxy.example.org.json'), 'utf8'));
    expect(lineage.profile).toBe('shortlived');

    const orders = proxy.requests.newOrders.length;
    expect((await runCli(['issue', '--config', config])).code).toBe(0);
    expect(proxy.requests.newOrders.length).toBe(orders);

    await rewrite({ server: proxy.directoryUrl, profile: 'classic' });
    const changed = await runCli(['issue', '--config', config, '--json']);
    expect(changed.code, changed.stderr).toBe(0);
    expect(JSON.parse(changed.stdout).results[0]).toMatchObject({ reason: 'profile-changed', status: 'issued' });
    expect(proxy.requests.newOrders.at(-1)).toMatchObject({ profile: 'classic' });

    await rewrite({ server: proxy.directoryUrl, profile: 'tlsserver' });
    const unknown = await runCli(['issue', '--config', config]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/does not offer the profile "tlsserver" \(it offers classic, shortlived\)/);
    expect(proxy.requests.newOrders.at(-1)).toMatchObject({ profile: 'classic' });
  });

  it('a CA that offers no profiles: one line saying so', async () => {
    const { config } = await labConfig({ profile: 'classic' });
    const run = await runCli(['issue', '--config', config]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/does not offer the profile "classic" \(it offers no profiles\)/);
  });
});
