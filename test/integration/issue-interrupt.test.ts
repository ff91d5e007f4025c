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
import os from 'node:os';
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

interface Launch {
  /** Run through npx in its own process group; a signal goes to the whole group, as Ctrl-C on a terminal does. */
  npx?: boolean;
}

async function interruptDuringPropagation(domain: string, send: (kill: (signal: NodeJS.Signals) => void) => Promise<void>, launch: Launch = {}) {
  const { config, dir } = await labConfig({
    certificates: [{ name: domain, domains: [domain] }],
    dns: { nameserver_port: silentPort, propagation_timeout: 120 },
  });
  const args = ['issue', '--config', config, '--verbose'];
  const child = launch.npx
    ? spawn('npx', ['--no-install', 'gxit-cert', ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, cwd: path.dirname(path.dirname(CLI)) })
    : spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const kill = (signal: NodeJS.Signals): void => {
    if (launch.npx && child.pid !== undefined) process.kill(-child.pid, signal);
    else child.kill(signal);
  };
  let stderr = '';
  let killedBy: NodeJS.Signals | null = null;
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code, signal) => {
      killedBy = signal;
      resolve(code);
    }),
  );
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
  await send(kill);
  const code = await exited;
  const ms = performance.now() - sent;
  return { code, signal: killedBy, ms, stderr, challenge, lock: path.join(dir, 'state', '.lock') };
}

describe('an interrupted issue cleans up and exits at once', () => {
  it('SIGINT while propagation waits on a nameserver that never answers: exit 130 within 2 s, no TXT, no lock', async () => {
    const run = await interruptDuringPropagation('interrupt-int.example.org', async (kill) => kill('SIGINT'));
    console.log(`SIGINT to exit: ${run.ms.toFixed(0)} ms`);
    expect(run.code).toBe(130);
    expect(run.ms).toBeLessThan(2000);
    expect(run.stderr).toMatch(/SIGINT: stopping after cleanup/);
    expect(run.stderr).toMatch(/cleanup: removing 1 TXT record/);
    expect(await lab().txt(run.challenge)).toEqual([]);
    expect(await exists(run.lock)).toBe(false);
  });

  it('through npx, SIGINT to the process group (Ctrl-C): the same exit code 130, no TXT, no lock', async () => {
    const run = await interruptDuringPropagation('interrupt-npx.example.org', async (kill) => kill('SIGINT'), { npx: true });
    console.log(`SIGINT through npx to exit: ${run.ms.toFixed(0)} ms (code ${run.code}, signal ${run.signal})`);
    // What a shell sees ($?): npm re-raises the signal on itself after gxit-cert exited with 130, and
    // a process killed by SIGINT has the status 128 + 2 as well.
    const status = run.code ?? 128 + (run.signal === null ? 0 : os.constants.signals[run.signal]);
    expect(status).toBe(130);
    expect(run.stderr).toMatch(/cleanup: removing 1 TXT record/);
    expect(run.ms).toBeLessThan(2000);
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
