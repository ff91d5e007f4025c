/**
 * What a failed UPDATE means and what to do about it: one message and one fix per rcode or
 * TSIG error. Pure; no secret is ever passed in, so none can end up in a message.
 */
import type { ServerAddress, TsigAlgorithm } from '../config/types.js';
import { GxitError } from '../errors.js';
import { RCode, rcodeName } from './message.js';
import { formatServer } from './resolver.js';
import type { VerifyFailure } from './tsig.js';

export interface UpdateFailure {
  /** Header rcode of the reply. */
  rcode: number;
  /** TSIG error field of the reply's TSIG record, when non-zero. */
  tsigError?: number;
  server: ServerAddress;
  zone: string;
  /** Absent when updates are authorized by address only. */
  keyName?: string;
  algorithm?: TsigAlgorithm;
  /** Owner names the update touched. */
  names: string[];
  /** What was sent, for the message: "the update" unless said otherwise ("a signed query"). */
  operation?: string;
}

function list(names: string[]): string {
  const unique = [...new Set(names)];
  return unique.length === 0 ? 'the challenge names' : unique.join(', ');
}

export function describeUpdateFailure(f: UpdateFailure): GxitError {
  const server = formatServer(f.server);
  const subject = `zone ${f.zone} at server ${server}`;
  const key = f.keyName ? `key ${f.keyName}` : 'no TSIG key';
  const grantee = f.keyName ? `key ${f.keyName}` : "this machine's address";
  const tsig = (message: string, fix: string): GxitError =>
    new GxitError('DNS_TSIG', `server ${server} rejected ${f.operation ?? 'the update'} for zone ${f.zone}: ${message}`, { subject, fix });
  const rcode = (message: string, fix: string): GxitError =>
    new GxitError('DNS_RCODE', `server ${server} ${message} (${rcodeName(f.rcode)})`, { subject, fix });

  // A TSIG error comes with rcode NOTAUTH; the TSIG error is the precise reason.
  switch (f.tsigError ?? 0) {
    case 0:
      break;
    case RCode.BADSIG:
      return tsig(
        `the TSIG secret does not match the server's ${key} (BADSIG)`,
        `check dns.rfc2136.secret: it must be the secret of key ${f.keyName ?? '?'} in the server's configuration, with the same algorithm`,
      );
    case RCode.BADKEY:
      return tsig(
        `the server does not know ${key}${f.algorithm ? ` with algorithm ${f.algorithm}` : ''} (BADKEY)`,
        'check the TSIG key name and algorithm in dns.rfc2136 against the key statement on the server, and that the zone references that key',
      );
    case RCode.BADTIME:
      return tsig(
        'the clocks of this machine and the server differ by more than the TSIG fudge (BADTIME)',
        'check NTP (time synchronization) on this machine and on the DNS server',
      );
    case RCode.BADTRUNC:
      return tsig('the server rejected a truncated MAC (BADTRUNC)', 'check the TSIG algorithm configured for this key');
    case RCode.BADALG:
      return tsig(`the server does not support the TSIG algorithm${f.algorithm ? ` ${f.algorithm}` : ''} (BADALG)`, 'use hmac-sha256 or another algorithm the server supports');
    default:
      return tsig(`TSIG error ${rcodeName(f.tsigError ?? 0)}`, "check the TSIG key settings in dns.rfc2136 and the server's log");
  }

  switch (f.rcode) {
    case RCode.REFUSED:
      return rcode(
        `refused the update for zone ${f.zone}${f.keyName ? ` signed with key ${f.keyName}` : ''}`,
        `check that the zone's update-policy (or allow-update) grants ${grantee} TXT updates at ${list(f.names)}` +
          (f.keyName ? ", and that the key's secret and algorithm match the server's (PowerDNS answers REFUSED to a wrong secret)" : ''),
      );
    case RCode.NOTAUTH:
      return rcode(
        `is not authoritative for zone ${f.zone}${f.keyName ? `, or key ${f.keyName} is not authorized for it` : ''}`,
        `point dns.rfc2136.server at the primary server of ${f.zone} (a secondary cannot take updates) and check that the zone allows ${grantee} to update`,
      );
    case RCode.NOTZONE:
      return rcode(
        `says ${list(f.names)} is not inside zone ${f.zone}`,
        'remove dns.rfc2136.zone so the zone of each name is found, or set it to the zone that holds these names',
      );
    case RCode.SERVFAIL:
      return rcode(
        `failed to apply the update to zone ${f.zone}`,
        "check the server's log: often the zone file or its journal is not writable, or the zone did not load",
      );
    case RCode.FORMERR:
      return rcode(`could not parse the update for zone ${f.zone}`, "check the server's log; the server may not support dynamic updates");
    case RCode.NOTIMP:
      return rcode(
        'does not implement dynamic updates (RFC 2136)',
        `enable updates for ${f.zone} on the server (update-policy or allow-update), or use a server that supports them`,
      );
    case RCode.YXDOMAIN:
    case RCode.YXRRSET:
    case RCode.NXRRSET:
    case RCode.NXDOMAIN:
      return rcode(
        `rejected the update for zone ${f.zone} on a prerequisite, though none was sent`,
        "check the server's log; a proxy or filter in front of the server may be rewriting updates",
      );
    default:
      return rcode(`rejected the update for zone ${f.zone}`, "check the server's log");
  }
}

export interface UnverifiedReply {
  reason: VerifyFailure;
  detail: string;
  rcode: number;
  server: ServerAddress;
  zone: string;
  keyName: string;
  /** What the reply answered, for the message: "the update" unless said otherwise. */
  operation?: string;
}

/** Our own check of the reply's signature failed: the reply may be forged, so it proves nothing. */
export function describeUnverifiedReply(u: UnverifiedReply): GxitError {
  const server = formatServer(u.server);
  const status = u.rcode === 0 ? '' : ` (it answered ${rcodeName(u.rcode)})`;
  const what: Record<VerifyFailure, string> = {
    unsigned: 'is not signed',
    malformed: 'has a malformed TSIG record',
    badkey: `is not signed with key ${u.keyName}`,
    badsig: 'has a signature that does not verify with our secret',
    badtime: "was signed at a time outside the fudge of this machine's clock",
    badtrunc: 'has a MAC that is too short',
    error: 'carries a TSIG error',
  };
  return new GxitError('DNS_TSIG', `the reply of ${server} to ${u.operation ?? 'the update'} for zone ${u.zone} ${what[u.reason]}${status}: ${u.detail}`, {
    subject: `zone ${u.zone} at server ${server}`,
    fix:
      u.reason === 'badtime'
        ? 'check NTP (time synchronization) on this machine and on the DNS server'
        : `check that ${server} is the server holding key ${u.keyName}, and that nothing between here and there alters DNS messages`,
  });
}
