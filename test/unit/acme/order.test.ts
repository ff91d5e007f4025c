import type * as Acme from 'acme-client';
import { describe, expect, it } from 'vitest';
import { answerChallenges, type DnsChallenge } from '../../../src/acme/order.js';

function challenge(domain: string): DnsChallenge {
  const dns01 = { type: 'dns-01' as const, url: `https://ca.test/chall/${domain}`, status: 'pending' as const, token: 't' };
  const authz: Acme.Authorization = { identifier: { type: 'dns', value: domain }, status: 'pending', challenges: [dns01], url: `https://ca.test/authz/${domain}` };
  return { domain, authz, challenge: dns01, txtValue: 'v' };
}

describe('answerChallenges', () => {
  it('reports a failed authorization only after the others have settled (no polling of an authorization deactivated meanwhile)', async () => {
    const events: string[] = [];
    const a = challenge('a.test');
    const b = challenge('b.test');
    const client: Pick<Acme.Client, 'completeChallenge' | 'waitForValidStatus'> = {
      completeChallenge: async (c) => c,
      waitForValidStatus: async <T>(item: T): Promise<T> => {
        if (item === a.authz) {
          events.push('a invalid');
          throw new Error('{"status":"invalid"}');
        }
        await new Promise((r) => setTimeout(r, 30));
        events.push('b valid');
        return item;
      },
    };
    const error = await answerChallenges(client, [a, b]).catch((e: unknown) => e);
    events.push('reported');
    expect(error).toMatchObject({ code: 'ACME_CHALLENGE', message: 'validation of a.test failed: {"status":"invalid"}' });
    expect(events).toEqual(['a invalid', 'b valid', 'reported']);
  });
});
