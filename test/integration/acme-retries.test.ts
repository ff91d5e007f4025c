// The ACME retry policy (src/acme/retry.ts, docs/acme-retries.md) against the fault proxy in front of the
// lab's Pebble: each transient fault is ridden out and the certificate issued; badNonce retries use every
// nonce once; a stalled finalize is resolved by polling the order; a Retry-After beyond
// acme_retry_max_wait fails with the time to retry. And a loopback fake CA whose newAccount answers
// without Location: bounded requests, one line, exit 1; SIGTERM honoured while the client waits.
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy, type Rule } from '../../fixtures/fault-proxy/proxy.mjs';
import { CLI, labConfig, pebbleUpstream, runCli } from './helpers.js';
import { freePort, liveCert, renewSetup } from './renew-helpers.js';

describe('ACME retries through the fault proxy', () => {
  let proxy: FaultProxy;
  const extra: FaultProxy[] = [];

  async function newProxy(rules: Rule[] = []): Promise<FaultProxy> {
    return startFaultProxy({
      ...(await pebbleUpstream()),
      rules,
    });
  }

  beforeAll(async () => {
    proxy = await newProxy();
  });
  afterAll(async () => {
    await Promise.all([proxy, ...extra].map((p) => p?.close()));
  });

  async function issueWith(prefix: string, rules: Rule[]): Promise<{ code: number | null; stderr: string; ms: number }> {
    proxy.clearLog();
    proxy.setRules(rules);
    const setup = await renewSetup(prefix, { server: proxy.directoryUrl });
    const run = await runCli(['issue', '--config', setup.config], { timeoutMs: 120_000 });
    if (run.code === 0) expect((await liveCert(setup)).subject).toContain(setup.names.base);
    return run;
  }

  const transient: [string, string, Rule[]][] = [
    ['503 + Retry-After on newOrder', 'rt-503-order', [{ endpoint: 'newOrder', fault: { type: 'status', status: 503, retryAfter: 1 }, times: 2 }]],
    ['429 + Retry-After on finalize', 'rt-429-final', [{ endpoint: 'finalize', fault: { type: 'rateLimited', retryAfter: 1 }, times: 1 }]],
    ['reset of authorization reads', 'rt-reset-authz', [{ endpoint: 'authz', fault: { type: 'reset' }, times: 2 }]],
    ['reset of newNonce and the directory', 'rt-reset-nonce', [{ endpoint: 'newNonce', fault: { type: 'reset' }, times: 1 }, { endpoint: 'directory', fault: { type: 'reset' }, times: 1 }]],
    ['reset of newOrder', 'rt-reset-order', [{ endpoint: 'newOrder', fault: { type: 'reset' }, times: 1 }]],
    ['500 on the certificate download', 'rt-500-cert', [{ endpoint: 'cert', fault: { type: 'status', status: 500 }, times: 1 }]],
    ['reset of finalize (order polled, finalize sent again only while ready)', 'rt-reset-final', [{ endpoint: 'finalize', fault: { type: 'reset' }, times: 1 }]],
    ['slow finalize (5 s)', 'rt-slow-final', [{ endpoint: 'finalize', fault: { type: 'slow', delayMs: 5000 }, times: 1 }]],
    ['503 + Retry-After on an order poll', 'rt-503-poll', [{ endpoint: 'order', fault: { type: 'status', status: 503, retryAfter: 1 }, times: 1 }]],
  ];
  // Each fault on its own proxy, all at once: the lab's Pebble takes the orders concurrently.
  it.concurrent.each(transient)('%s: the certificate is issued', async (_name, prefix, rules) => {
    const own = await newProxy(rules);
    extra.push(own);
    const setup = await renewSetup(prefix, { server: own.directoryUrl });
    const run = await runCli(['issue', '--config', setup.config], { timeoutMs: 120_000 });
    expect(run.code, run.stderr).toBe(0);
    expect((await liveCert(setup)).subject).toContain(setup.names.base);
    for (const used of own.rules()) expect(used.used, `rule on ${used.endpoint} applied`).toBeGreaterThan(0);
    expect(own.reusedNonces()).toEqual([]);
  }, 120_000);

  it('a stalled finalize: the order is polled and the certificate issued within 45 s', async () => {
    const run = await issueWith('retry-stall', [{ endpoint: 'finalize', fault: { type: 'stall' }, times: 1 }]);
    expect(run.code, run.stderr).toBe(0);
    console.log(`stalled finalize: issued in ${run.ms.toFixed(0)} ms`);
    expect(run.ms).toBeLessThan(45_000);
    const finalizes = proxy.requests('finalize');
    expect(finalizes[0]!.fault).toBe('stall');
    // Pebble never saw the stalled one, so the order was still ready: exactly one more finalize that
    // Pebble took (one it refused with its default 5 % badNonce, and the retry, are the same finalize).
    expect(finalizes.filter((entry) => entry.fault === 'none' && entry.status === 200)).toHaveLength(1);
    expect(proxy.requests('order').length).toBeGreaterThan(0);
  }, 90_000);

  it('a Retry-After beyond acme_retry_max_wait fails at once with one line naming the time to retry', async () => {
    proxy.clearLog();
    proxy.setRules([{ endpoint: 'newOrder', fault: { type: 'rateLimited', retryAfter: 3600 } }]);
    const setup = await renewSetup('retry-later', { server: proxy.directoryUrl, acme_retry_max_wait: 30 });
    const run = await runCli(['issue', '--config', setup.config]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/wait 3600 s/);
    expect(run.stderr).toMatch(/run again after \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
    expect(proxy.requests('newOrder')).toHaveLength(1);
    expect(run.ms).toBeLessThan(30_000);
  });

  it('20 of 20 issuances succeed with half of all nonces refused, each nonce sent once', async () => {
    proxy.clearLog();
    // At most 5 refusals in a row per account and URL: the client gives up after 10 badNonce retries of
    // one request, which a plain 50 % would reach by chance once in 2048 requests (about one run in five
    // of these ~480 POSTs). The test is about riding out refusals, not about that luck.
    proxy.setRules([{ endpoint: '*', method: 'POST', fault: { type: 'badNonce' }, probability: 0.5, seed: 11, maxInARow: 5 }]);
    const runs: { code: number | null; stderr: string }[] = [];
    // Ten at a time: the lab's Pebble takes them concurrently; the whole run stays short.
    for (let batch = 0; batch < 2; batch++) {
      const setups = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => renewSetup(`nonce50-${batch}${i}`, { server: proxy.directoryUrl })));
      runs.push(...(await Promise.all(setups.map((s) => runCli(['issue', '--config', s.config], { timeoutMs: 120_000 })))));
    }
    const failed = runs.filter((r) => r.code !== 0);
    expect(failed.map((r) => r.stderr)).toEqual([]);
    const refused = proxy.log.filter((entry) => entry.fault === 'badNonce').length;
    console.log(`badNonce 50 %: 20/20 issued, ${refused} nonces refused of ${proxy.log.filter((e) => e.method === 'POST').length} POSTs`);
    expect(refused).toBeGreaterThan(50);
    expect(proxy.reusedNonces()).toEqual([]);
  }, 300_000);
});

/** A loopback fake ACME server: directory, newNonce, and newAccount as `account` answers it. */
async function fakeCa(account: (res: import('node:http').ServerResponse) => void): Promise<{ server: Server; url: string; posts: () => number }> {
  let posts = 0;
  let nonce = 0;
  const server = createServer((req, res) => {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    res.setHeader('Replay-Nonce', `fake-nonce-${++nonce}`);
    if (req.url === '/dir') {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ newNonce: `${base}/nonce`, newAccount: `${base}/acct`, newOrder: `${base}/order` }));
    } else if (req.url === '/nonce') {
      res.end();
    } else {
      req.resume();
      req.on('end', () => {
        posts += 1;
        account(res);
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/dir`, posts: () => posts };
}

describe('a CA that misbehaves or cannot be reached', () => {
  it('ECONNREFUSED is not retried: one line naming the refusal, exit 1 within seconds', async () => {
    const port = await freePort('127.0.0.1');
    const { config } = await labConfig({ certificates: [{ name: 'refused.example.org', domains: ['refused.example.org'] }], server: `http://127.0.0.1:${port}/dir` });
    const run = await runCli(['issue', '--config', config], { timeoutMs: 30_000 });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/refused \(ECONNREFUSED\)/);
    expect(run.stderr).not.toMatch(/retry attempt|\n\s+at /);
    // acme-client alone waited 1 + 2 + 3 s on top of the ~1.5 s of a run: a bound it could never meet.
    expect(run.ms).toBeLessThan(6_000);
  });

  it('200 {} without Location: one line, exit 1 within seconds, a bounded number of requests', async () => {
    const ca = await fakeCa((res) => {
      res.setHeader('Content-Type', 'application/json');
      res.end('{}');
    });
    try {
      const { config } = await labConfig({ certificates: [{ name: 'noloc.example.org', domains: ['noloc.example.org'] }], server: ca.url });
      const run = await runCli(['issue', '--config', config], { timeoutMs: 30_000 });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/without the account URL \(Location header\)/);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(ca.posts()).toBeLessThanOrEqual(20);
      expect(run.ms).toBeLessThan(10_000);
    } finally {
      ca.server.close();
    }
  });

  it('SIGTERM while the client waits out the CA\'s Retry-After: exits at once', async () => {
    const ca = await fakeCa((res) => {
      res.statusCode = 503;
      res.setHeader('Retry-After', '20');
      res.setHeader('Content-Type', 'application/problem+json');
      res.end(JSON.stringify({ type: 'urn:ietf:params:acme:error:serverInternal', detail: 'busy' }));
    });
    try {
      const { config } = await labConfig({ certificates: [{ name: 'busy.example.org', domains: ['busy.example.org'] }], server: ca.url });
      const child = spawn(process.execPath, [CLI, 'issue', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      // Wait until the CA has answered once (the client is now sleeping), then interrupt.
      for (let i = 0; i < 300 && ca.posts() === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(ca.posts()).toBe(1);
      const sent = performance.now();
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      const ms = performance.now() - sent;
      expect(code, stderr).toBe(143);
      expect(ms).toBeLessThan(10_000);
      expect(ca.posts()).toBe(1);
    } finally {
      ca.server.close();
    }
  }, 60_000);
});
