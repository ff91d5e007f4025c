import type * as Acme from 'acme-client';
import { describe, expect, it } from 'vitest';
import type { AccountStore } from '../../../src/acme/account.js';
import { currentSlot } from '../../../src/acme/capture.js';
import { orderSession } from '../../../src/acme/session.js';

const P = 'urn:ietf:params:acme:error:';

/** What the capture's interceptor does for an error response: the problem goes into the call's slot. */
function answerWithProblem(name: string, status: number, detail: string): never {
  const slot = currentSlot();
  if (slot) slot.problem = { type: `${P}${name}`, status, detail };
  // acme-client's own error carries the detail only.
  throw new Error(detail);
}

interface Script {
  createOrder: (request: { replaces?: string }, calls: number) => void;
}

function fakeAcme(script: Script) {
  const log: string[] = [];
  let orders = 0;
  class Client {
    constructor(readonly opts: { accountUrl?: string }) {
      log.push(`client ${opts.accountUrl ?? 'without url'}`);
    }
    async createAccount() {
      log.push('createAccount');
    }
    getAccountUrl() {
      return 'https://ca.test/acct/2';
    }
    async createOrder(request: { replaces?: string }) {
      orders++;
      log.push(`createOrder${request.replaces ? ' replaces' : ''}`);
      script.createOrder(request, orders);
      return { status: 'pending' };
    }
    async getAuthorizations() {
      return [];
    }
  }
  const acme = { Client, crypto: { createPrivateEcdsaKey: async () => Buffer.from('KEY') } } as unknown as typeof Acme;
  return { acme, log };
}

function memoryAccounts(url?: string): AccountStore & { saved: string[] } {
  const saved: string[] = [];
  return {
    saved,
    loadAccount: async () => ({ keyPem: 'KEY', ...(url ? { url } : {}) }),
    saveAccountKey: async () => undefined,
    saveAccountUrl: async (_dir, accountUrl) => void saved.push(accountUrl),
  };
}

const opts = { directoryUrl: 'https://ca.test/dir', backoff: { attempts: 1, minMs: 1, maxMs: 1 } };

describe('orderSession', () => {
  it('registers the stored key again when the CA answers accountDoesNotExist, then places the order', async () => {
    const { acme, log } = fakeAcme({
      createOrder: (_request, calls) => {
        if (calls === 1) answerWithProblem('accountDoesNotExist', 400, 'No account by that key');
      },
    });
    const accounts = memoryAccounts('https://ca.test/acct/1');
    const notes: boolean[] = [];
    const session = orderSession(acme, accounts, { ...opts, onAccount: (again) => notes.push(again) });
    const order = await session.place(['a.test'], { signal: new AbortController().signal });
    expect(order.challenges).toEqual([]);
    expect(log).toEqual(['client https://ca.test/acct/1', 'createOrder', 'client without url', 'createAccount', 'createOrder']);
    expect(accounts.saved).toEqual(['https://ca.test/acct/2']);
    expect(notes).toEqual([false, true]);
  });

  it('does not register again for another problem: the error keeps its type', async () => {
    const { acme, log } = fakeAcme({ createOrder: () => answerWithProblem('rateLimited', 429, 'too many') });
    const session = orderSession(acme, memoryAccounts('https://ca.test/acct/1'), opts);
    const error = await session.place(['a.test'], { signal: new AbortController().signal }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ACME_ORDER', problem: { type: `${P}rateLimited`, status: 429 } });
    expect(log.filter((l) => l === 'createAccount')).toEqual([]);
  });

  it.each([
    ['alreadyReplaced', 409],
    ['malformed', 400],
    ['unauthorized', 403],
  ])('orders again without "replaces" when the CA answers %s to it', async (name, status) => {
    const { acme, log } = fakeAcme({
      createOrder: (request) => {
        if (request.replaces) answerWithProblem(name, status, 'not this one');
      },
    });
    const notes: string[] = [];
    const session = orderSession(acme, memoryAccounts('https://ca.test/acct/1'), opts);
    await session.place(['a.test'], { replaces: 'aki.serial', signal: new AbortController().signal, onNote: (t) => notes.push(t) });
    expect(log.slice(1)).toEqual(['createOrder replaces', 'createOrder']);
    expect(notes).toEqual(['the CA refused "replaces": ordering without it']);
  });

  it('keeps "replaces" failures of other kinds as they are', async () => {
    const { acme, log } = fakeAcme({ createOrder: () => answerWithProblem('serverInternal', 500, 'oops') });
    const session = orderSession(acme, memoryAccounts('https://ca.test/acct/1'), opts);
    await expect(session.place(['a.test'], { replaces: 'x', signal: new AbortController().signal })).rejects.toMatchObject({ code: 'ACME_ORDER' });
    expect(log.slice(1)).toEqual(['createOrder replaces']);
  });
});
