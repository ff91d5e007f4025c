/**
 * Interrupting `issue` while the propagation check waits on a nameserver that never answers (a
 * loopback UDP + TCP server that reads and never replies, reached through dns.nameserver_port):
 * the process exits at once with 130 (SIGINT) / 143 (SIGTERM), its TXT records removed and the lock
 * released. GNU timeout delivers its signal twice within milliseconds: the second must not cut the
 * cleanup short.
 */
import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { access } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, lab, labConfig } from './helpers.js';

/** Reads every query and answers none. */
let silentUdp: Socket;
let silentTcp: Server;
let silentPort: number;

beforeAll(async () => {
  const host = lab().dnsIp;
  silentUdp = createSocket('udp4');
  silentUdp.on('message', () => undefined);
  await new Promise<void>((resolve) => silentUdp.bind(0, host, resolve));
  silentPort = silentUdp.address().port;
  silentTcp = createServer((socket) => {
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    silentTcp.once('error', reject);
    silentTcp.listen(silentPort, host, resolve);
  });
});

afterAll(async () => {
  silentUdp?.close();
  await new Promise<void>((resolve) => (silentTcp ? silentTcp.close(() => resolve()) : resolve()));
});

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

async function interruptDuringPropagation(domain: string, send: (kill: (signal: NodeJS.Signals) => void) => Promise<void>) {
  const { config, dir } = await labConfig({
    certificates: [{ name: domain, domains: [domain] }],
    dns: { nameserver_port: silentPort, propagation_timeout: 120 },
  });
  const child = spawn(process.execPath, [CLI, 'issue', '--config', config, '--verbose'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no propagation progress line; stderr: ${stderr}`)), 60_000);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/propagation: waiting/.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const challenge = `_acme-challenge.${domain}`;
  // The record is in place and the CLI waits on the silent nameserver.
  expect(await lab().txt(challenge)).toHaveLength(1);
  const sent = performance.now();
  await send((signal) => child.kill(signal));
  const code = await exited;
  const ms = performance.now() - sent;
  return { code, ms, stderr, challenge, lock: path.join(dir, 'state', '.lock') };
}

describe('an interrupted issue cleans up and exits at once', () => {
  it('SIGINT while propagation waits on a nameserver that never answers: exit 130 within 2 s, no TXT, no lock', async () => {
    const run = await interruptDuringPropagation('interrupt-int.example.org', async (kill) => kill('SIGINT'));
    console.log(`SIGINT to exit: ${run.ms.toFixed(0)} ms`);
    expect(run.code).toBe(130);
    expect(run.ms).toBeLessThan(2000);
    expect(run.stderr).toMatch(/SIGINT: stopping/);
    expect(run.stderr).toMatch(/cleanup: removing 1 TXT record/);
    expect(await lab().txt(run.challenge)).toEqual([]);
    expect(await exists(run.lock)).toBe(false);
  });

  it('two SIGTERMs 5 ms apart (GNU timeout): cleanup still finishes, exit 143 within 2 s, no TXT, no lock', async () => {
    const run = await interruptDuringPropagation('interrupt-term.example.org', async (kill) => {
      kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 5));
      kill('SIGTERM');
    });
    console.log(`two SIGTERMs to exit: ${run.ms.toFixed(0)} ms`);
    expect(run.code).toBe(143);
    expect(run.ms).toBeLessThan(2000);
    expect(run.stderr).toMatch(/cleanup is finishing/);
    expect(await lab().txt(run.challenge)).toEqual([]);
    expect(await exists(run.lock)).toBe(false);
  });
});
