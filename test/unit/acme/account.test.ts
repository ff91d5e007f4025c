/** openAccount when another run (another cluster node) stores the account key first. */
import * as acme from 'acme-client';
import { describe, expect, it } from 'vitest';
import { openAccount, type AccountStore } from '../../../src/acme/account.js';
import { GxitError } from '../../../src/errors.js';

const DIRECTORY = 'https://ca.test/dir';
const OPTS = { directoryUrl: DIRECTORY, backoff: { attempts: 1, minMs: 1, maxMs: 1 } };

describe('openAccount', () => {
  it('takes the key another run stored first instead of failing', async () => {
    const winner = (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
    let loads = 0;
    const store: AccountStore = {
      async loadAccount() {
        loads++;
        return loads === 1 ? undefined : { keyPem: winner, url: 'https://ca.test/acct/1' };
      },
      async saveAccountKey() {
        throw new GxitError('STORE_IO', 'an account key for https://ca.test/dir already exists');
      },
      async saveAccountUrl() {
        throw new Error('the account is registered already: no URL to save');
      },
    };
    const client = await openAccount(acme, store, OPTS);
    expect(loads).toBe(2);
    expect(client.getAccountUrl()).toBe('https://ca.test/acct/1');
  });

  it('still fails when the key could not be stored and none is there', async () => {
    const store: AccountStore = {
      loadAccount: async () => undefined,
      saveAccountKey: async () => {
        throw new GxitError('STORE_IO', 'cannot write the account key');
      },
      saveAccountUrl: async () => undefined,
    };
    await expect(openAccount(acme, store, OPTS)).rejects.toMatchObject({ code: 'STORE_IO', message: 'cannot write the account key' });
  });
});
