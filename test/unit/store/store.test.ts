import { lstat, mkdir, readdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GxitError } from '../../../src/errors.js';
import { createStore, type Store } from '../../../src/store/store.js';
import type { CommitState } from '../../../src/store/state.js';
import { nodeFs, type FileHandleLike, type StoreFs } from '../../../src/store/fs.js';

async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'gxit-store-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

interface FsCall {
  op: string;
  path: string;
  mode?: number;
}

/**
 * A StoreFs that records every call and throws an EIO error for the calls `fail` picks.
 * With `crash: true`, every call after the first failing one fails too (nothing can clean up),
 * which is what a killed process looks like on disk.
 */
function recordingFs(
  fail: (call: FsCall) => boolean = () => false,
  options: { crash?: boolean } = {},
): StoreFs & { calls: FsCall[]; failed: FsCall[] } {
  const calls: FsCall[] = [];
  const failed: FsCall[] = [];
  let crashed = false;
  const check = (call: FsCall): void => {
    calls.push(call);
    if (crashed || fail(call)) {
      if (options.crash === true) crashed = true;
      failed.push(call);
      throw Object.assign(new Error(`injected EIO: ${call.op} ${call.path}`), { code: 'EIO' });
    }
  };
  const wrapHandle = (path: string, handle: FileHandleLike): FileHandleLike => ({
    chmod: async (mode) => {
      check({ op: 'fchmod', path, mode });
      return handle.chmod(mode);
    },
    writeFile: async (data) => {
      check({ op: 'write', path });
      return handle.writeFile(data);
    },
    sync: async () => {
      check({ op: 'fsync', path });
      return handle.sync();
    },
    close: async () => handle.close(), // closing never fails, so no fd leaks in tests
  });
  return {
    calls,
    failed,
    open: async (path, flags, mode) => {
      check({ op: 'open', path, mode });
      return wrapHandle(path, await nodeFs.open(path, flags, mode));
    },
    rename: async (from, to) => {
      check({ op: 'rename', path: to });
      return nodeFs.rename(from, to);
    },
    link: async (existing, path) => {
      check({ op: 'link', path });
      return nodeFs.link(existing, path);
    },
    symlink: async (target, path) => {
      check({ op: 'symlink', path });
      return nodeFs.symlink(target, path);
    },
    readlink: async (path) => {
      check({ op: 'readlink', path });
      return nodeFs.readlink(path);
    },
    unlink: async (path) => {
      check({ op: 'unlink', path });
      return nodeFs.unlink(path);
    },
    mkdir: async (path, mode) => {
      check({ op: 'mkdir', path, mode });
      return nodeFs.mkdir(path, mode);
    },
    chmod: async (path, mode) => {
      check({ op: 'chmod', path, mode });
      return nodeFs.chmod(path, mode);
    },
    lstat: async (path) => {
      check({ op: 'lstat', path });
      return nodeFs.lstat(path);
    },
    readdir: async (path) => {
      check({ op: 'readdir', path });
      return nodeFs.readdir(path);
    },
    readFile: async (path) => {
      check({ op: 'readFile', path });
      return nodeFs.readFile(path);
    },
    fsyncDir: async (path) => {
      check({ op: 'fsyncDir', path });
      return nodeFs.fsyncDir(path);
    },
  };
}

function pem(label: string, body: string): string {
  return `-----BEGIN ${label}-----\n${Buffer.from(body).toString('base64')}\n-----END ${label}-----\n`;
}

function certFiles(tag: string): {
  privkeyPem: string;
  certPem: string;
  chainPem: string;
  fullchainPem: string;
} {
  const cert = pem('CERTIFICATE', `leaf ${tag}`);
  const chain = pem('CERTIFICATE', `intermediate ${tag}`);
  return { privkeyPem: pem('PRIVATE KEY', `key ${tag}`), certPem: cert, chainPem: chain, fullchainPem: cert + chain };
}

const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;
const KINDS = ['cert', 'chain', 'fullchain', 'privkey'] as const;
const DIRECTORY = 'https://acme.example/dir';
const STATE: CommitState = {
  domains: ['galaxy.example.org', '*.galaxy.example.org'],
  keyType: 'ecdsa-p256',
  server: DIRECTORY,
};

let root: { dir: string; cleanup: () => Promise<void> };
let stateDir: string;
beforeEach(async () => {
  root = await tempDir();
  stateDir = join(root.dir, 'state'); // does not exist yet: the store creates it
});
afterEach(async () => {
  await root.cleanup();
});

const fixedClock = (iso: string) => () => new Date(iso);

async function liveTargets(name: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const kind of KINDS) result[kind] = await readlink(join(stateDir, 'live', name, `${kind}.pem`));
  return result;
}

function targetsOf(name: string, version: number): Record<string, string> {
  return Object.fromEntries(KINDS.map((kind) => [kind, `../../archive/${name}/${kind}${version}.pem`]));
}

async function tempFilesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { recursive: true })) {
    if (/\.tmp-[0-9a-f]+$/.test(entry)) found.push(entry);
  }
  return found;
}

async function caught(promise: Promise<unknown>): Promise<GxitError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(GxitError);
    return error as GxitError;
  }
  throw new Error('expected a GxitError, nothing was thrown');
}

describe('commit: a new lineage', () => {
  it('writes version 1 into archive, links live/ to it like certbot, records the state', async () => {
    const store = createStore(stateDir, { now: fixedClock('2025-06-01T10:00:00.000Z') });
    const files = certFiles('v1');
    const result = await store.commit('galaxy', files, STATE);

    expect(result.version).toBe(1);
    expect(await liveTargets('galaxy')).toEqual(targetsOf('galaxy', 1));
    const live = store.livePaths('galaxy');
    expect(result.live).toEqual(live);
    expect(await readFile(live.privkey, 'utf8')).toBe(files.privkeyPem);
    expect(await readFile(live.cert, 'utf8')).toBe(files.certPem);
    expect(await readFile(live.chain, 'utf8')).toBe(files.chainPem);
    expect(await readFile(live.fullchain, 'utf8')).toBe(files.fullchainPem);
    expect(await readFile(join(live.dir, 'README'), 'utf8')).toContain('fullchain.pem');

    const renewal = JSON.parse(await readFile(join(stateDir, 'renewal', 'galaxy.json'), 'utf8'));
    expect(renewal).toEqual({
      ...STATE,
      name: 'galaxy',
      version: 1,
      history: [{ version: 1, at: '2025-06-01T10:00:00.000Z' }],
    });
    expect(await tempFilesUnder(stateDir)).toEqual([]);
  });

  it('sets modes: directories 0700, privkey 0600, the rest 0644', async () => {
    const store = createStore(stateDir);
    await store.commit('galaxy', certFiles('v1'), STATE);
    for (const dir of ['', 'archive', 'live', 'renewal', 'archive/galaxy', 'live/galaxy']) {
      expect(await mode(join(stateDir, dir)), dir).toBe(0o700);
    }
    expect(await mode(join(stateDir, 'archive/galaxy/privkey1.pem'))).toBe(0o600);
    for (const kind of ['cert', 'chain', 'fullchain'] as const) {
      expect(await mode(join(stateDir, `archive/galaxy/${kind}1.pem`))).toBe(0o644);
    }
    expect(await mode(join(stateDir, 'live/galaxy/README'))).toBe(0o644);
    expect(await mode(join(stateDir, 'renewal/galaxy.json'))).toBe(0o644);
  });

  it('sets the modes regardless of the umask', async () => {
    const previous = process.umask(0o077);
    try {
      await createStore(stateDir).commit('galaxy', certFiles('v1'), STATE);
    } finally {
      process.umask(previous);
    }
    expect(await mode(join(stateDir, 'archive/galaxy/cert1.pem'))).toBe(0o644);
    expect(await mode(join(stateDir, 'archive/galaxy/privkey1.pem'))).toBe(0o600);
  });

  it('opens the private key temp file with 0600 and fchmods it before the first byte', async () => {
    const fs = recordingFs();
    await createStore(stateDir, { fs }).commit('galaxy', certFiles('v1'), STATE);
    const keyCalls = fs.calls.filter((call) => call.path.includes('/.privkey1.pem.tmp-'));
    expect(keyCalls.map((call) => call.op)).toEqual(['open', 'fchmod', 'write', 'fsync', 'unlink']);
    expect(keyCalls[0]?.mode).toBe(0o600);
    expect(keyCalls[1]?.mode).toBe(0o600);
    // created under its final name with link(2), never by overwriting
    expect(fs.calls.some((call) => call.op === 'link' && call.path.endsWith('/archive/galaxy/privkey1.pem'))).toBe(true);
    expect(fs.calls.some((call) => call.op === 'chmod' && call.path.endsWith('.pem'))).toBe(false);
  });

  it('fsyncs the directories it changed', async () => {
    const fs = recordingFs();
    await createStore(stateDir, { fs }).commit('galaxy', certFiles('v1'), STATE);
    const synced = new Set(fs.calls.filter((call) => call.op === 'fsyncDir').map((call) => call.path));
    expect(synced).toEqual(
      new Set([join(stateDir, 'archive/galaxy'), join(stateDir, 'live/galaxy'), join(stateDir, 'renewal')]),
    );
  });
});

describe('commit: renewal of an existing lineage', () => {
  it('adds version 2, switches every link, keeps version 1 in archive', async () => {
    const store = createStore(stateDir, { now: fixedClock('2025-06-01T10:00:00.000Z') });
    const v1 = certFiles('v1');
    const v2 = certFiles('v2');
    await store.commit('galaxy', v1, { ...STATE, ari: { certId: 'one' } });
    const result = await createStore(stateDir, { now: fixedClock('2025-08-01T10:00:00.000Z') }).commit('galaxy', v2, {
      ...STATE,
      lastRun: { at: '2025-08-01T10:00:00.000Z', ok: true },
    });

    expect(result.version).toBe(2);
    expect(await liveTargets('galaxy')).toEqual(targetsOf('galaxy', 2));
    expect(await readFile(store.livePaths('galaxy').privkey, 'utf8')).toBe(v2.privkeyPem);
    expect(await readFile(join(stateDir, 'archive/galaxy/privkey1.pem'), 'utf8')).toBe(v1.privkeyPem);
    expect(await readFile(join(stateDir, 'archive/galaxy/cert1.pem'), 'utf8')).toBe(v1.certPem);
    expect(result.state.history).toEqual([
      { version: 1, at: '2025-06-01T10:00:00.000Z' },
      { version: 2, at: '2025-08-01T10:00:00.000Z' },
    ]);
    expect(result.state.ari).toEqual({ certId: 'one' }); // kept unless the caller replaces or clears it
    expect(result.state.lastRun).toEqual({ at: '2025-08-01T10:00:00.000Z', ok: true });

    const lineage = await store.readLineage('galaxy');
    expect(lineage?.state).toEqual(result.state);
    expect(lineage?.liveVersion).toBe(2);
  });

  it('never overwrites an existing archive version: skips past orphans', async () => {
    const store = createStore(stateDir);
    await store.commit('galaxy', certFiles('v1'), STATE);
    const orphan = join(stateDir, 'archive/galaxy/cert2.pem');
    await writeFile(orphan, 'left by a crash');
    const result = await store.commit('galaxy', certFiles('v3'), STATE);
    expect(result.version).toBe(3);
    expect(await readFile(orphan, 'utf8')).toBe('left by a crash');
    expect(await liveTargets('galaxy')).toEqual(targetsOf('galaxy', 3));
  });

  it('refuses to replace a live file that is not a symlink, before writing anything', async () => {
    const store = createStore(stateDir);
    await store.commit('galaxy', certFiles('v1'), STATE);
    const live = store.livePaths('galaxy');
    await rm(live.chain);
    await writeFile(live.chain, 'a copy someone put here');
    const error = await caught(store.commit('galaxy', certFiles('v2'), STATE));
    expect(error.code).toBe('STORE_IO');
    expect(error.message).toContain('is not a symbolic link');
    expect(error.subject).toBe(live.chain);
    expect(await readdir(join(stateDir, 'archive/galaxy'))).not.toContain('cert2.pem');
    expect(await readlink(live.cert)).toBe('../../archive/galaxy/cert1.pem');
  });
});

describe('commit: failure before the live switch leaves live/ and the old certificate untouched', () => {
  const v1 = certFiles('v1');
  const failures: [string, (call: FsCall) => boolean][] = [
    ['creating the first archive file', (c) => c.op === 'link' && c.path.endsWith('/cert2.pem')],
    ['opening the private key temp file', (c) => c.op === 'open' && c.path.includes('.privkey2.pem.tmp-')],
    ['writing the private key', (c) => c.op === 'write' && c.path.includes('.privkey2.pem.tmp-')],
    ['fsync of the chain', (c) => c.op === 'fsync' && c.path.includes('.chain2.pem.tmp-')],
    ['creating the last archive file', (c) => c.op === 'link' && c.path.endsWith('/fullchain2.pem')],
    ['fsync of the archive directory', (c) => c.op === 'fsyncDir' && c.path.endsWith('/archive/galaxy')],
    ['replacing the README', (c) => c.op === 'rename' && c.path.endsWith('/live/galaxy/README')],
    ['reading the archive directory', (c) => c.op === 'readdir' && c.path.endsWith('/archive/galaxy')],
  ];

  it.each(failures)('%s', async (_label, fail) => {
    await createStore(stateDir).commit('galaxy', v1, STATE);
    const fs = recordingFs(fail);
    const error = await caught(createStore(stateDir, { fs }).commit('galaxy', certFiles('v2'), STATE));
    expect(fs.failed).toHaveLength(1);
    expect(error.code).toBe('STORE_IO');
    expect(error.message).toContain('injected EIO');
    expect(error.fix).toBeTruthy();

    expect(await liveTargets('galaxy')).toEqual(targetsOf('galaxy', 1));
    expect(await readFile(join(stateDir, 'live/galaxy/privkey.pem'), 'utf8')).toBe(v1.privkeyPem);
    expect(await readFile(join(stateDir, 'live/galaxy/fullchain.pem'), 'utf8')).toBe(v1.fullchainPem);
    // version 2 is cleaned up, version 1 stays, no temp files linger
    expect((await readdir(join(stateDir, 'archive/galaxy'))).sort()).toEqual(
      ['cert1.pem', 'chain1.pem', 'fullchain1.pem', 'privkey1.pem'],
    );
    expect(await tempFilesUnder(stateDir)).toEqual([]);
    expect((await createStore(stateDir).readLineage('galaxy'))?.state.version).toBe(1);
  });

  it('a crash (every later fs call fails too) leaves live/ on version 1; the next commit skips the orphans', async () => {
    await createStore(stateDir).commit('galaxy', v1, STATE);
    const fs = recordingFs((c) => c.op === 'write' && c.path.includes('.chain2.pem.tmp-'), { crash: true });
    await caught(createStore(stateDir, { fs }).commit('galaxy', certFiles('v2'), STATE));

    expect(await liveTargets('galaxy')).toEqual(targetsOf('galaxy', 1));
    const archive = await readdir(join(stateDir, 'archive/galaxy'));
    expect(archive).toEqual(expect.arrayContaining(['cert2.pem', 'privkey2.pem'])); // what the "dead" process left
    expect(await tempFilesUnder(stateDir)).not.toEqual([]);
    expect(await mode(join(stateDir, 'archive/galaxy/privkey2.pem'))).toBe(0o600);

    const next = await createStore(stateDir).commit('galaxy', certFiles('v3'), STATE);
    expect(next.version).toBe(3);
    expect(await liveTargets('galaxy')).toEqual(targetsOf('galaxy', 3));
    expect(await tempFilesUnder(stateDir)).toEqual([]); // swept
  });

  it('fails on a first commit without creating any live link', async () => {
    const fs = recordingFs((c) => c.op === 'link' && c.path.endsWith('/fullchain1.pem'));
    await caught(createStore(stateDir, { fs }).commit('galaxy', certFiles('v1'), STATE));
    expect(await readdir(join(stateDir, 'live/galaxy'))).toEqual([]);
    expect(await createStore(stateDir).readLineage('galaxy')).toBeUndefined();
  });
});

describe('commit: failure during or after the switch', () => {
  it('switches the already switched links back when a later link fails', async () => {
    const v1 = certFiles('v1');
    await createStore(stateDir).commit('galaxy', v1, STATE);
    // cert and privkey are switched first; the chain link fails
    const fs = recordingFs((c) => c.op === 'rename' && c.path.endsWith('/live/galaxy/chain.pem'));
    const error = await caught(createStore(stateDir, { fs }).commit('galaxy', certFiles('v2'), STATE));
    expect(error.code).toBe('STORE_IO');
    expect(error.message).toContain('the links were restored to version 1');
    expect(await liveTargets('galaxy')).toEqual(targetsOf('galaxy', 1));
    expect(await readFile(join(stateDir, 'live/galaxy/privkey.pem'), 'utf8')).toBe(v1.privkeyPem);
    expect(await readdir(join(stateDir, 'archive/galaxy'))).not.toContain('privkey2.pem');
    expect(await tempFilesUnder(stateDir)).toEqual([]);
  });

  it('removes links of a first version when its switch fails', async () => {
    const fs = recordingFs((c) => c.op === 'rename' && c.path.endsWith('/live/galaxy/fullchain.pem'));
    const error = await caught(createStore(stateDir, { fs }).commit('galaxy', certFiles('v1'), STATE));
    expect(error.message).toContain('restored to no certificate');
    expect(await readdir(join(stateDir, 'live/galaxy'))).toEqual(['README']);
  });

  it('says the certificate is live when only the state file fails', async () => {
    await createStore(stateDir).commit('galaxy', certFiles('v1'), STATE);
    const fs = recordingFs((c) => c.op === 'rename' && c.path.endsWith('/renewal/galaxy.json'));
    const error = await caught(createStore(stateDir, { fs }).commit('galaxy', certFiles('v2'), STATE));
    expect(error.code).toBe('STORE_IO');
    expect(error.message).toMatch(/version 2 of galaxy is live, but its state could not be written/);
    expect(error.subject).toBe(join(stateDir, 'renewal/galaxy.json'));
    const lineage = await createStore(stateDir).readLineage('galaxy');
    expect(lineage?.state.version).toBe(1);
    expect(lineage?.liveVersion).toBe(2); // the drift is visible
  });
});

describe('commit: misuse', () => {
  it.each(['../etc', 'a/b', '', '.hidden'])('rejects lineage name %j', async (name) => {
    const error = await caught(createStore(stateDir).commit(name, certFiles('x'), STATE));
    expect(error.code).toBe('STORE_IO');
    await expect(lstat(stateDir)).rejects.toThrow(); // nothing was created
  });

  it('rejects non-PEM input as INTERNAL', async () => {
    const error = await caught(createStore(stateDir).commit('galaxy', { ...certFiles('x'), chainPem: '' }, STATE));
    expect(error.code).toBe('INTERNAL');
  });
});

describe('readLineage, listLineages, writeLineageState', () => {
  it('returns undefined and [] for an empty or missing state directory', async () => {
    const store = createStore(stateDir);
    expect(await store.readLineage('galaxy')).toBeUndefined();
    expect(await store.listLineages()).toEqual([]);
  });

  it('lists lineages sorted, ignoring temp and foreign files', async () => {
    const store = createStore(stateDir);
    await store.commit('zeta', certFiles('z'), STATE);
    await store.commit('alpha', certFiles('a'), STATE);
    await writeFile(join(stateDir, 'renewal', '.beta.json.tmp-0123456789ab'), '{}');
    await writeFile(join(stateDir, 'renewal', 'notes.txt'), '');
    expect(await store.listLineages()).toEqual(['alpha', 'zeta']);
  });

  it('reports a broken state file as STORE_IO naming it', async () => {
    const store = createStore(stateDir);
    await mkdir(join(stateDir, 'renewal'), { recursive: true });
    await writeFile(join(stateDir, 'renewal', 'galaxy.json'), '{"name":"galaxy"');
    const error = await caught(store.readLineage('galaxy'));
    expect(error.code).toBe('STORE_IO');
    expect(error.subject).toBe(join(stateDir, 'renewal', 'galaxy.json'));
  });

  it('replaces the state without a new version (lastRun after a failure)', async () => {
    const store = createStore(stateDir);
    const { state } = await store.commit('galaxy', certFiles('v1'), STATE);
    await store.writeLineageState({ ...state, lastRun: { at: '2025-09-01T00:00:00.000Z', ok: false, error: 'DNS' } });
    const lineage = await store.readLineage('galaxy');
    expect(lineage?.state.lastRun).toEqual({ at: '2025-09-01T00:00:00.000Z', ok: false, error: 'DNS' });
    expect(lineage?.state.version).toBe(1);
    expect(lineage?.liveVersion).toBe(1);
  });

  it('reports liveVersion undefined when the links are missing', async () => {
    const store = createStore(stateDir);
    await store.commit('galaxy', certFiles('v1'), STATE);
    await rm(store.livePaths('galaxy').cert);
    expect((await store.readLineage('galaxy'))?.liveVersion).toBeUndefined();
  });

  it('liveVersion follows a link switched by hand to an older version', async () => {
    const store = createStore(stateDir);
    await store.commit('galaxy', certFiles('v1'), STATE);
    await store.commit('galaxy', certFiles('v2'), STATE);
    const live = store.livePaths('galaxy');
    await rm(live.cert);
    await symlink('../../archive/galaxy/cert1.pem', live.cert);
    expect((await store.readLineage('galaxy'))?.liveVersion).toBe(1);
  });
});

describe('accounts', () => {
  const KEY = pem('PRIVATE KEY', 'account key');

  it('is undefined before a key is stored', async () => {
    expect(await createStore(stateDir).readAccount(DIRECTORY)).toBeUndefined();
  });

  it('stores the key 0600 in accounts/<slug>/ and never replaces it', async () => {
    const store = createStore(stateDir);
    await store.writeAccountKey(DIRECTORY, KEY);
    const keyPath = join(stateDir, 'accounts/acme.example-dir/private_key.pem');
    expect(await readFile(keyPath, 'utf8')).toBe(KEY);
    expect(await mode(keyPath)).toBe(0o600);
    expect(await mode(join(stateDir, 'accounts'))).toBe(0o700);
    expect(await mode(join(stateDir, 'accounts/acme.example-dir'))).toBe(0o700);
    expect(await store.readAccount(DIRECTORY)).toEqual({ directoryUrl: DIRECTORY, keyPem: KEY });

    const error = await caught(store.writeAccountKey(DIRECTORY, pem('PRIVATE KEY', 'another')));
    expect(error.code).toBe('STORE_IO');
    expect(error.message).toContain('already exists');
    expect(await readFile(keyPath, 'utf8')).toBe(KEY);
    expect(await tempFilesUnder(stateDir)).toEqual([]);
  });

  it('records the account URL and keeps createdAt when it is recorded again', async () => {
    await createStore(stateDir).writeAccountKey(DIRECTORY, KEY);
    const first = createStore(stateDir, { now: fixedClock('2025-01-01T00:00:00.000Z') });
    await first.writeAccountUrl(DIRECTORY, { url: 'https://acme.example/acct/1', email: 'ops@example.org' });
    const later = createStore(stateDir, { now: fixedClock('2025-02-01T00:00:00.000Z') });
    await later.writeAccountUrl(DIRECTORY, { url: 'https://acme.example/acct/1', email: 'ops@example.org' });

    const account = await later.readAccount(DIRECTORY);
    expect(account).toEqual({
      directoryUrl: DIRECTORY,
      keyPem: KEY,
      meta: {
        url: 'https://acme.example/acct/1',
        directoryUrl: DIRECTORY,
        email: 'ops@example.org',
        createdAt: '2025-01-01T00:00:00.000Z',
      },
    });
    const jsonPath = join(stateDir, 'accounts/acme.example-dir/account.json');
    expect(await mode(jsonPath)).toBe(0o644);

    await later.writeAccountUrl(DIRECTORY, { url: 'https://acme.example/acct/2' });
    const replaced = await later.readAccount(DIRECTORY);
    expect(replaced?.meta).toEqual({
      url: 'https://acme.example/acct/2',
      directoryUrl: DIRECTORY,
      createdAt: '2025-02-01T00:00:00.000Z',
    });
  });

  it('refuses an account folder that belongs to another directory URL with the same slug', async () => {
    const store = createStore(stateDir);
    await store.writeAccountKey('https://ca.example/a-b', KEY);
    await store.writeAccountUrl('https://ca.example/a-b', { url: 'https://ca.example/acct/9' });
    const error = await caught(store.readAccount('https://ca.example/a/b'));
    expect(error.code).toBe('STORE_IO');
    expect(error.message).toContain('belongs to https://ca.example/a-b');
  });

  it('reports an account whose key is missing', async () => {
    const store = createStore(stateDir);
    await store.writeAccountUrl(DIRECTORY, { url: 'https://acme.example/acct/1' });
    const error = await caught(store.readAccount(DIRECTORY));
    expect(error.code).toBe('STORE_IO');
    expect(error.message).toContain('is missing');
  });

  it('reports a broken account.json', async () => {
    const store = createStore(stateDir);
    await store.writeAccountKey(DIRECTORY, KEY);
    await writeFile(join(stateDir, 'accounts/acme.example-dir/account.json'), '[]');
    const error = await caught(store.readAccount(DIRECTORY));
    expect(error.code).toBe('STORE_IO');
    expect(error.subject).toBe(join(stateDir, 'accounts/acme.example-dir/account.json'));
  });

  it('leaves no key behind when writing it fails', async () => {
    const fs = recordingFs((c) => c.op === 'fsync');
    const error = await caught(createStore(stateDir, { fs }).writeAccountKey(DIRECTORY, KEY));
    expect(error.code).toBe('STORE_IO');
    expect(await readdir(join(stateDir, 'accounts/acme.example-dir'))).toEqual([]);
  });
});

describe('one symlink rule under state_dir: symlinked store directories are refused', () => {
  /** Moves `rel` (under state_dir) to a directory beside it and leaves a symlink in its place. */
  async function linkAway(rel: string): Promise<string> {
    const { rename } = await import('node:fs/promises');
    const from = join(stateDir, rel);
    const away = join(stateDir, '..', `away-${rel.replace(/\//g, '-')}`);
    await rename(from, away);
    await symlink(away, from);
    return away;
  }

  it.each(['live', 'archive', 'renewal', 'live/galaxy', 'archive/galaxy'])('%s as a symlink: reads and commits fail with one line, nothing is written there', async (rel) => {
    const store = createStore(stateDir);
    await store.commit('galaxy', certFiles('v1'), STATE);
    const away = await linkAway(rel);
    const before = (await readdir(away)).sort();
    for (const attempt of [() => store.commit('galaxy', certFiles('v2'), STATE), () => store.readLive('galaxy'), () => store.readLineage('galaxy')]) {
      const error = await caught(attempt());
      expect(error.code).toBe('STORE_IO');
      expect(error.message).toBe(`${join(stateDir, rel)} is a symbolic link; gxit-cert does not follow symlinked directories under state_dir`);
    }
    expect((await readdir(away)).sort()).toEqual(before);
  });

  it('lists lineages only from a real renewal/ directory', async () => {
    const store = createStore(stateDir);
    await store.commit('galaxy', certFiles('v1'), STATE);
    await linkAway('renewal');
    expect((await caught(store.listLineages())).message).toContain('renewal is a symbolic link');
  });

  it('readLive refuses live links that do not all point at the version of cert.pem', async () => {
    const store = createStore(stateDir);
    await store.commit('galaxy', certFiles('v1'), STATE);
    await store.commit('galaxy', certFiles('v2'), STATE);
    const live = store.livePaths('galaxy');
    await rm(live.privkey);
    await symlink('../../archive/galaxy/privkey1.pem', live.privkey);
    expect((await caught(store.readLive('galaxy'))).message).toBe(`${live.privkey} points at ../../archive/galaxy/privkey1.pem, not at version 2 like cert.pem`);
    await rm(live.privkey);
    expect((await caught(store.readLive('galaxy'))).message).toBe(`${live.privkey} is missing`);
  });
});
