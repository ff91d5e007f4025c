/**
 * Test helpers for the DNS tests: a throwaway UDP/TCP server, running a command with input,
 * and a throwaway BIND (named) with TSIG keys and dynamically updatable zones.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TsigAlgorithm, TsigKey } from '../../../src/config/types.js';
import { RRType } from '../../../src/dns/message.js';
import { query } from '../../../src/dns/query.js';

export interface TestServer {
  port: number;
  received: Buffer[];
  close(): Promise<void>;
}

/** A UDP server: `handler` returns the reply to send (or undefined to stay silent). */
export async function udpServer(
  handler: (request: Buffer, index: number) => Buffer | Buffer[] | undefined,
  host = '127.0.0.1',
): Promise<TestServer> {
  const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
  const received: Buffer[] = [];
  socket.on('message', (msg, rinfo) => {
    received.push(msg);
    const reply = handler(msg, received.length - 1);
    for (const r of Array.isArray(reply) ? reply : reply ? [reply] : []) socket.send(r, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  return {
    port: socket.address().port,
    received,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** A TCP server with 2-octet length framing. */
export async function tcpServer(handler: (request: Buffer) => Buffer | undefined, host = '127.0.0.1'): Promise<TestServer> {
  const received: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const msg = pending.subarray(2, 2 + pending.readUInt16BE(0));
        pending = pending.subarray(2 + msg.length);
        received.push(Buffer.from(msg));
        const reply = handler(Buffer.from(msg));
        if (reply) socket.write(Buffer.concat([frameLength(reply.length), reply]));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function frameLength(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command with `input` on stdin; kills it after `timeoutMs`. */
export function run(command: string, args: string[], input: string, timeoutMs = 15_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

export function makeKey(name: string, algorithm: TsigAlgorithm, bytes = 32): TsigKey {
  return { name, algorithm, secret: randomBytes(bytes) };
}

/** BIND's spelling of an algorithm in named.conf and nsupdate. */
export function bindAlgorithm(algorithm: TsigAlgorithm): string {
  return algorithm === 'hmac-md5.sig-alg.reg.int' ? 'hmac-md5' : algorithm;
}

export function keyStatement(key: TsigKey): string {
  return `key "${key.name}" { algorithm ${bindAlgorithm(key.algorithm)}; secret "${key.secret.toString('base64')}"; };\n`;
}

export interface NamedZone {
  name: string;
  /** Zone file body after SOA and NS. */
  records?: string;
  /** Inside the zone statement, e.g. `allow-update { key k; };`. */
  policy: string;
}

export interface NamedLab {
  host: string;
  port: number;
  dir: string;
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts named on 127.0.0.1 and a random port with the given keys and zones, and waits until it
 * answers an SOA query for the first zone. Retries other ports if one is taken.
 */
export async function startNamed(keys: TsigKey[], zones: NamedZone[]): Promise<NamedLab> {
  let lastLog = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    // named listens only on addresses configured on an interface: 127.0.0.1, not any of 127/8.
    const host = '127.0.0.1';
    // Below Linux's ephemeral range (32768-60999): an outgoing connection's source port can never hold it.
    const port = randomInt(20_000, 32_000);
    const dir = await mkdtemp(join(tmpdir(), 'gxit-named-'));
    // A serial of our own tells our named apart from another server that may hold the port.
    const serial = randomInt(1, 2 ** 31);
    const conf = [
      ...keys.map(keyStatement),
      'options {',
      `  directory "${dir}";`,
      `  pid-file "${dir}/named.pid";`,
      `  session-keyfile "${dir}/session.key";`,
      `  managed-keys-directory "${dir}";`,
      `  listen-on port ${port} { ${host}; };`,
      '  listen-on-v6 { none; };',
      '  automatic-interface-scan no;',
      '  recursion no;',
      '  dnssec-validation no;',
      '  notify no;',
      '};',
      'controls { };',
      ...zones.map((z) => `zone "${z.name}" { type primary; file "${dir}/${z.name}.db"; ${z.policy} };`),
      '',
    ].join('\n');
    await writeFile(join(dir, 'named.conf'), conf);
    for (const z of zones) {
      const body = [
        '$TTL 300',
        `@ IN SOA ns1.${z.name}. hostmaster.${z.name}. ${serial} 3600 600 86400 60`,
        `@ IN NS ns1.${z.name}.`,
        `ns1 IN A ${host}`,
        z.records ?? '',
        '',
      ].join('\n');
      await writeFile(join(dir, `${z.name}.db`), body);
    }
    const child = spawn('named', ['-g', '-4', '-n', '1', '-u', 'root', '-c', join(dir, 'named.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const lab: NamedLab = {
      host,
      port,
      dir,
      log: () => log,
      stop: async () => {
        await stopChild(child, exited);
        await rm(dir, { recursive: true, force: true });
      },
    };
    if (await answers(lab, zones[0]?.name ?? '.', serial, child)) return lab;
    lastLog = log;
    await lab.stop();
  }
  throw new Error(`named did not start:\n${lastLog}`);
}

async function answers(lab: NamedLab, zone: string, serial: number, child: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && child.exitCode === null && !/could not listen|address in use/i.test(lab.log())) {
    try {
      const reply = await query({ host: lab.host, port: lab.port }, zone, RRType.SOA, { timeoutMs: 200, retries: 1 });
      const soa = reply.answers[0]?.data;
      if (reply.rcode === 0 && typeof soa === 'object' && 'serial' in soa && soa.serial === serial) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
