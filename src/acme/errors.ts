import { GxitError, messageOf, type ErrorCode } from '../errors.js';
import { dnssecHint } from './dnssec-hint.js';

/** acme-client reports problems as plain Errors whose message carries the ACME problem document. */
export function acmeError(code: ErrorCode, what: string, error: unknown, subject: string): GxitError {
  if (error instanceof GxitError) return error;
  const text = messageOf(error);
  return new GxitError(code, `${what}: ${describeAcmeProblem(text)}`, {
    subject,
    fix: dnssecHint(text) ?? fixFor(text),
    cause: error,
  });
}

/** Shortens "urn:ietf:params:acme:error:rejectedIdentifier" style text to what a person reads. */
export function describeAcmeProblem(text: string): string {
  if (/reading 'config'/.test(text)) return 'the connection to the ACME server failed';
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > 300 ? `${oneLine.slice(0, 297)}...` : oneLine;
}

function fixFor(text: string): string {
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|timeout|reading 'config'|socket hang up/i.test(text)) {
    return 'check that the ACME server in `server:` is reachable from this machine';
  }
  if (/self[- ]signed|unable to verify|certificate/i.test(text) && /verify|issuer|signed/i.test(text)) {
    return 'the ACME server\'s TLS certificate is not trusted: set ca_bundle to its CA (test CAs only)';
  }
  if (/rateLimited/i.test(text)) return 'the CA rate-limits this account or these names: wait and retry later';
  if (/rejectedIdentifier|caa/i.test(text)) return 'the CA refuses these names: check CAA records and the domain spelling';
  if (/unauthorized|incorrect TXT|dns/i.test(text)) {
    return 'the CA did not see the TXT record: run `gxit-cert check-dns` to find which nameserver lacks it';
  }
  if (/accountDoesNotExist|unauthorized/i.test(text)) return 'the stored ACME account is unknown to this CA';
  return 'run again with --verbose for details';
}
