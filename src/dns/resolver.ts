import { getServers } from 'node:dns';
import type { ServerAddress } from '../config/types.js';
import { parseServerAddress } from '../config/values.js';
import type { DnsMessage } from './message.js';

/**
 * A DNS question sent to one chosen server. Everything in dns/ that looks things up takes one
 * of these as a parameter, so decisions can be tested with a fake and the socket stays at the edge.
 */
export type QueryFn = (
  server: ServerAddress,
  name: string,
  type: number,
  opts?: QueryFlags,
) => Promise<DnsMessage>;

export interface QueryFlags {
  recursionDesired?: boolean;
  /**
   * The CD bit (RFC 4035 §3.2.2): a validating resolver answers with the data even where the
   * DNSSEC chain is broken, instead of SERVFAIL. For finding zones, never for the answers checked.
   */
  checkingDisabled?: boolean;
  signal?: AbortSignal;
}

/** Lookup servers: the configured resolvers, else the system's (from /etc/resolv.conf). */
export function lookupServers(configured: ServerAddress[] | undefined): ServerAddress[] {
  if (configured && configured.length > 0) return configured;
  // getServers() gives "1.2.3.4", "1.2.3.4:5353" or "[::1]:5353": the configuration's parser reads them.
  return getServers().flatMap((text) => {
    const parsed = parseServerAddress(text, 53, true);
    return parsed.ok ? [{ host: parsed.value.host, port: parsed.value.port }] : [];
  });
}

export { formatServerAddress as formatServer } from '../config/values.js';

/** Lower case, no trailing dot: the one spelling of a name used across the code. */
export function normalizeName(name: string): string {
  return name.replace(/\.$/, '').toLowerCase();
}

/** Ask the servers in turn until one answers (any rcode); the last error if none does. */
export async function queryFirst(
  query: QueryFn,
  servers: ServerAddress[],
  name: string,
  type: number,
  opts?: QueryFlags,
): Promise<DnsMessage> {
  let lastError: unknown = new Error('no lookup servers configured');
  for (const server of servers) {
    try {
      return await query(server, name, type, opts);
    } catch (error) {
      // An interrupt is not a reason to ask the next server.
      opts?.signal?.throwIfAborted();
      lastError = error;
    }
  }
  throw lastError;
}
