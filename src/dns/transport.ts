/**
 * Sends one DNS message to one server and returns the raw reply: UDP first (a connected socket,
 * so an ICMP port-unreachable surfaces at once as ECONNREFUSED instead of as a timeout),
 * retransmitted on timeout, and TCP when the reply is truncated, the request is too big for
 * plain UDP, or TCP is asked for.
 *
 * Every failure is a rejection of the returned promise, never an exception thrown from a socket
 * callback or timer. The signal stops the exchange at once: sockets closed, timers cleared, the promise
 * rejected with the signal's reason.
 */
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import type { ServerAddress } from '../config/types.js';
import { GxitError } from '../errors.js';
import { abortable } from './abort.js';
import { readQuestions } from './message.js';
import { formatServer } from './resolver.js';

export interface ExchangeOptions {
  /** Go straight to TCP. */
  tcp?: boolean;
  /** Per attempt, milliseconds (default 2000). */
  timeoutMs?: number;
  /** Attempts in all: UDP transmissions, or TCP connections (default 3). */
  retries?: number;
  /** Stops the exchange at once (rejects with the signal's reason). */
  signal?: AbortSignal;
}

export type ExchangeFn = (server: ServerAddress, request: Buffer, opts?: ExchangeOptions) => Promise<Buffer>;

export const DEFAULT_TIMEOUT_MS = 2000;
export const DEFAULT_ATTEMPTS = 3;
/** Without EDNS a UDP message may not exceed 512 octets (RFC 1035 §4.2.1). */
const UDP_LIMIT = 512;

export async function exchange(server: ServerAddress, request: Buffer, opts: ExchangeOptions = {}): Promise<Buffer> {
  opts.signal?.throwIfAborted();
  if (!Number.isInteger(server.port) || server.port < 1 || server.port > 65535) {
    throw new GxitError('DNS_UNREACHABLE', `DNS server ${formatServer(server)}: ${server.port} is not a port (1-65535)`, {
      subject: `server ${formatServer(server)}`,
      fix: 'correct the port of the DNS server in the configuration',
    });
  }
  const target: Target = { ...(await abortable(resolveHost(server), opts.signal)), label: formatServer(server) };
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const attempts = Math.max(1, opts.retries ?? DEFAULT_ATTEMPTS);
  if (!opts.tcp && request.length <= UDP_LIMIT) {
    const reply = await udpExchange(target, request, timeoutMs, attempts, opts.signal);
    if (!isTruncated(reply)) return reply;
  }
  return tcpExchange(target, request, timeoutMs, attempts, opts.signal);
}

interface Target {
  address: string;
  family: 4 | 6;
  port: number;
  /** host:port as configured, for messages. */
  label: string;
}

async function resolveHost(server: ServerAddress): Promise<Omit<Target, 'label'>> {
  const family = net.isIP(server.host);
  if (family === 4 || family === 6) return { address: server.host, family, port: server.port };
  try {
    const found = await lookup(server.host);
    return { address: found.address, family: found.family === 6 ? 6 : 4, port: server.port };
  } catch (error) {
    throw new GxitError('DNS_UNREACHABLE', `cannot resolve the DNS server name ${server.host}: ${codeOf(error) ?? String(error)}`, {
      subject: `server ${formatServer(server)}`,
      fix: 'check the server host name, or give its IP address',
      cause: error,
    });
  }
}

function codeOf(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

function isTruncated(reply: Buffer): boolean {
  return ((reply[2] as number) & 0x02) !== 0;
}

/**
 * A reply answers our request when it is a response (QR) with our id and our question. An error
 * reply without a question section (FORMERR, NOTIMP) is accepted too: servers send those when
 * they could not parse the question, and its id still has to match on a connected socket.
 */
export function isReplyTo(request: Buffer, reply: Buffer): boolean {
  if (reply.length < 12 || reply.readUInt16BE(0) !== request.readUInt16BE(0)) return false;
  if (((reply[2] as number) & 0x80) === 0) return false;
  try {
    const asked = readQuestions(request);
    const got = readQuestions(reply);
    if (got.length === 0) return ((reply[3] as number) & 0x0f) !== 0;
    return got.length === asked.length && got.every((q, i) => q.name === asked[i]?.name && q.type === asked[i]?.type && q.class === asked[i]?.class);
  } catch {
    return false;
  }
}

function timeoutError(target: Target, transport: string, attempts: number, timeoutMs: number): GxitError {
  return new GxitError('DNS_TIMEOUT', `no reply from DNS server ${target.label} over ${transport} (${attempts} attempt${attempts === 1 ? '' : 's'} of ${timeoutMs} ms)`, {
    subject: `server ${target.label}`,
    fix: `check that the DNS server is running at ${target.label} and that no firewall drops ${transport} port ${target.port}; raise the timeout on slow links`,
  });
}

function socketError(target: Target, transport: string, error: unknown): GxitError {
  const code = codeOf(error);
  const refused = code === 'ECONNREFUSED';
  return new GxitError(
    'DNS_UNREACHABLE',
    refused
      ? `DNS server ${target.label} refused the ${transport} connection: nothing listens on port ${target.port}`
      : `cannot reach DNS server ${target.label} over ${transport}: ${code ?? (error instanceof Error ? error.message : String(error))}`,
    {
      subject: `server ${target.label}`,
      fix: refused ? 'check the server address and port, and that the DNS server is running' : 'check the server address and the network route to it',
      cause: error,
    },
  );
}

/** Runs `body` with a settle-once callback; removes the abort listener and the timer when done. */
function settleOnce<T>(
  signal: AbortSignal | undefined,
  body: (done: (error: unknown, value?: T) => void, setTimer: (t: NodeJS.Timeout) => void) => () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let cleanup: () => void = () => undefined;
    const onAbort = (): void => done(signal?.reason ?? new Error('aborted'));
    function done(error: unknown, value?: T): void {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      cleanup();
      if (error === undefined) resolve(value as T);
      else reject(error);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      cleanup = body(done, (t) => {
        if (timer) clearTimeout(timer);
        timer = t;
      });
    } catch (error) {
      // A socket call that throws (a port Node refuses) still ends in a rejection, sockets closed.
      done(error);
    }
    if (settled) cleanup();
  });
}

function udpExchange(target: Target, request: Buffer, timeoutMs: number, attempts: number, signal?: AbortSignal): Promise<Buffer> {
  return settleOnce<Buffer>(signal, (done, setTimer) => {
    const socket = dgram.createSocket(target.family === 6 ? 'udp6' : 'udp4');
    let sent = 0;
    let closed = false;
    const transmit = (): void => {
      if (closed) return;
      sent += 1;
      try {
        socket.send(request, (error) => {
          if (error) done(socketError(target, 'UDP', error));
        });
      } catch (error) {
        // send() throws synchronously on a socket that is not (or no longer) connected.
        done(socketError(target, 'UDP', error));
        return;
      }
      setTimer(setTimeout(() => (sent < attempts ? transmit() : done(timeoutError(target, 'UDP', attempts, timeoutMs))), timeoutMs));
    };
    socket.on('message', (reply) => {
      // Anything else (a late reply to an earlier id, garbage) is ignored: keep waiting.
      if (isReplyTo(request, reply)) done(undefined, reply);
    });
    socket.on('error', (error) => done(socketError(target, 'UDP', error)));
    // With a callback, Node reports a failed connect to the callback, not as an 'error' event: the
    // socket is then unconnected and must not be sent on.
    socket.connect(target.port, target.address, (error?: Error) => {
      if (error) done(socketError(target, 'UDP', error));
      else transmit();
    });
    return () => {
      closed = true;
      try {
        socket.close();
      } catch {
        // already closed
      }
    };
  });
}

async function tcpExchange(target: Target, request: Buffer, timeoutMs: number, attempts: number, signal?: AbortSignal): Promise<Buffer> {
  let lastError: GxitError = timeoutError(target, 'TCP', attempts, timeoutMs);
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      return await tcpAttempt(target, request, timeoutMs, signal);
    } catch (error) {
      if (!(error instanceof GxitError)) throw error; // aborted
      // A refused connection will be refused again; a timeout or reset may not repeat.
      if (error.code === 'DNS_UNREACHABLE' && codeOf(error.cause) === 'ECONNREFUSED') throw error;
      lastError = error.code === 'DNS_TIMEOUT' ? timeoutError(target, 'TCP', attempts, timeoutMs) : error;
    }
  }
  throw lastError;
}

function tcpAttempt(target: Target, request: Buffer, timeoutMs: number, signal?: AbortSignal): Promise<Buffer> {
  return settleOnce<Buffer>(signal, (done, setTimer) => {
    const socket = net.connect({ host: target.address, port: target.port, family: target.family });
    setTimer(setTimeout(() => done(timeoutError(target, 'TCP', 1, timeoutMs)), timeoutMs));
    let pending = Buffer.alloc(0);
    socket.on('connect', () => {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(request.length);
      socket.write(Buffer.concat([length, request]));
    });
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      // RFC 1035 §4.2.2 / RFC 7766: each message is preceded by its 2-octet length.
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const frame = pending.subarray(2, 2 + pending.readUInt16BE(0));
        pending = pending.subarray(2 + frame.length);
        if (isReplyTo(request, frame)) return done(undefined, Buffer.from(frame));
      }
    });
    socket.on('error', (error) => done(socketError(target, 'TCP', error)));
    socket.on('close', () => done(socketError(target, 'TCP', new Error('connection closed before a reply arrived'))));
    return () => socket.destroy();
  });
}
