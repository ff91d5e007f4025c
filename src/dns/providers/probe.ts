import { randomBytes } from 'node:crypto';
import { GxitError, messageOf } from '../../errors.js';
import type { ProbeOptions, ProbeResult, TxtRecord } from '../provider.js';

/** What a provider hands the shared probe routine. */
export interface ProbeSteps {
  /** Finds where the value would go; its text ends up in the result ("in zone example.org"). */
  locate(fqdn: string, signal: AbortSignal): Promise<string>;
  add(record: TxtRecord, signal: AbortSignal): Promise<void>;
  /** Gets a signal of its own: the value is removed also after the run's signal fired. */
  remove(record: TxtRecord, signal: AbortSignal): Promise<void>;
  /** How the provider writes, for the result ("via 127.0.0.2:53 with key k"). */
  how: string;
}

/** A unique value, so a probe never touches anything but itself. */
export function probeRecord(fqdn: string): TxtRecord {
  return { fqdn, value: `gxit-cert-probe-${randomBytes(8).toString('hex')}` };
}

/**
 * check-dns's write probe, the same for every provider: add a unique value, let the caller look at
 * it, and always remove it again, also when adding seemed to fail (a lost answer may hide an
 * applied change), when the caller's look throws and when the run is interrupted.
 */
export async function runProbe(fqdn: string, steps: ProbeSteps, opts: ProbeOptions): Promise<ProbeResult> {
  const record = probeRecord(fqdn);
  let where: string;
  try {
    where = await steps.locate(record.fqdn, opts.signal);
  } catch (error) {
    return failed(error);
  }
  const what = `TXT "${record.value}" at ${record.fqdn} ${where} ${steps.how}`;
  try {
    await opts.beforeAdd?.(record);
  } catch (error) {
    return failed(error);
  }
  let added = false;
  let failure: unknown;
  let leftover: unknown;
  try {
    await steps.add(record, opts.signal);
    added = true;
    await opts.whilePresent?.(record);
  } catch (error) {
    failure = error;
  } finally {
    try {
      await steps.remove(record, new AbortController().signal);
    } catch (error) {
      leftover = error;
    }
  }
  if (leftover === undefined) {
    try {
      await opts.afterRemove?.(record);
    } catch (error) {
      failure ??= error;
    }
  }
  if (leftover !== undefined) {
    return {
      ok: false,
      detail: `added ${what} but could not remove it: ${messageOf(leftover)}`,
      // A journaled probe (afterRemove given) stays in the journal and the next run removes it.
      fix: opts.afterRemove !== undefined
        ? `nothing to do by hand: the value stays in the DNS journal and the next issue, renew or check-dns run removes it${leftover instanceof GxitError && leftover.fix ? ` (${leftover.fix})` : ''}`
        : `remove TXT "${record.value}" at ${record.fqdn} by hand${leftover instanceof GxitError && leftover.fix ? ` (${leftover.fix})` : ''}`,
    };
  }
  if (failure !== undefined) return failed(failure, added ? `added and removed ${what}, but ` : '');
  return { ok: true, detail: `added and removed ${what}` };
}

function failed(error: unknown, prefix = ''): ProbeResult {
  return { ok: false, detail: `${prefix}${messageOf(error)}`, ...(error instanceof GxitError && error.fix ? { fix: error.fix } : {}) };
}
