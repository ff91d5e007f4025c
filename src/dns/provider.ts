/**
 * The seam every DNS provider plugs into (lego's Present/CleanUp contract). It lives in the DNS core,
 * not in src/dns/providers, so the core (propagation, check-dns) and the providers both use it and the
 * providers depend on the core, never the other way round.
 *
 * A provider only writes. Whether the records are visible is decided elsewhere
 * (dns/propagation.ts asks every authoritative nameserver), so a provider MUST NOT sleep
 * or poll public resolvers itself; it MAY wait for its own API to report the change as
 * applied (Route53's GetChange).
 *
 * Cancellation: every call takes the run's AbortSignal. When it fires, the provider MUST stop retrying
 * and waiting at once and reject (with the signal's reason or an error saying it was interrupted). It
 * MUST pass the signal on to every request it makes (sockets closed, HTTP requests aborted). A request
 * already on the wire may still be applied by the server: the caller therefore calls cleanup for every
 * record it asked present to add, and cleanup is called with a signal that is not yet aborted.
 */
export interface TxtRecord {
  /** Owner name to write at, lower case, no trailing dot (after CNAME delegation is followed). */
  fqdn: string;
  /** The exact TXT value; base and wildcard challenges share an fqdn and differ by value. */
  value: string;  /**
   * The domain this value validates, as ordered ("*.x" for a wildcard). Set for challenges; absent
   * for probes and replays. Providers whose contract names the domain (certbot hooks) use it.
   */
  domain?: string;
}

export interface ProbeResult {
  ok: boolean;
  /** What was tried, for check-dns output. */
  detail: string;
  /** When not ok: what to do, in one sentence. */
  fix?: string;
  /**
   * The probe value stays by design (acme-dns keeps the two latest values and has no delete):
   * check-dns does not expect the nameservers to drop it.
   */
  retained?: boolean;
}

export interface ProbeOptions {
  /** The run's signal; adding stops when it fires, removing the probe value still happens. */
  signal: AbortSignal;
  /**
   * Called once the probe value is in place, before it is removed (check-dns asks the authoritative
   * nameservers here). The provider MUST remove the value after it settles, also when it throws.
   */
  whilePresent?(record: TxtRecord): Promise<void>;
  /**
   * Called with the probe value before it is sent (the run journals it there, so a crash mid-probe
   * leaves it for the next run); when it throws, nothing is sent. A provider MUST call it.
   */
  beforeAdd?(record: TxtRecord): Promise<void>;
  /** Called once the probe value was removed (or never written); the run clears its journal entry. */
  afterRemove?(record: TxtRecord): Promise<void>;
}

export interface DnsProvider {
  /** The provider's name as written in dns.provider (its descriptor's name). */
  readonly name: string;
  /**
   * Where it writes, in one line without secrets (servers, zone, key name; a hosted zone): the
   * journal records it so a later run can tell whether the configured provider still reaches the
   * records an earlier run wrote. Defaults to the name.
   */
  readonly identity?: string;
  /**
   * Add all records, in as few requests as the API allows (one per zone).
   * MUST keep every existing value at the same names (foreign values, sibling challenges).
   * On failure it MUST leave nothing of this batch behind, or throw after the caller can clean up.
   */
  present(records: TxtRecord[], signal: AbortSignal): Promise<void>;
  /**
   * Remove exactly these values and nothing else. MUST be safe to call for records that were
   * never added or are already gone (cleanup after a partial failure), and safe to repeat.
   */
  cleanup(records: TxtRecord[], signal: AbortSignal): Promise<void>;
  /**
   * Remove exactly these values, which an earlier run (another process) may have added: unlike
   * cleanup, the provider has no memory of them. Same rules as cleanup. When absent, cleanup is
   * used: a provider whose cleanup only removes what this instance added MUST implement it.
   */
  removeLeftovers?(records: TxtRecord[], signal: AbortSignal): Promise<void>;
  /**
   * For check-dns: can we write at this name? Adds a unique probe value, runs opts.whilePresent,
   * and removes the value again whatever happened; never leaves it behind without saying so.
   */
  probe?(fqdn: string, opts: ProbeOptions): Promise<ProbeResult>;
  /**
   * Before an order is placed: throws when this provider cannot take these domains in one order
   * (acme-dns keeps two values per subdomain), so that nothing is ordered in vain.
   */
  checkOrder?(certificate: string, domains: string[]): void;
}
