/**
 * The obligations of the Store contract (src/store/contract.ts) as tests, for any backend: the file
 * store runs them in contract.test.ts; another backend calls storeContractSuite with its own factory.
 */
import { describe, expect, it } from 'vitest';
import type { CertificateFiles, Store } from '../../../src/store/contract.js';
import { makeCertificate } from '../renew/certs.js';

function files(): CertificateFiles {
  const { certPem, keyPem } = makeCertificate({ sans: ['galaxy.test'] });
  return { certPem, chainPem: certPem, fullchainPem: certPem + certPem, privkeyPem: keyPem };
}

const STATE = { domains: ['galaxy.test'], keyType: 'ecdsa-p256' as const, server: 'https://ca.test/dir' };

export function storeContractSuite(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    it('journal (when the backend has one): record is durable and replaces by id, list oldest first, clear is idempotent, fenced', async () => {
      const journal = (await open()).journal;
      if (journal === undefined) return;
      const entry = (id: string, createdAt: string, value = 'v') => ({
        id, provider: 'rfc2136', identity: 'servers 192.0.2.53:53', records: [{ fqdn: '_acme-challenge.galaxy.test', value }],
        command: 'issue', pid: 1, hostname: 'h', createdAt,
      });
      expect(await journal.list()).toEqual([]);
      await journal.record(entry('later', '2026-12-03T10:00:02.000Z'));
      await journal.record(entry('first', '2026-12-03T10:00:01.000Z'));
      await journal.record(entry('first', '2026-12-03T10:00:01.000Z', 'w'));
      expect(await journal.list()).toEqual([entry('first', '2026-12-03T10:00:01.000Z', 'w'), entry('later', '2026-12-03T10:00:02.000Z')]);
      await journal.clear('first');
      await journal.clear('first');
      await expect(journal.record(entry('x', '2026-12-03T10:00:03.000Z'), { fence: AbortSignal.abort() })).rejects.toMatchObject({ code: 'LOCK_LOST' });
      expect((await journal.list()).map((e) => e.id)).toEqual(['later']);
    });

    it('readLive is undefined before the first commit and the committed PEM texts after it', async () => {
      const store = await open();
      expect(await store.readLive('galaxy.test')).toBeUndefined();
      const first = files();
      await store.commit('galaxy.test', first, STATE);
      expect(await store.readLive('galaxy.test')).toEqual(first);
      const second = files();
      const result = await store.commit('galaxy.test', second, STATE);
      expect(result.version).toBe(2);
      expect(await store.readLive('galaxy.test')).toEqual(second);
      expect((await store.readLineage('galaxy.test'))?.liveVersion).toBe(2);
    });

    it('commit with expectedVersion fails with STORE_CONFLICT and writes nothing when another version is current', async () => {
      const store = await open();
      const first = files();
      await store.commit('galaxy.test', first, STATE);
      const error = await store.commit('galaxy.test', files(), STATE, { expectedVersion: 0 }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'STORE_CONFLICT', expectedVersion: 0, currentVersion: 1 });
      expect(await store.readLive('galaxy.test')).toEqual(first);
      expect((await store.commit('galaxy.test', files(), STATE, { expectedVersion: 1 })).version).toBe(2);
    });

    it('no write starts once its fence is aborted (LOCK_LOST)', async () => {
      const store = await open();
      const fence = AbortSignal.abort();
      await expect(store.commit('galaxy.test', files(), STATE, { fence })).rejects.toMatchObject({ code: 'LOCK_LOST' });
      await expect(store.writeAccountKey('https://ca.test/dir', 'PEM', { fence })).rejects.toMatchObject({ code: 'LOCK_LOST' });
      await expect(store.writeAccountUrl('https://ca.test/dir', { url: 'u' }, { fence })).rejects.toMatchObject({ code: 'LOCK_LOST' });
      expect(await store.readLineage('galaxy.test')).toBeUndefined();
      expect(await store.readAccount('https://ca.test/dir')).toBeUndefined();
      const committed = await store.commit('galaxy.test', files(), STATE);
      await expect(store.writeLineageState({ ...committed.state, lastRun: { at: 'x', ok: false } }, { fence })).rejects.toMatchObject({ code: 'LOCK_LOST' });
      expect((await store.readLineage('galaxy.test'))?.state.lastRun).toBeUndefined();
    });

    it('accounts are kept per directory URL; a key is never replaced', async () => {
      const store = await open();
      await store.writeAccountKey('https://ca.test/dir', 'KEY-A');
      await expect(store.writeAccountKey('https://ca.test/dir', 'KEY-B')).rejects.toMatchObject({ code: 'STORE_IO' });
      await store.writeAccountUrl('https://ca.test/dir', { url: 'https://ca.test/acct/1' });
      expect(await store.readAccount('https://ca.test/dir')).toMatchObject({ keyPem: 'KEY-A', meta: { url: 'https://ca.test/acct/1' } });
      expect(await store.readAccount('https://other.test/dir')).toBeUndefined();
      expect(store.accountLocation('https://ca.test/dir')).not.toBe(store.accountLocation('https://other.test/dir'));
    });

    it('key rollover: the staged key replaces the account key only on promote; an unfinished rollover blocks another', async () => {
      const store = await open();
      await expect(store.stageAccountKey('https://ca.test/dir', 'NEXT')).rejects.toMatchObject({ code: 'STORE_IO' });
      await store.writeAccountKey('https://ca.test/dir', 'OLD', { eabKid: 'k' });
      await store.writeAccountUrl('https://ca.test/dir', { url: 'https://ca.test/acct/1', eabKid: 'k' });
      await store.stageAccountKey('https://ca.test/dir', 'NEXT', { eabKid: 'k' });
      expect((await store.readAccount('https://ca.test/dir', 'k'))?.keyPem).toBe('OLD');
      await expect(store.stageAccountKey('https://ca.test/dir', 'OTHER', { eabKid: 'k' })).rejects.toMatchObject({ code: 'STORE_IO' });
      await store.promoteAccountKey('https://ca.test/dir', { eabKid: 'k' });
      expect(await store.readAccount('https://ca.test/dir', 'k')).toMatchObject({ keyPem: 'NEXT', meta: { url: 'https://ca.test/acct/1' } });
      await store.stageAccountKey('https://ca.test/dir', 'THIRD', { eabKid: 'k' });
    });

    it('removeLineage keeps a backup and removes the lineage; undefined for an unknown one', async () => {
      const store = await open();
      expect(await store.removeLineage('galaxy.test')).toBeUndefined();
      await store.commit('galaxy.test', files(), STATE);
      const removed = await store.removeLineage('galaxy.test');
      expect(removed?.backup).toBeTruthy();
      expect(await store.readLineage('galaxy.test')).toBeUndefined();
      expect(await store.readLive('galaxy.test')).toBeUndefined();
      expect(await store.listLineages()).toEqual([]);
    });

    it('an account bound to an EAB kid is separate from the plain one and from other kids', async () => {
      const store = await open();
      await store.writeAccountKey('https://ca.test/dir', 'KEY-PLAIN');
      await store.writeAccountKey('https://ca.test/dir', 'KEY-K1', { eabKid: 'kid-1' });
      await store.writeAccountKey('https://ca.test/dir', 'KEY-K2', { eabKid: 'kid/2' });
      await expect(store.writeAccountKey('https://ca.test/dir', 'KEY-X', { eabKid: 'kid-1' })).rejects.toMatchObject({ code: 'STORE_IO' });
      await store.writeAccountUrl('https://ca.test/dir', { url: 'https://ca.test/acct/7', eabKid: 'kid-1' });
      expect(await store.readAccount('https://ca.test/dir', 'kid-1')).toMatchObject({ keyPem: 'KEY-K1', meta: { url: 'https://ca.test/acct/7', eabKid: 'kid-1' } });
      expect(await store.readAccount('https://ca.test/dir')).toEqual({ directoryUrl: 'https://ca.test/dir', keyPem: 'KEY-PLAIN' });
      expect((await store.readAccount('https://ca.test/dir', 'kid/2'))?.keyPem).toBe('KEY-K2');
      expect(await store.readAccount('https://ca.test/dir', 'kid-3')).toBeUndefined();
      const places = new Set([undefined, 'kid-1', 'kid/2', 'kid_2'].map((kid) => store.accountLocation('https://ca.test/dir', kid)));
      expect(places.size).toBe(4);
    });
  });
}
