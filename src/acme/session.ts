/**
 * The ACME side of one run, as the flow sees it: an account opened on first use, and orders placed,
 * validated and finalized under the run's AbortSignal. Recovery decided by problem type:
 * - accountDoesNotExist: the CA forgot the account (a restarted test CA): register the stored key
 *   again and repeat the request once.
 * - alreadyReplaced, or a refused `replaces`: `replaces` is a hint for the CA's rate limits, not a
 *   condition, so the order is placed again without it.
 */
import type * as Acme from 'acme-client';
import type { EabConfig, KeyType } from '../config/types.js';
import { openAccount, type AccountStore } from './account.js';
import { callAcme } from './capture.js';
import { AcmeError, problemKindOf } from './errors.js';
import { checkProfile, offeredProfiles } from './profiles.js';
import { createCertificateKey, createCsr } from './keys.js';
import { ORDER_REQUEST_LIMIT, requestBudget, withBudget, type RequestBudget, type RetryPolicy } from './retry.js';
import { answerChallenges, deactivatePending, finalizeOrder, placeOrder, type PlacedOrder } from './order.js';

/** A placed order as the flow sees it: the TXT values to publish, per SAN. */
export interface OrderHandle {
  readonly challenges: readonly { readonly domain: string; readonly txtValue: string }[];
}

export interface OrderSession {
  /** Place an order; `onNote` tells about recoveries ("registering the account again"). */
  place(domains: string[], opts: { replaces?: string; profile?: string; signal: AbortSignal; onNote?: (text: string) => void }): Promise<OrderHandle>;
  /** Tell the CA the records are in place and wait until every authorization is valid. */
  validate(order: OrderHandle, signal: AbortSignal): Promise<void>;
  /** A new key (or `reuseKeyPem`, reuse_key) and its CSR (no network). */
  keyAndCsr(keyType: KeyType, domains: string[], reuseKeyPem?: string): Promise<{ keyPem: string; csr: Buffer }>;
  /** The full chain (PEM): the default one, or the alternate whose root is `preferredChain`. */
  finalize(order: OrderHandle, csr: Buffer, subject: string, signal: AbortSignal, preferredChain?: string): Promise<string>;
  /** Deactivate what is still pending (best effort, bounded on its own). */
  abandon(order: OrderHandle): Promise<void>;
}

export interface SessionOptions {
  directoryUrl: string;
  email?: string;
  eab?: EabConfig;
  backoff: { attempts: number; minMs: number; maxMs: number };
  onAccount?: (reRegister: boolean) => void;
  retry?: RetryPolicy;
}

/** True when the CA refused `replaces` (RFC 9773 §5: alreadyReplaced, or a 4xx naming the field as malformed). */
export function isReplacesRefusal(error: unknown): boolean {
  const kind = problemKindOf(error);
  if (kind === 'alreadyReplaced') return true;
  // Let's Encrypt answers another account's `replaces` with 403 unauthorized, others with malformed.
  return (kind === 'malformed' || kind === 'unauthorized') && error instanceof AcmeError && error.problem?.status !== undefined && error.problem.status < 500;
}

export function orderSession(acme: typeof Acme, store: AccountStore, opts: SessionOptions): OrderSession {
  let client: Promise<Acme.Client> | undefined;
  const open = (reRegister: boolean, signal: AbortSignal): Promise<Acme.Client> => {
    opts.onAccount?.(reRegister);
    const opened = openAccount(acme, store, {
      directoryUrl: opts.directoryUrl,
      ...(opts.email === undefined ? {} : { email: opts.email }),
      ...(opts.eab === undefined ? {} : { eab: opts.eab }),
      backoff: opts.backoff,
      reRegister,
      signal,
      ...(opts.retry === undefined ? {} : { retry: opts.retry }),
    });
    client = opened;
    // A failed opening is not cached: the next lineage tries again.
    opened.catch(() => {
      if (client === opened) client = undefined;
    });
    return opened;
  };
  const account = (signal: AbortSignal): Promise<Acme.Client> => client ?? open(false, signal);

  /** Run `work` with the account; once more after registering again when the CA forgot it. */
  const withAccount = async <T>(signal: AbortSignal, work: (c: Acme.Client) => Promise<T>): Promise<T> => {
    const current = await account(signal);
    try {
      return await work(current);
    } catch (error) {
      if (problemKindOf(error) !== 'accountDoesNotExist') throw error;
      return work(await open(true, signal));
    }
  };
  // Every request of one order (place, validate, finalize) counts against one budget.
  const placedOf = new WeakMap<OrderHandle, { placed: PlacedOrder; client: Acme.Client; budget: RequestBudget }>();
  const bound = (order: OrderHandle): { placed: PlacedOrder; client: Acme.Client; budget: RequestBudget } => {
    const found = placedOf.get(order);
    if (found === undefined) throw new Error('order placed by another session');
    return found;
  };

  let profiles: Promise<string[]> | undefined;
  /** The profiles the directory offers, fetched once per session (a failed fetch is tried again). */
  const offered = (): Promise<string[]> => {
    const fetched = (profiles ??= callAcme({ code: 'ACME_ORDER', what: `could not read the directory of ${opts.directoryUrl}`, subject: opts.directoryUrl }, async () =>
      offeredProfiles((await acme.axios.get<unknown>(opts.directoryUrl)).data),
    ));
    fetched.catch(() => {
      if (profiles === fetched) profiles = undefined;
    });
    return fetched;
  };

  return {
    async place(domains, { replaces, profile, signal, onNote }) {
      if (profile !== undefined) checkProfile(profile, await offered(), opts.directoryUrl, domains[0] ?? 'profile');
      const budget = requestBudget('ACME_ORDER', `the order for ${domains.join(', ')}`, domains.join(', '), ORDER_REQUEST_LIMIT);
      const attempt = (extras: { replaces?: string }) =>
        withBudget(budget, () =>
          withAccount(signal, async (c) => {
            const placed = await placeOrder(c, domains, { ...extras, ...(profile === undefined ? {} : { profile }) }, signal);
            const order: OrderHandle = { challenges: placed.challenges.map(({ domain, txtValue }) => ({ domain, txtValue })) };
            placedOf.set(order, { placed, client: c, budget });
            return order;
          }),
        );
      if (replaces === undefined) return attempt({});
      try {
        return await attempt({ replaces });
      } catch (error) {
        if (!isReplacesRefusal(error)) throw error;
        onNote?.('the CA refused "replaces": ordering without it');
        return attempt({});
      }
    },
    validate: (order, signal) => {
      const { placed, client: c, budget } = bound(order);
      return withBudget(budget, () => answerChallenges(c, placed.challenges, signal));
    },
    async keyAndCsr(keyType, domains, reuseKeyPem) {
      const key = reuseKeyPem === undefined ? await createCertificateKey(acme, keyType) : Buffer.from(reuseKeyPem);
      return { keyPem: key.toString(), csr: await createCsr(acme, domains, key) };
    },
    finalize: (order, csr, subject, signal, preferredChain) => {
      const { placed, client: c, budget } = bound(order);
      return withBudget(budget, () => finalizeOrder(c, placed.order, csr, subject, signal, preferredChain));
    },
    abandon: (order) => {
      const { placed, client: c } = bound(order);
      return deactivatePending(c, placed.authorizations);
    },
  };
}
