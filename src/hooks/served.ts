/**
 * The served-certificate check: after the deploy hooks, connect to each configured TLS server with
 * SNI set to each name of the lineage (a random label in place of a wildcard's "*") and confirm that
 * the new certificate is the one served. A reload is asynchronous (nginx starts new workers after the
 * signal), so mismatches are retried until a deadline before they are reported.
 */
import { randomBytes } from 'node:crypto';
import { connect, type PeerCertificate } from 'node:tls';
import type { ServerAddress } from '../config/types.js';
import { formatServerAddress } from '../config/values.js';
import { messageOf } from '../errors.js';

export interface ServedCheck {
  address: string;
  domain: string;
  /** The SNI name sent. */
  sni: string;
  ok: boolean;
  /** Serial of the certificate served (hex), when one was received. */
  servedSerial?: string;
  servedNotAfter?: string;
  /** Connection or handshake failure. */
  error?: string;
}

export interface ExpectedCertificate {
  /** SHA-256 fingerprint as node:crypto prints it (AB:CD:...). */
  fingerprint256: string;
  serial: string;
}

export interface ServedOptions {
  /** Give up retrying mismatches after this long. */
  deadlineMs: number;
  pollMs?: number;
  connectTimeoutMs?: number;
  /** Random label source for wildcards (tests pin it). */
  randomLabel?: () => string;
  fetch?: (address: ServerAddress, sni: string, timeoutMs: number) => Promise<PeerFacts>;
}

export interface PeerFacts {
  fingerprint256: string;
  serialNumber: string;
  validTo: string;
}

/** The SNI name to use for a certificate name: a wildcard gets a random first label (pure given `label`). */
export function sniFor(domain: string, label: () => string): string {
  return domain.startsWith('*.') ? `${label()}.${domain.slice(2)}` : domain;
}

export function randomLabel(): string {
  return `gxit-${randomBytes(5).toString('hex')}`;
}

/** The leaf certificate a TLS server presents for `sni` (not verified: we compare it, we do not trust it). */
export function fetchPeerCertificate(address: ServerAddress, sni: string, timeoutMs: number): Promise<PeerFacts> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address.host, port: address.port, servername: sni, rejectUnauthorized: false });
    const timer = setTimeout(() => socket.destroy(new Error(`no TLS handshake within ${timeoutMs} ms`)), timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const peer: PeerCertificate = socket.getPeerCertificate();
      socket.end();
      if (!peer || peer.fingerprint256 === undefined) reject(new Error('the server presented no certificate'));
      else resolve({ fingerprint256: peer.fingerprint256, serialNumber: peer.serialNumber, validTo: peer.valid_to });
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

export async function verifyServed(
  addresses: readonly ServerAddress[],
  domains: readonly string[],
  expected: ExpectedCertificate,
  opts: ServedOptions,
): Promise<ServedCheck[]> {
  const fetchPeer = opts.fetch ?? fetchPeerCertificate;
  const label = opts.randomLabel ?? randomLabel;
  const pollMs = opts.pollMs ?? 200;
  const deadline = Date.now() + opts.deadlineMs;
  const checks = addresses.flatMap((address) =>
    domains.map((domain) => ({ target: address, check: { address: formatServerAddress(address), domain, sni: sniFor(domain, label), ok: false } as ServedCheck })),
  );
  for (;;) {
    await Promise.all(
      checks
        .filter(({ check }) => !check.ok)
        .map(async (entry) => {
          const { check } = entry;
          try {
            const peer = await fetchPeer(entry.target, check.sni, opts.connectTimeoutMs ?? 5000);
            entry.check = {
              address: check.address,
              domain: check.domain,
              sni: check.sni,
              ok: sameFingerprint(peer.fingerprint256, expected.fingerprint256),
              servedSerial: peer.serialNumber,
              servedNotAfter: peer.validTo,
            };
          } catch (error) {
            entry.check = { address: check.address, domain: check.domain, sni: check.sni, ok: false, error: messageOf(error) };
          }
        }),
    );
    if (checks.every(({ check }) => check.ok) || Date.now() + pollMs > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  return checks.map(({ check }) => check);
}

/** One line per failed check. */
export function describeServedFailure(check: ServedCheck, expected: ExpectedCertificate): string {
  const where = `${check.address} (SNI ${check.sni})`;
  if (check.error !== undefined) return `${where}: could not fetch the served certificate: ${check.error}`;
  return `${where} serves serial ${check.servedSerial ?? '?'}${check.servedNotAfter ? ` (valid until ${check.servedNotAfter})` : ''}, not the new certificate (serial ${expected.serial})`;
}

function sameFingerprint(a: string, b: string): boolean {
  return a.replace(/:/g, '').toUpperCase() === b.replace(/:/g, '').toUpperCase();
}
