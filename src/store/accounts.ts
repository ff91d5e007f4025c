/**
 * ACME accounts under accounts/<slug>/: private_key.pem (0600, created once, never replaced) and
 * account.json ({ url, directoryUrl, email?, eabKid?, createdAt }, written after registration).
 * An account registered with External Account Binding is kept per kid (accounts/<slug>+eab-<kid>/).
 */
import * as v from 'valibot';
import { GxitError } from '../errors.js';
import { ensureDir, errnoOf, readFileIfAny, writeFileAtomic, type StoreFs } from './fs.js';
import { parseJsonObject } from './json.js';
import {
  accountDir,
  accountJsonPath,
  accountKeyPath,
  PRIVATE_MODE,
  PUBLIC_MODE,
  sameDirectoryUrl,
} from './layout.js';

export interface AccountMeta {
  /** The account URL (the "kid") the CA returned at registration. */
  url: string;
  directoryUrl: string;
  email?: string;
  /** The EAB key identifier the account was bound with. */
  eabKid?: string;
  /** ISO 8601 time the account URL was first stored. */
  createdAt: string;
}

export interface StoredAccount {
  directoryUrl: string;
  /** PEM of the account key. */
  keyPem: string;
  /** Absent while the key exists but the account was not registered (or not recorded) yet. */
  meta?: AccountMeta;
}

export async function readAccount(fs: StoreFs, stateDir: string, directoryUrl: string, eabKid?: string): Promise<StoredAccount | undefined> {
  const keyPath = accountKeyPath(stateDir, directoryUrl, eabKid);
  const jsonPath = accountJsonPath(stateDir, directoryUrl, eabKid);
  const keyPem = await readFileIfAny(fs, keyPath);
  const json = await readFileIfAny(fs, jsonPath);
  const meta = json === undefined ? undefined : parseAccountMeta(json, jsonPath, directoryUrl);
  if (keyPem === undefined) {
    if (meta === undefined) return undefined;
    throw new GxitError('STORE_IO', `account ${meta.url} is recorded in ${jsonPath} but its key ${keyPath} is missing`, {
      subject: keyPath,
      fix: `Restore ${keyPath} from a backup, or remove ${jsonPath} to register a new account.`,
    });
  }
  return meta === undefined ? { directoryUrl, keyPem } : { directoryUrl, keyPem, meta };
}

/** Store the account key. Never replaces an existing key: STORE_IO when one is there. */
export async function writeAccountKey(fs: StoreFs, stateDir: string, directoryUrl: string, pem: string, eabKid?: string): Promise<void> {
  const keyPath = accountKeyPath(stateDir, directoryUrl, eabKid);
  await ensureDir(fs, accountDir(stateDir, directoryUrl, eabKid));
  try {
    await writeFileAtomic(fs, keyPath, pem, { mode: PRIVATE_MODE, exclusive: true });
  } catch (error) {
    if (error instanceof GxitError && errnoOf(error.cause) === 'EEXIST') {
      throw new GxitError('STORE_IO', `an account key for ${directoryUrl} already exists at ${keyPath}`, {
        subject: keyPath,
        fix: 'Reuse the stored key (readAccount); remove the file only to abandon that account.',
        cause: error.cause,
      });
    }
    throw error;
  }
}

/**
 * Record the account URL after registration. Keeps createdAt when the same URL is recorded again.
 */
export async function writeAccountUrl(
  fs: StoreFs,
  stateDir: string,
  directoryUrl: string,
  account: { url: string; email?: string; eabKid?: string },
  now: Date,
): Promise<AccountMeta> {
  const jsonPath = accountJsonPath(stateDir, directoryUrl, account.eabKid);
  await ensureDir(fs, accountDir(stateDir, directoryUrl, account.eabKid));
  const previousText = await readFileIfAny(fs, jsonPath);
  const previous = previousText === undefined ? undefined : parseAccountMeta(previousText, jsonPath, directoryUrl);
  const meta: AccountMeta = {
    url: account.url,
    directoryUrl,
    ...(account.email === undefined ? {} : { email: account.email }),
    ...(account.eabKid === undefined ? {} : { eabKid: account.eabKid }),
    createdAt: previous !== undefined && previous.url === account.url ? previous.createdAt : now.toISOString(),
  };
  await writeFileAtomic(fs, jsonPath, `${JSON.stringify(meta, null, 2)}\n`, { mode: PUBLIC_MODE });
  return meta;
}

const ACCOUNT_META = v.object({
  url: v.pipe(v.string(), v.nonEmpty()),
  directoryUrl: v.string(),
  email: v.optional(v.string()),
  eabKid: v.optional(v.string()),
  createdAt: v.string(),
});

const ACCOUNT_PROBLEMS: Record<string, string> = {
  url: 'has no account "url"',
  directoryUrl: 'has no "directoryUrl"',
  createdAt: 'has no "createdAt"',
  email: 'has an invalid "email"',
  eabKid: 'has an invalid "eabKid"',
};

/** Parse account.json and check it belongs to `directoryUrl` (two URLs can share a slug). */
export function parseAccountMeta(text: string, path: string, directoryUrl: string): AccountMeta {
  const json = parseJsonObject(text);
  if (!json.ok) throw brokenAccount(path, json.reason);
  const parsed = v.safeParse(ACCOUNT_META, json.value);
  if (!parsed.success) {
    const key = parsed.issues[0].path?.[0]?.key;
    throw brokenAccount(path, (typeof key === 'string' ? ACCOUNT_PROBLEMS[key] : undefined) ?? 'does not hold a JSON object');
  }
  const record = parsed.output;
  if (!sameDirectoryUrl(record.directoryUrl, directoryUrl)) {
    throw new GxitError('STORE_IO', `${path} belongs to ${record.directoryUrl}, not to ${directoryUrl}`, {
      subject: path,
      fix: 'Both directory URLs map to the same account folder; use one of them consistently.',
    });
  }
  return {
    url: record.url,
    directoryUrl: record.directoryUrl,
    ...(record.email === undefined ? {} : { email: record.email }),
    ...(record.eabKid === undefined ? {} : { eabKid: record.eabKid }),
    createdAt: record.createdAt,
  };
}

function brokenAccount(path: string, what: string): GxitError {
  return new GxitError('STORE_IO', `account file ${path} ${what}`, {
    subject: path,
    fix: `Repair ${path}, or remove it to register the stored key as a new account.`,
  });
}


// --------------------------------------------------------------------------------- key rollover

/**
 * Rollover, step 1: the new key as private_key.pem.next and a copy of the current one as
 * private_key.pem.bak (both 0600, neither may exist yet). private_key.pem stays the account key.
 */
export async function stageAccountKey(fs: StoreFs, stateDir: string, directoryUrl: string, pem: string, eabKid?: string): Promise<void> {
  const keyPath = accountKeyPath(stateDir, directoryUrl, eabKid);
  const current = await readFileIfAny(fs, keyPath);
  if (current === undefined) {
    throw new GxitError('STORE_IO', `no account key for ${directoryUrl} at ${keyPath}`, { subject: keyPath, fix: 'register the account first (gxit-cert issue)' });
  }
  try {
    await writeFileAtomic(fs, `${keyPath}.next`, pem, { mode: PRIVATE_MODE, exclusive: true });
    await writeFileAtomic(fs, `${keyPath}.bak`, current, { mode: PRIVATE_MODE, exclusive: true });
  } catch (error) {
    if (error instanceof GxitError && errnoOf(error.cause) === 'EEXIST') {
      throw new GxitError('STORE_IO', `an earlier key rollover for ${directoryUrl} did not finish (${keyPath}.next or .bak exists)`, {
        subject: keyPath,
        fix: `the CA knows one of ${keyPath}, ${keyPath}.next: keep that one as ${keyPath}, remove the others, then roll over again`,
        cause: error.cause,
      });
    }
    throw error;
  }
}

/** Rollover, step 2 (the CA confirmed): the new key becomes private_key.pem; the backup goes. */
export async function promoteAccountKey(fs: StoreFs, stateDir: string, directoryUrl: string, eabKid?: string): Promise<void> {
  const keyPath = accountKeyPath(stateDir, directoryUrl, eabKid);
  await fs.rename(`${keyPath}.next`, keyPath);
  await fs.fsyncDir(accountDir(stateDir, directoryUrl, eabKid));
  await fs.unlink(`${keyPath}.bak`);
}
