import type * as Acme from 'acme-client';
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
}

export async function placeOrder(client: Acme.Client, domains: string[], extras: OrderExtras = {}): Promise<PlacedOrder> {
  const subject = domains.join(', ');
  let order: Acme.Order;
  let authorizations: Acme.Authorization[];
  try {
    // acme-client sends fields it does not know as they are.
    const request: Parameters<Acme.Client['createOrder']>[0] & OrderExtras = {
      identifiers: domains.map((value) => ({ type: 'dns', value })),
      ...(extras.replaces === undefined ? {} : { replaces: extras.replaces }),
    };
    order = await client.createOrder(request);
    authorizations = await client.getAuthorizations(order);
  } catch (error) {
    throw acmeError('ACME_ORDER', `the CA refused the order for ${subject}`, error, subject);
  }
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

/** Tells the CA that all records are in place, at once, and waits for every authorization. */
export async function answerChallenges(client: Acme.Client, challenges: DnsChallenge[]): Promise<void> {
  await Promise.all(
    challenges.map(async ({ domain, authz, challenge }) => {
      try {
        await client.completeChallenge(challenge);
        await client.waitForValidStatus(authz);
      } catch (error) {
        throw acmeError('ACME_CHALLENGE', `validation of ${domain} failed`, error, domain);
      }
    }),
  );
}

/** Sends the CSR, waits for the order to be valid and downloads the full chain (PEM). */
export async function finalizeOrder(
  client: Acme.Client,
  order: Acme.Order,
  csrPem: Buffer,
  subject: string,
): Promise<string> {
  try {
    const finalized = await client.finalizeOrder(order, csrPem);
    const valid = finalized.status === 'valid' ? finalized : await client.waitForValidStatus(finalized);
    return await client.getCertificate(valid);
  } catch (error) {
    throw acmeError('ACME_FINALIZE', `the CA did not issue the certificate for ${subject}`, error, subject);
  }
}

/**
 * After a failure, pending authorizations are deactivated so they do not linger at the CA
 * (and count against its pending-authorization limit). Best effort: the original error matters.
 */
export async function deactivatePending(client: Acme.Client, authorizations: Acme.Authorization[]): Promise<void> {
  await Promise.allSettled(
    authorizations.filter((a) => a.status === 'pending').map((a) => client.deactivateAuthorization(a)),
  );
}
