/** One question to one chosen server (no system resolver involved). Fits resolver.ts's QueryFn. */
import type { ServerAddress } from '../config/types.js';
import { GxitError } from '../errors.js';
import { buildQuery, parseMessage, typeName, type DnsMessage } from './message.js';
import { formatServer } from './resolver.js';
import { exchange, type ExchangeFn, type ExchangeOptions } from './transport.js';

export interface QueryOptions extends ExchangeOptions {
  /** Ask the server to recurse (for resolvers); off by default: authoritative servers ignore it. */
  recursionDesired?: boolean;
  /** See QueryFlags.checkingDisabled (resolver.ts). */
  checkingDisabled?: boolean;
  /** Transport to use instead of the network (tests). */
  exchange?: ExchangeFn;
}

/** Returns the reply whatever its rcode (NXDOMAIN is an answer); throws only on transport or parse failure. */
export async function query(server: ServerAddress, name: string, type: number, opts: QueryOptions = {}): Promise<DnsMessage> {
  const { recursionDesired, checkingDisabled, exchange: send = exchange, ...transport } = opts;
  const request = buildQuery(name, type, { recursionDesired, checkingDisabled });
  const reply = await send(server, request, transport);
  return parseReply(server, name, type, () => parseMessage(reply));
}

/** `parse()` of a reply to `name type` from `server`; a parse error names the server and the question. */
export function parseReply<T>(server: ServerAddress, name: string, type: number, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof GxitError)) throw error;
    throw new GxitError('DNS_BAD_RESPONSE', `${formatServer(server)} sent a malformed reply to ${name} ${typeName(type)}: ${error.message}`, {
      subject: `server ${formatServer(server)}`,
      fix: error.fix,
      cause: error,
    });
  }
}
