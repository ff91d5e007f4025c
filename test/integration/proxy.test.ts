/**
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY: every HTTP(S) request goes through a CONNECT proxy on loopback
 * that records what it tunnels. The ACME server is named `localhost:<port>`, where nothing listens
 * (asserted): only the proxy, which routes that name to Pebble, reaches it.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAriProxy, type AriProxy } from '../../fixtures/ari/proxy.mjs';
import { startConnectProxy, type ConnectProxy } from '../lab/connect-proxy.js';
import { lab, nsupdate, pebbleUpstream, runCli } from './helpers.js';
import { renewSetup } from './renew-helpers.js';

/** The proxy variables of the machine running the tests are replaced, not inherited. */
const NO_PROXY_ENV = { HTTPS_PROXY: '', https_proxy: '', HTTP_PROXY: '', http_proxy: '', NO_PROXY: '', no_proxy: '' };

function refused(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe('through an HTTPS proxy with no direct route to the CA', () => {
  let proxy: ConnectProxy;
  let target: string;

  beforeAll(async () => {
    const l = lab();
    target = `localhost:${l.acmePort}`;
    proxy = await startConnectProxy({ [target]: `${l.pebbleIp}:${l.acmePort}` });
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('issues, checks and renews; every request is tunnelled; NO_PROXY sends it direct (and it fails)', async () => {
    const l = lab();
    // The premise: localhost:<Pebble's port> is not reachable directly.
    for (const host of ['127.0.0.1', '::1']) expect(await refused(host, l.acmePort)).toMatch(/^(ECONNREFUSED|EADDRNOTAVAIL|ENETUNREACH|EAFNOSUPPORT)$/);

    const setup = await renewSetup('proxy-acme', { server: `https://${target}/dir` });
    // The Galaxy host and its Interactive Tools wildcard, so that every check of check-dns passes.
    await nsupdate([`update add ${setup.names.base} 60 A 127.0.0.1`, `update add *.ep.interactivetool.${setup.names.base} 60 CNAME ${setup.names.base}`], 'lab-admin');
    const env = { ...NO_PROXY_ENV, HTTPS_PROXY: proxy.url };
    const issued = await runCli(['issue', '--config', setup.config], { env });
    expect(issued.code, issued.stderr).toBe(0);
    expect(issued.stderr).toContain(`${setup.names.base}: issued version 1`);
    const afterIssue = proxy.tunnels.length;
    expect(afterIssue).toBeGreaterThan(0);

    const checked = await runCli(['check-dns', '--config', setup.config], { env });
    expect(checked.code, checked.stdout + checked.stderr).toBe(0);
    expect(checked.stdout).toMatch(new RegExp(`^✓ acme +https://${target}/dir: the ACME directory answered`, 'm'));
    expect(checked.stdout).toMatch(/^✓ account +https:\/\/localhost:\d+\/my-account\/\S+: the account is valid$/m);
    const afterCheck = proxy.tunnels.length;
    // The directory check and the account check each open their own connection.
    expect(afterCheck).toBeGreaterThanOrEqual(afterIssue + 2);

    // Lower-case names count as well.
    const renewed = await runCli(['renew', '--force', '--config', setup.config], { env: { ...NO_PROXY_ENV, https_proxy: proxy.url } });
    expect(renewed.code, renewed.stderr).toBe(0);
    expect(renewed.stderr).toContain(`${setup.names.base}: renewed (forced): version 2`);
    expect(proxy.tunnels.length).toBeGreaterThan(afterCheck);

    expect(new Set(proxy.tunnels)).toEqual(new Set([target]));
    expect(proxy.plain).toEqual([]);

    // NO_PROXY exempts the CA: gxit-cert connects directly, which is refused here.
    const before = proxy.tunnels.length;
    const direct = await runCli(['check-dns', '--config', setup.config], { env: { ...env, NO_PROXY: 'example.com, localhost' } });
    expect(direct.code).toBe(1);
    expect(direct.stdout).toMatch(new RegExp(`^✗ acme +https://${target}/dir: .*ECONNREFUSED|^✗ acme +https://${target}/dir: .*refused`, 'm'));
    expect(proxy.tunnels.length).toBe(before);
  }, 120_000);
});

describe('ACME Renewal Information through the proxy', () => {
  let ari: AriProxy;
  let proxy: ConnectProxy;

  beforeAll(async () => {
    ari = await startAriProxy(await pebbleUpstream());
    proxy = await startConnectProxy();
  });
  afterAll(async () => {
    await ari?.close();
    await proxy?.close();
  });

  it('asks for the renewal window through the proxy', async () => {
    ari.setWindow('*', { start: new Date(Date.now() + 30 * 86_400_000).toISOString(), end: new Date(Date.now() + 32 * 86_400_000).toISOString(), retryAfter: 3600 });
    const setup = await renewSetup('proxy-ari', { server: ari.directoryUrl });
    const issued = await runCli(['issue', '--config', setup.config], { env: { ...NO_PROXY_ENV, HTTPS_PROXY: proxy.url } });
    expect(issued.code, issued.stderr).toBe(0);
    expect(ari.requests.renewalInfo).toHaveLength(1);
    const ariHost = new URL(ari.url).host;
    expect(new Set(proxy.tunnels)).toEqual(new Set([ariHost]));
    expect(proxy.plain).toEqual([]);
    const tunnels = proxy.tunnels.length;

    // The renewal check itself (nothing due, so ARI alone would be asked once Retry-After passed):
    // a forced renewal orders through the proxy again and asks for the new certificate's window.
    const renewed = await runCli(['renew', '--force', '--config', setup.config], { env: { ...NO_PROXY_ENV, HTTPS_PROXY: proxy.url } });
    expect(renewed.code, renewed.stderr).toBe(0);
    expect(ari.requests.renewalInfo).toHaveLength(2);
    expect(proxy.tunnels.length).toBeGreaterThan(tunnels);
    expect(new Set(proxy.tunnels)).toEqual(new Set([ariHost]));
  }, 120_000);
});
