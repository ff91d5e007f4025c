/** The validated dns.rfc2136 section (made by ./descriptor.ts). */
import type { ServerAddress, TsigKey } from '../../../config/types.js';

export interface Rfc2136Config {
  /**
   * The update servers in the order they are tried (dns.rfc2136.server: one or a list); each host is
   * an IP address or a host name, resolved when the provider first writes.
   */
  servers: ServerAddress[];
  /** Absent for servers that authorize updates by IP address only. */
  tsig?: TsigKey;
  /** Zone to update; found by SOA queries to the server when absent. */
  zone?: string;
  /** Always use TCP (otherwise UDP with TCP fallback on truncation). */
  tcp: boolean;
  /** TTL of the TXT records we add, seconds. */
  ttl: number;
  /** Per-attempt timeout, milliseconds. */
  timeoutMs: number;
  /** Attempts per message (UDP retransmissions / TCP reconnects). */
  retries: number;
}
