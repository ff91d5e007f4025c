import type * as Acme from 'acme-client';
import { callAcme } from './capture.js';
import { acmeError } from './errors.js';

/** One DNS-01 challenge of an order: the identifier, and the TXT value the CA will look for. */
export interface DnsChallenge {
  /** The SAN as ordered ("*.x" for a wildcard). */
  domain: string;
  authz: Acme.Authorization;
  challenge: Acme.Authorization['challenges'][number];
  /** base64url(SHA-256(key authorization)), RFC 8555 §8.4. */
  txtValue: string;
}

export interface PlacedOrder {
  order: Acme.Order;
  /** Challenges still to answer; authorizations the CA already holds as valid need none. */
  challenges: DnsChallenge[];
  authorizations: Acme.Authorization[];
}

/** The SAN an authorization is for: wildcard authorizations carry the base name and a flag. */
export function sanOf(authz: Acme.Authorization): string {
  return authz.wildcard ? `*.${authz.identifier.value}` : authz.identifier.value;
}

/** Order fields beyond RFC 8555: `replaces` (RFC 9773 §5), the ARI identifier of the certificate renewed. */
export interface OrderExtras {
  replaces?: string;
  /** An ACME profile the CA offers (checked by the session against the directory). */
  profile?: string;
}

export async function placeOrder(
  client: Acme.Client,
  domains: string[],
  extras: OrderExtras = {},
  signal?: AbortSignal,
): Promise<PlacedOrder> {
  const subject = domains.join(', ');
  // acme-client sends fields it does not know as they are.
  const request: Parameters<Acme.Client['createOrder']>[0] & OrderExtras = {
    identifiers: domains.map((value) => ({ type: 'dns', value })),
    ...(extras.replaces === undefined ? {} : { replaces: extras.replaces }),
    ...(extras.profile === undefined ? {} : { profile: extras.profile }),
  };
  const context = { code: 'ACME_ORDER' as const, what: `the CA refused the order for ${subject}`, subject, ...(signal ? { signal } : {}) };
  const { order, authorizations } = await callAcme(context, async () => {
    const created = await client.createOrder(request);
    return { order: created, authorizations: await client.getAuthorizations(created) };
  });
  const challenges: DnsChallenge[] = [];
  for (const authz of authorizations) {
    if (authz.status === 'valid') continue;
    const challenge = authz.challenges.find((c) => c.type === 'dns-01');
    if (!challenge) {
      throw acmeError('ACME_ORDER', `the CA offers no dns-01 challenge for ${sanOf(authz)}`, 'no dns-01', sanOf(authz));
    }
    const txtValue = await client.getChallengeKeyAuthorization(challenge);
    challenges.push({ domain: sanOf(authz), authz, challenge, txtValue });
  }
  return { order, challenges, authorizations };
}

/**
 * Tells the CA that all records are in place, at once, and waits for every authorization. A failure
 * is reported once every authorization has settled: deactivating the others right away (what the
 * caller does next) would leave acme-client polling a deactivated one until its retries run out.
 */
export async function answerChallenges(client: Pick<Acme.Client, 'completeChallenge' | 'waitForValidStatus'>, challenges: DnsChallenge[], signal?: AbortSignal): Promise<void> {
  const settled = await Promise.allSettled(
    challenges.map(({ domain, authz, challenge }) =>
      callAcme({ code: 'ACME_CHALLENGE', what: `validation of ${domain} failed`, subject: domain, ...(signal ? { signal } : {}) }, async () => {
        await client.completeChallenge(challenge);
        await client.waitForValidStatus(authz);
      }),
    ),
  );
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Sends the CSR, waits for the order to be valid and downloads the full chain (PEM). */
export async function finalizeOrder(
  client: Acme.Client,
  order: Acme.Order,
  csrPem: Buffer,
  subject: string,
  signal?: AbortSignal,
  preferredChain?: string,
): Promise<string> {
  const context = { code: 'ACME_FINALIZE' as const, what: `the CA did not issue the certificate for ${subject}`, subject, ...(signal ? { signal } : {}) };
  return callAcme(context, async () => {
    const finalized = await client.finalizeOrder(order, csrPem);
    const valid = finalized.status === 'valid' ? finalized : await client.waitForValidStatus(finalized);
    // With a preferred chain, acme-client fetches the alternates (Link: rel="alternate") and takes the
    // chain in which that issuer name is closest to the root; none matching: the default chain.
    return preferredChain === undefined ? client.getCertificate(valid) : client.getCertificate(valid, preferredChain);
  });
}

/**
 * After a failure, pending authorizations are deactivated so they do not linger at the CA
 * (and count against its pending-authorization limit). Best effort: the original error matters.
 */
export async function deactivatePending(client: Acme.Client, authorizations: Acme.Authorization[]): Promise<void> {
  // Under a fresh bounded signal: this also runs after an interrupt.
  const signal = AbortSignal.timeout(10_000);
  const context = { code: 'ACME_ORDER' as const, what: 'deactivating an authorization', subject: 'authorization', signal };
  await Promise.allSettled(
    authorizations.filter((a) => a.status === 'pending').map((a) => callAcme(context, () => client.deactivateAuthorization(a))),
  );
}
