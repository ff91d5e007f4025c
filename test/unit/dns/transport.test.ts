import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { buildQuery, buildUpdate, parseMessage, RRType } from '../../../src/dns/message.js';
import { query } from '../../../src/dns/query.js';
import { exchange, isReplyTo } from '../../../src/dns/transport.js';
import { tcpServer, udpServer, type TestServer } from './lab.js';
import { rejection } from './wire-helpers.js';

/** The reply a server would send: the request with QR set and an optional flag bits. */
function answer(request: Buffer, flags = 0): Buffer {
  const reply = Buffer.from(request);
  reply.writeUInt16BE(request.readUInt16BE(2) | 0x8000 | flags, 2);
  return reply;
}
const TC = 0x0200;

/** A port with nothing listening (bound for a moment, then released). */
async function closedPort(kind: 'udp' | 'tcp'): Promise<number> {
  if (kind === 'udp') {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
    const { port } = s.address();
    await new Promise<void>((resolve) => s.close(() => resolve()));
    return port;
  }
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** UDP and TCP servers on the same port number (retrying when the TCP port is taken). */
async function bothOnOnePort(
  udp: (request: Buffer) => Buffer | undefined,
  tcp: (request: Buffer) => Buffer | undefined,
): Promise<{ udp: TestServer; tcp: TestServer; port: number }> {
  for (let i = 0; i < 10; i++) {
    const u = await udpServer(udp);
    const server = net.createServer();
    const free = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(u.port, '127.0.0.1', () => resolve(true));
    });
    if (free) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const t = await tcpServerOn(u.port, tcp);
      if (t) return { udp: u, tcp: t, port: u.port };
    }
    await u.close();
  }
  throw new Error('no port free for both UDP and TCP');
}

async function tcpServerOn(port: number, handler: (request: Buffer) => Buffer | undefined): Promise<TestServer | undefined> {
  // lab.tcpServer binds port 0; bind this exact port with the same framing instead.
  const received: Buffer[] = [];
  const server = net.createServer((socket) => {
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      if (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const msg = Buffer.from(pending.subarray(2, 2 + pending.readUInt16BE(0)));
        received.push(msg);
        const reply = handler(msg);
        if (reply) socket.end(Buffer.concat([Buffer.from([reply.length >> 8, reply.length & 0xff]), reply]));
      }
    });
  });
  const ok = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (!ok) return undefined;
  return { port, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('exchange over UDP', () => {
  it('returns the reply from an IPv4 server', async () => {
    const server = await udpServer((request) => answer(request));
    try {
      const request = buildQuery('example.org', RRType.SOA);
      const reply = await exchange({ host: '127.0.0.1', port: server.port }, request);
      expect(reply).toEqual(answer(request));
    } finally {
      await server.close();
    }
  });

  it('works over IPv6 and with a host name', async () => {
    const v6 = await udpServer((request) => answer(request), '::1');
    const local = await lookup('localhost');
    const named = await udpServer((request) => answer(request), local.address);
    try {
      const request = buildQuery('example.org', RRType.TXT);
      expect(await exchange({ host: '::1', port: v6.port }, request)).toEqual(answer(request));
      expect(await exchange({ host: 'localhost', port: named.port }, request)).toEqual(answer(request));
    } finally {
      await v6.close();
      await named.close();
    }
  });

  it('ignores replies with another id, another question or without QR', async () => {
    const server = await udpServer((request) => {
      const wrongId = answer(request);
      wrongId.writeUInt16BE(request.readUInt16BE(0) ^ 1, 0);
      const wrongQuestion = answer(buildQuery('example.com', RRType.SOA, { id: request.readUInt16BE(0) }));
      const notAResponse = Buffer.from(request);
      return [wrongId, wrongQuestion, notAResponse, Buffer.from('junk'), answer(request)];
    });
    try {
      const request = buildQuery('example.org', RRType.SOA);
      expect(await exchange({ host: '127.0.0.1', port: server.port }, request, { timeoutMs: 1000, retries: 1 })).toEqual(answer(request));
    } finally {
      await server.close();
    }
  });

  it('retransmits after a timeout', async () => {
    const server = await udpServer((request, index) => (index < 2 ? undefined : answer(request)));
    try {
      const request = buildQuery('example.org', RRType.SOA);
      expect(await exchange({ host: '127.0.0.1', port: server.port }, request, { timeoutMs: 100, retries: 3 })).toEqual(answer(request));
      expect(server.received).toHaveLength(3);
      expect(server.received.every((r) => r.equals(request))).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('gives up after the attempts with DNS_TIMEOUT naming the server', async () => {
    const server = await udpServer(() => undefined);
    try {
      const started = Date.now();
      const error = await rejection(exchange({ host: '127.0.0.1', port: server.port }, buildQuery('example.org', RRType.SOA), { timeoutMs: 100, retries: 2 }));
      expect(error.code).toBe('DNS_TIMEOUT');
      expect(error.message).toContain(`127.0.0.1:${server.port}`);
      expect(error.message).toContain('2 attempts');
      expect(error.fix).toBeTruthy();
      expect(server.received).toHaveLength(2);
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    } finally {
      await server.close();
    }
  });

  it('fails fast with DNS_UNREACHABLE when nothing listens (ICMP port unreachable)', async () => {
    const port = await closedPort('udp');
    const started = Date.now();
    const error = await rejection(exchange({ host: '127.0.0.1', port }, buildQuery('example.org', RRType.SOA), { timeoutMs: 5000 }));
    expect(error.code).toBe('DNS_UNREACHABLE');
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('stops when aborted', async () => {
    const server = await udpServer(() => undefined);
    try {
      const controller = new AbortController();
      const pending = exchange({ host: '127.0.0.1', port: server.port }, buildQuery('example.org', RRType.SOA), { timeoutMs: 5000, signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      const started = Date.now();
      await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
      // The abort comes after 50 ms; the attempt would last 5 s.
      expect(Date.now() - started).toBeLessThan(2500);
    } finally {
      await server.close();
    }
  });
});

describe('exchange over TCP', () => {
  it('retries over TCP when the UDP reply is truncated', async () => {
    const servers = await bothOnOnePort(
      (request) => answer(request, TC),
      (request) => answer(request),
    );
    try {
      const request = buildQuery('example.org', RRType.TXT);
      const reply = await exchange({ host: '127.0.0.1', port: servers.port }, request);
      expect(parseMessage(reply).tc).toBe(false);
      expect(servers.udp.received).toHaveLength(1);
      expect(servers.tcp.received).toEqual([request]);
    } finally {
      await servers.udp.close();
      await servers.tcp.close();
    }
  });

  it('goes straight to TCP when asked, and for requests over 512 octets', async () => {
    const servers = await bothOnOnePort(
      () => undefined,
      (request) => answer(request),
    );
    try {
      const server = { host: '127.0.0.1', port: servers.port };
      const small = buildQuery('example.org', RRType.SOA);
      expect(await exchange(server, small, { tcp: true })).toEqual(answer(small));
      const adds = Array.from({ length: 12 }, (_, i) => ({ name: `_acme-challenge.example.org`, value: `${i}`.padEnd(43, 'x'), ttl: 60 }));
      const big = buildUpdate('example.org', { add: adds, remove: [] });
      expect(big.length).toBeGreaterThan(512);
      expect(await exchange(server, big)).toEqual(answer(big));
      expect(servers.udp.received).toHaveLength(0);
      expect(servers.tcp.received).toHaveLength(2);
    } finally {
      await servers.udp.close();
      await servers.tcp.close();
    }
  });

  it('reads length-framed replies split across segments and skips foreign frames', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => {
      sockets.push(socket);
      socket.once('data', (chunk: Buffer) => {
        const request = chunk.subarray(2);
        const stale = answer(buildQuery('example.org', RRType.SOA, { id: request.readUInt16BE(0) ^ 0xff }));
        const reply = answer(request);
        const frames = Buffer.concat([Buffer.from([0, stale.length]), stale, Buffer.from([0, reply.length]), reply]);
        socket.write(frames.subarray(0, 1));
        setTimeout(() => socket.write(frames.subarray(1, stale.length + 5)), 10);
        setTimeout(() => socket.write(frames.subarray(stale.length + 5)), 20);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const request = buildQuery('example.org', RRType.SOA);
      const reply = await exchange({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port }, request, { tcp: true });
      expect(reply).toEqual(answer(request));
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('times out per attempt and names the server', async () => {
    const server = await tcpServer(() => undefined);
    try {
      const error = await rejection(exchange({ host: '127.0.0.1', port: server.port }, buildQuery('example.org', RRType.SOA), { tcp: true, timeoutMs: 100, retries: 2 }));
      expect(error.code).toBe('DNS_TIMEOUT');
      expect(error.message).toMatch(new RegExp(`127\\.0\\.0\\.1:${server.port} over TCP \\(2 attempts of 100 ms\\)`));
      expect(server.received).toHaveLength(2);
    } finally {
      await server.close();
    }
  });

  it('fails at once when the connection is refused', async () => {
    const port = await closedPort('tcp');
    const error = await rejection(exchange({ host: '127.0.0.1', port }, buildQuery('example.org', RRType.SOA), { tcp: true, retries: 3 }));
    expect(error.code).toBe('DNS_UNREACHABLE');
    expect(error.message).toContain(`127.0.0.1:${port}`);
  });
});

describe('exchange never throws outside its promise', () => {
  it('rejects a failed UDP connect with DNS_UNREACHABLE instead of sending on the unconnected socket', async () => {
    // Node hands a failed connect (ENETUNREACH, EADDRNOTAVAIL, ...) to the connect callback, leaving the
    // socket unconnected; a send() on it throws ERR_SOCKET_BAD_PORT from a callback, out of reach of any catch.
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown): void => void uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    const connect = vi.spyOn(dgram.Socket.prototype, 'connect').mockImplementation(function (this: dgram.Socket, ...args: unknown[]) {
      const callback = args.find((a): a is (error?: Error) => void => typeof a === 'function');
      process.nextTick(() => callback?.(Object.assign(new Error('connect ENETUNREACH 127.0.0.1:53'), { code: 'ENETUNREACH' })));
    });
    try {
      const error = await rejection(exchange({ host: '127.0.0.1', port: 53 }, buildQuery('example.org', RRType.SOA), { timeoutMs: 50, retries: 3 }));
      expect(error.code).toBe('DNS_UNREACHABLE');
      expect(error.message).toBe('cannot reach DNS server 127.0.0.1:53 over UDP: ENETUNREACH');
      // Past every retransmission timer that the old code would have armed.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(uncaught).toEqual([]);
    } finally {
      connect.mockRestore();
      process.off('uncaughtException', onUncaught);
    }
  });

  it('rejects a port Node cannot use, over UDP and TCP, naming the server', async () => {
    for (const tcp of [false, true]) {
      const error = await rejection(exchange({ host: '127.0.0.1', port: 0 }, buildQuery('example.org', RRType.SOA), { tcp, timeoutMs: 100 }));
      expect(error.code).toBe('DNS_UNREACHABLE');
      expect(error.message).toContain('127.0.0.1:0');
    }
  });

  it('rejects at once when the signal has already fired', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(exchange({ host: '127.0.0.1', port: 53 }, buildQuery('example.org', RRType.SOA), { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('stops a TCP exchange at once when aborted, closing the connection', async () => {
    const server = await tcpServer(() => undefined);
    try {
      const controller = new AbortController();
      const pending = exchange({ host: '127.0.0.1', port: server.port }, buildQuery('example.org', RRType.SOA), { tcp: true, timeoutMs: 10_000, retries: 3, signal: controller.signal });
      while (server.received.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      const started = Date.now();
      controller.abort();
      await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
      // Generous against the 30 s the attempts would take; an abort takes a few milliseconds.
      expect(Date.now() - started).toBeLessThan(3000);
      expect(server.received).toHaveLength(1);
    } finally {
      await server.close();
    }
  });
});

describe('isReplyTo', () => {
  it('accepts an error reply without a question, with our id', () => {
    const request = buildQuery('example.org', RRType.SOA, { id: 9 });
    const formerr = Buffer.alloc(12);
    formerr.writeUInt16BE(9, 0);
    formerr.writeUInt16BE(0x8001, 2);
    expect(isReplyTo(request, formerr)).toBe(true);
    const noerror = Buffer.from(formerr);
    noerror.writeUInt16BE(0x8000, 2);
    expect(isReplyTo(request, noerror)).toBe(false);
  });
});

describe('query', () => {
  it('sends a non-recursive question and parses the reply', async () => {
    const sent: Buffer[] = [];
    const reply = await query({ host: '192.0.2.1', port: 53 }, 'Example.org', RRType.SOA, {
      exchange: async (_server, request) => {
        sent.push(request);
        return answer(request);
      },
    });
    expect(parseMessage(sent[0] as Buffer).rd).toBe(false);
    expect(reply.questions).toEqual([{ name: 'example.org', type: RRType.SOA, class: 1 }]);
    await query({ host: '192.0.2.1', port: 53 }, 'example.org', RRType.NS, { recursionDesired: true, exchange: async (_s, r) => (sent.push(r), answer(r)) });
    expect(parseMessage(sent[1] as Buffer).rd).toBe(true);
  });

  it('turns a malformed reply into DNS_BAD_RESPONSE naming the server', async () => {
    const error = await rejection(
      query({ host: '192.0.2.1', port: 5353 }, 'example.org', RRType.TXT, {
        exchange: async (_server, request) => {
          const reply = answer(request);
          reply.writeUInt16BE(1, 6); // claims an answer that is not there
          return reply;
        },
      }),
    );
    expect(error.code).toBe('DNS_BAD_RESPONSE');
    expect(error.message).toContain('192.0.2.1:5353');
  });
});
