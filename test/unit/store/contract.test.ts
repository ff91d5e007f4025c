import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../../src/store/factory.js';
import { storeContractSuite } from './contract-suite.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function stateDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gxit-contract-'));
  dirs.push(dir);
  return join(dir, 'state');
}

storeContractSuite('file store', async () => (await openStore({ stateDir: await stateDir() })).store);

describe('openStore (file store)', () => {
  it('keeps accounts under state_dir/accounts and live files under state_dir/live', async () => {
    const dir = await stateDir();
    const { store } = await openStore({ stateDir: dir });
    expect(store.accountLocation('https://localhost:14000/dir')).toBe(join(dir, 'accounts', 'localhost_14000-dir'));
    expect(store.livePaths('galaxy.test').fullchain).toBe(join(dir, 'live', 'galaxy.test', 'fullchain.pem'));
  });

  it('its locker maps every scope to the one state-dir lock, and `lost` is live until release', async () => {
    const { locker } = await openStore({ stateDir: await stateDir() });
    const lock = await locker.acquire('global', { waitMs: 0 });
    expect(lock.lost.aborted).toBe(false);
    await expect(locker.acquire('galaxy.test', { waitMs: 0 })).rejects.toMatchObject({ code: 'LOCKED' });
    await lock.release();
    const again = await locker.acquire('galaxy.test', { waitMs: 0 });
    await again.release();
  });
});
