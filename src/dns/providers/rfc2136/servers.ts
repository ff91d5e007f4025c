/**
 * The update servers as addresses to try in turn: each configured server is an IP address or a host
 * name; a host name gives every A and AAAA address it has, looked up through dns.resolvers when set
 * (the names of a lab or an internal zone are often unknown to the system resolver), else through
 * the system resolver.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { ServerAddress } from '../../../config/types.js';
import { GxitError, messageOf } from '../../../errors.js';
import { RRType } from '../../message.js';
import { formatServer, queryFirst, type QueryFn } from '../../resolver.js';

/** One address to send updates to, with how the configuration named it (for messages). */
export interface UpdateTarget {
  address: ServerAddress;
  /** "ns1.example.org (192.0.2.1:53)" for a host name, "192.0.2.1:53" for an address. */
  label: string;
}

/** Every address of a host name (IPv4 first, then IPv6, each in the order the resolver gave). */
export type HostResolver = (host: string, signal: AbortSignal) => Promise<string[]>;

/** Looks host names up with A and AAAA queries to the configured resolvers. */
export function resolverLookup(query: QueryFn, resolvers: ServerAddress[]): HostResolver {
  return async (host, signal) => {
    const ask = async (type: number): Promise<string[]> => {
      const reply = await queryFirst(query, resolvers, host, type, { recursionDesired: true, signal });
      return reply.answers.filter((rr) => rr.type === type).map((rr) => String(rr.data));
    };
    const [v4, v6] = await Promise.allSettled([ask(RRType.A), ask(RRType.AAAA)]);
    const found = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
    if (found.length === 0 && v4.status === 'rejected') throw v4.reason;
    return found;
  };
}

/** The system resolver (getaddrinfo), every address. */
export const systemLookup: HostResolver = async (host) => {
  const found = await lookup(host, { all: true, order: 'ipv4first' });
  return found.map((f) => f.address);
};

/** Expands the configured servers into the addresses to try, in order; a name without address is an error. */
export async function updateTargets(servers: readonly ServerAddress[], resolve: HostResolver, signal: AbortSignal): Promise<UpdateTarget[]> {
  const expanded = await Promise.all(
    servers.map(async (server): Promise<UpdateTarget[]> => {
      if (isIP(server.host) !== 0) return [{ address: server, label: formatServer(server) }];
      let addresses: string[];
      try {
        addresses = await resolve(server.host, signal);
      } catch (error) {
        if (signal.aborted) throw error;
        throw noAddress(server, `cannot be resolved: ${messageOf(error)}`, error);
      }
      if (addresses.length === 0) throw noAddress(server, 'has no A or AAAA record');
      return [...new Set(addresses)].map((host) => {
        const address = { host, port: server.port };
        return { address, label: `${server.host} (${formatServer(address)})` };
      });
    }),
  );
  return expanded.flat();
}

function noAddress(server: ServerAddress, why: string, cause?: unknown): GxitError {
  return new GxitError('DNS_UNREACHABLE', `the update server name ${server.host} ${why}`, {
    subject: `server ${formatServer(server)}`,
    fix: 'check the host name in dns.rfc2136.server (it is looked up through dns.resolvers when set), or give its IP address',
    ...(cause === undefined ? {} : { cause }),
  });
}
