// The fault proxy in front of the lab's Pebble: the whole ACME conversation of an issuance runs through
// it (Host kept, so Pebble's URLs name the proxy and the JWS url checks hold), every endpoint is
// classified, and a badNonce it injects comes with a fresh nonce the client uses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../../fixtures/fault-proxy/proxy.mjs';
import { pebbleUpstream, runCli } from './helpers.js';
import { renewSetup } from './renew-helpers.js';

describe('fault proxy in front of Pebble', () => {
  let proxy: FaultProxy;

  beforeAll(async () => {
    proxy = await startFaultProxy(await pebbleUpstream());
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('passes an issuance through and classifies every endpoint', async () => {
    const setup = await renewSetup('fault-pass', { server: proxy.directoryUrl });
    const issued = await runCli(['issue', '--config', setup.config]);
    expect(issued.code, issued.stderr).toBe(0);
    const seen = new Set(proxy.log.map((entry) => entry.endpoint));
    for (const endpoint of ['directory', 'newNonce', 'newAccount', 'newOrder', 'authz', 'challenge', 'finalize', 'cert'] as const) expect(seen, endpoint).toContain(endpoint);
    expect(proxy.log.filter((entry) => entry.fault === 'none').every((entry) => entry.status !== undefined && entry.status < 500)).toBe(true);
  });

  it('a badNonce it injects carries a fresh nonce from Pebble, which the retry uses', async () => {
    proxy.clearLog();
    proxy.setRules([{ endpoint: 'newOrder', fault: { type: 'badNonce' }, times: 1 }]);
    const setup = await renewSetup('fault-nonce', { server: proxy.directoryUrl });
    const issued = await runCli(['issue', '--config', setup.config]);
    expect(issued.code, issued.stderr).toBe(0);
    const [faulted, ...after] = proxy.requests('newOrder');
    expect(faulted).toMatchObject({ fault: 'badNonce', status: 400 });
    // The retry carries the nonce from the error response (RFC 8555 §6.5). Whether Pebble then takes it
    // is not asserted: the lab's Pebble refuses 5 % of valid nonces by design; the issuance succeeded.
    expect(faulted!.freshNonce).toMatch(/^[A-Za-z0-9_-]{10,}$/);
    expect(after[0]).toMatchObject({ fault: 'none', nonce: faulted!.freshNonce });
  });
});
