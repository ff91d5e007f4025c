/**
 * ACME errors by their RFC 8555 §6.7 problem type (captured from the response by capture.ts), and
 * transport failures by their socket/TLS code. Nothing here looks at message text, except that the
 * CA's detail is searched for DNSSEC/SERVFAIL to point at check-dns (dnssec-hint.ts).
 */
import { GxitError, messageOf, type ErrorCode } from '../errors.js';
import { dnssecHint } from './dnssec-hint.js';

const PROBLEM_PREFIX = 'urn:ietf:params:acme:error:';

export interface AcmeProblem {
  /** The full type URN, e.g. urn:ietf:params:acme:error:rateLimited ("about:blank" when absent). */
  type: string;
  /** The HTTP status of the response. */
  status: number;
  detail?: string;
  subproblems?: { type: string; detail?: string; identifier?: { type: string; value: string } }[];
  /** Seconds from the Retry-After header (RFC 8555 §6.6), when the CA sent one. */
  retryAfterSeconds?: number;
}

export interface TransportFailure {
  /** ECONNREFUSED, ENOTFOUND, UNABLE_TO_VERIFY_LEAF_SIGNATURE, ECONNABORTED (timeout), ... */
  code: string;
  message: string;
  /** The request was stopped by the run's AbortSignal. */
  aborted: boolean;
  cause?: unknown;
}

/** What a problem means for the flow. */
export type AcmeProblemKind =
  | 'accountDoesNotExist'
  | 'alreadyReplaced'
  | 'alreadyRevoked'
  | 'rateLimited'
  | 'badNonce'
  | 'unauthorized'
  | 'rejectedIdentifier'
  | 'caa'
  | 'dns'
  | 'externalAccountRequired'
  | 'malformed'
  | 'serverInternal'
  | 'other';

const KINDS: ReadonlySet<string> = new Set([
  'accountDoesNotExist',
  'alreadyReplaced',
  'alreadyRevoked',
  'rateLimited',
  'badNonce',
  'unauthorized',
  'rejectedIdentifier',
  'caa',
  'dns',
  'externalAccountRequired',
  'malformed',
  'serverInternal',
]);

/** The kind of a problem, from its type URN only. */
export function classifyAcmeProblem(problem: Pick<AcmeProblem, 'type'>): AcmeProblemKind {
  if (!problem.type.startsWith(PROBLEM_PREFIX)) return 'other';
  const name = problem.type.slice(PROBLEM_PREFIX.length);
  return KINDS.has(name) ? (name as AcmeProblemKind) : 'other';
}

export type TransportKind = 'untrusted-certificate' | 'refused' | 'not-found' | 'timeout' | 'reset' | 'aborted' | 'other';

const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function isUntrustedCertificate(code: string): boolean {
  return UNTRUSTED.has(code);
}

export function classifyTransport(failure: TransportFailure): TransportKind {
  if (failure.aborted) return 'aborted';
  if (isUntrustedCertificate(failure.code)) return 'untrusted-certificate';
  switch (failure.code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'not-found';
    case 'ETIMEDOUT':
    case 'ECONNABORTED':
      return 'timeout';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'reset';
    default:
      return 'other';
  }
}

/** The problem document of an error response, or undefined when the body is not one. */
export function parseProblem(status: number, data: unknown, retryAfter: unknown): AcmeProblem | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const body = data as { type?: unknown; detail?: unknown; subproblems?: unknown };
  if (typeof body.type !== 'string' && typeof body.detail !== 'string') return undefined;
  const seconds = retryAfterSeconds(retryAfter);
  const subproblems = Array.isArray(body.subproblems)
    ? body.subproblems.flatMap((sub: unknown) => {
        if (typeof sub !== 'object' || sub === null) return [];
        const s = sub as { type?: unknown; detail?: unknown; identifier?: unknown };
        if (typeof s.type !== 'string') return [];
        const id = s.identifier as { type?: unknown; value?: unknown } | undefined;
        const identifier = typeof id?.type === 'string' && typeof id.value === 'string' ? { type: id.type, value: id.value } : undefined;
        return [{ type: s.type, ...(typeof s.detail === 'string' ? { detail: s.detail } : {}), ...(identifier ? { identifier } : {}) }];
      })
    : undefined;
  return {
    type: typeof body.type === 'string' ? body.type : 'about:blank',
    status,
    ...(typeof body.detail === 'string' ? { detail: body.detail } : {}),
    ...(subproblems === undefined || subproblems.length === 0 ? {} : { subproblems }),
    ...(seconds === undefined ? {} : { retryAfterSeconds: seconds }),
  };
}

/** Retry-After: delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterSeconds(value: unknown, nowMs = Date.now()): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

export interface AcmeFailureFacts {
  problem?: AcmeProblem;
  transport?: TransportFailure;
  aborted?: boolean;
}

/** A failed ACME call, with the fields it was classified on. */
export class AcmeError extends GxitError {
  readonly problem?: AcmeProblem;
  readonly transport?: TransportFailure;

  constructor(code: ErrorCode, message: string, details: { subject: string; fix: string; cause: unknown }, facts: AcmeFailureFacts) {
    super(code, message, details);
    this.name = 'AcmeError';
    if (facts.problem !== undefined) this.problem = facts.problem;
    if (facts.transport !== undefined) this.transport = facts.transport;
  }

  /** The problem kind, or undefined for a transport failure / no problem document. */
  get problemKind(): AcmeProblemKind | undefined {
    return this.problem === undefined ? undefined : classifyAcmeProblem(this.problem);
  }
}

/** The ACME problem kind of any error (undefined when it carries none). */
export function problemKindOf(error: unknown): AcmeProblemKind | undefined {
  return error instanceof AcmeError ? error.problemKind : undefined;
}

/**
 * The error of a failed ACME call. `facts` are what the interceptors captured; the original error
 * (acme-client's own, maybe the `reading 'config'` TypeError) stays as the cause for --verbose.
 */
export function acmeError(code: ErrorCode, what: string, error: unknown, subject: string, facts: AcmeFailureFacts = {}): GxitError {
  if (error instanceof GxitError) return error;
  if (facts.aborted === true || facts.transport?.aborted === true) {
    return new GxitError('INTERRUPTED', `${what}: interrupted`, { subject, fix: 'run the command again', cause: error });
  }
  // Without the capture installed (check-dns's own client), a transport error still carries its code.
  const transport = facts.transport ?? ownTransport(error);
  const cause = transport?.cause ?? error;
  if (transport !== undefined && facts.problem === undefined) {
    const { text, fix } = describeTransport(transport);
    return new AcmeError(code, `${what}: ${text}`, { subject, fix, cause }, { ...facts, transport });
  }
  if (facts.problem !== undefined) {
    const { problem } = facts;
    const detail = oneLine(problem.detail ?? problem.type);
    const subs = (problem.subproblems ?? []).map((s) => `${s.identifier?.value ?? ''}: ${oneLine(s.detail ?? s.type)}`);
    const text = subs.length > 0 ? `${detail} (${subs.join('; ')})` : detail;
    return new AcmeError(code, `${what}: ${text}`, { subject, fix: dnssecHint(text) ?? fixForProblem(problem), cause }, facts);
  }
  // An invalid authorization comes as its JSON text: the CA's SERVFAIL or DNSSEC detail is only there.
  return new AcmeError(code, `${what}: ${oneLine(messageOf(error))}`, { subject, fix: dnssecHint(messageOf(error)) ?? 'run again with --verbose for details', cause }, facts);
}

/** A thrown error that is itself a transport failure: it has a socket/TLS code (not axios's ERR_*). */
function ownTransport(error: unknown): TransportFailure | undefined {
  if (!(error instanceof Error) || !('code' in error) || typeof error.code !== 'string' || error.code.startsWith('ERR_BAD_')) return undefined;
  return { code: error.code, message: error.message, aborted: false, cause: error };
}

function describeTransport(failure: TransportFailure): { text: string; fix: string } {
  const reach = 'check that the ACME server in `server:` is reachable from this machine';
  switch (classifyTransport(failure)) {
    case 'untrusted-certificate':
      return {
        text: `the ACME server's certificate is not trusted (${failure.code})`,
        fix: "set ca_bundle to the PEM file of the CA that signed the ACME server's certificate (test CAs only)",
      };
    case 'refused':
      return { text: 'the connection to the ACME server was refused (ECONNREFUSED)', fix: reach };
    case 'not-found':
      return { text: `the ACME server's host name does not resolve (${failure.code})`, fix: 'check the host name in `server:` and this machine\'s DNS' };
    case 'timeout':
      return { text: `the ACME server did not answer in time (${failure.code})`, fix: reach };
    case 'reset':
      return { text: `the ACME server closed the connection (${failure.code})`, fix: reach };
    case 'aborted':
      return { text: 'interrupted', fix: 'run the command again' };
    case 'other':
      return { text: `the request to the ACME server failed: ${oneLine(failure.message)} (${failure.code})`, fix: reach };
  }
}

function fixForProblem(problem: AcmeProblem): string {
  switch (classifyAcmeProblem(problem)) {
    case 'rateLimited': {
      const after = problem.retryAfterSeconds === undefined ? 'later' : `in ${problem.retryAfterSeconds} s`;
      return `the CA rate-limits this account or these names: retry ${after}`;
    }
    case 'rejectedIdentifier':
      return 'the CA refuses these names: check the domain spelling and the CA\'s policy';
    case 'caa':
      return 'a CAA record forbids this CA: run `gxit-cert check-dns` to see which one';
    case 'unauthorized':
    case 'dns':
      return 'the CA did not see the TXT record: run `gxit-cert check-dns` to find which nameserver lacks it';
    case 'accountDoesNotExist':
      return 'the stored ACME account is unknown to this CA: run issue again to register it';
    case 'externalAccountRequired':
      return 'this CA needs external account binding: add eab: with the kid: and hmac_key_file: your CA gave you';
    case 'badNonce':
    case 'serverInternal':
      return 'the CA had a transient problem: run again';
    default:
      return 'run again with --verbose for details';
  }
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}
