/**
 * Errors are values: a stable code, the subject they concern (a name, a server, a config key),
 * a message that says what failed and a fix that says what to do. Only the CLI turns them into
 * text and exit codes; no module prints or exits on its own.
 */
export type ErrorKind = 'config' | 'usage' | 'operational';

export type ErrorCode =
  // configuration and usage
  | 'CONFIG_NOT_FOUND'
  | 'CONFIG_UNREADABLE'
  | 'CONFIG_SYNTAX'
  | 'CONFIG_INVALID'
  | 'SECRET_UNAVAILABLE'
  | 'USAGE'
  // DNS
  | 'DNS_TIMEOUT'
  | 'DNS_UNREACHABLE'
  | 'DNS_RCODE'
  | 'DNS_TSIG'
  | 'DNS_BAD_RESPONSE'
  | 'DNS_ZONE_NOT_FOUND'
  | 'DNS_NO_NAMESERVERS'
  | 'DNS_PROPAGATION_TIMEOUT'
  | 'DNS_CNAME_LOOP'
  | 'DNS_PROVIDER'
  | 'DNS_ACCESS_DENIED'
  | 'DNS_CREDENTIALS'
  // ACME
  | 'ACME_ACCOUNT'
  | 'ACME_ORDER'
  | 'ACME_CHALLENGE'
  | 'ACME_FINALIZE'
  | 'ACME_REVOKE'
  // the cluster database
  | 'CLUSTER_DB'
  // storage and process
  | 'STORE_IO'
  | 'LOCKED'
  | 'LOCK_LOST'
  | 'STORE_CONFLICT'
  | 'HOOK_FAILED'
  | 'INTERRUPTED'
  // installation
  | 'NOT_INSTALLED'
  | 'SCHEDULER_MISSING'
  | 'INTERNAL';

export interface ErrorDetails {
  /** What the error is about: a domain name, "server 127.0.0.2:53", a config key. */
  subject?: string;
  /** One sentence telling the user what to check or do. */
  fix?: string;
  /** The underlying error, shown only with --verbose. */
  cause?: unknown;
}

export class GxitError extends Error {
  readonly code: ErrorCode;
  readonly subject?: string;
  readonly fix?: string;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'GxitError';
    this.code = code;
    this.subject = details.subject;
    this.fix = details.fix;
  }

  get kind(): ErrorKind {
    if (this.code === 'USAGE') return 'usage';
    if (this.code.startsWith('CONFIG_') || this.code === 'SECRET_UNAVAILABLE') return 'config';
    return 'operational';
  }
}

export function isGxitError(value: unknown): value is GxitError {
  return value instanceof GxitError;
}

/** The message of any thrown value, for wrapping foreign errors. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
