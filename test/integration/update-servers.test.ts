/**
 * dns.rfc2136.server as a host name with two addresses, looked up through dns.resolvers (the lab's
 * BIND): the first a loopback address where a UDP + TCP listener reads and never replies, the second
 * the lab's primary. The update goes through the second; the cleanup goes there too.
 *
 * BIND hands the two A records out in an order of its own, so a run may try the lab first; the test
 * repeats until the silent address was tried first (and checks every run).
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lab, labConfig, nsupdate, runCli } from './helpers.js';
import type { CheckResult } from '../../src/check/types.js';

const HOST = 'updates.example.org';
const BASE = 'servers.example.org';
let silentUdp: Socket;
let silentTcp: Server;
let silentIp: string;
let received = 0;

beforeAll(async () => {
  silentIp = lab().dnsIp.replace(/\.\d+$/, '.77');
  silentUdp = createSocket('udp4');
  silentUdp.on('message', () => {
    received += 1;
  });
  await new Promise<void>((resolve) => silentUdp.bind(53, silentIp, resolve));
  silentTcp = createServer((socket) => {
    received += 1;
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    silentTcp.once('error', reject);
    silentTcp.listen(53, silentIp, resolve);
  });
  await nsupdate([`update add ${HOST} 60 A ${silentIp}`, `update add ${HOST} 60 A ${lab().dnsIp}`], 'lab-admin');
});

afterAll(async () => {
  silentUdp?.close();
  await new Promise<void>((resolve) => (silentTcp ? silentTcp.close(() => resolve()) : resolve()));
});

describe('update servers', () => {
  it('a host name whose first address never answers: the update goes through the second', async () => {
    const { config } = await labConfig({
      certificates: [{ name: BASE, domains: [BASE] }],
      dns: { rfc2136: { server: [HOST], zone: 'example.org', timeout: 0.3, retries: 1 } },
    });
    let silentFirst = 0;
    for (let run = 0; run < 12 && silentFirst === 0; run++) {
      const before = received;
      const issued = await runCli(['issue', '--force', '--verbose', '--config', config]);
      expect(issued.code, issued.stderr).toBe(0);
      expect(await lab().txt(`_acme-challenge.${BASE}`)).toEqual([]);
      if (received > before) {
        silentFirst += 1;
        // The silent address got the update once, and no second round of deletes.
        expect(received - before).toBe(1);
        expect(issued.stderr).not.toMatch(/remove them by hand/);
      }
    }
    expect(silentFirst).toBe(1);
  }, 120_000);

  it('check-dns asks every address for the signed query: the silent one is a warning, the lab verifies', async () => {
    const { config } = await labConfig({
      certificates: [{ name: BASE, domains: [BASE] }],
      dns: { rfc2136: { server: [HOST], zone: 'example.org', timeout: 0.3, retries: 1 } },
    });
    const run = await runCli(['check-dns', '--config', config, '--json']);
    const lines = (JSON.parse(run.stdout) as { results: CheckResult[] }).results.filter((l) => l.check === 'tsig');
    const bySubject = new Map(lines.map((l) => [l.subject, l]));
    expect(lines).toHaveLength(2);
    expect(bySubject.get(`key certbot-training at ${HOST} (${lab().dnsIp}:53)`)?.status).toBe('ok');
    const silent = bySubject.get(`key certbot-training at ${HOST} (${silentIp}:53)`);
    expect(silent?.status).toBe('warn');
    expect(silent?.message).toContain(`updates still go through ${HOST} (${lab().dnsIp}:53)`);
    // (servers.example.org has no address, so the host line fails; the probe's record is gone again.)
    expect(await lab().txt(`_acme-challenge.${BASE}`)).toEqual([]);
  }, 60_000);
});
