/**
 * Reading a certbot configuration directory (/etc/letsencrypt): the thin I/O layer under the pure
 * decisions of configobj.ts, renewal-conf.ts, version.ts, account.ts and role-hook.ts. Nothing here
 * writes; every problem is collected per lineage so that one broken lineage does not hide the others.
 */
import { constants } from 'node:fs';
import { access, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { GxitError, messageOf } from '../errors.js';
import { certbotServerPath, jwkToPem, parseRegr } from './account.js';
import { parseConfigObj, type CoSection } from './configobj.js';
import { mapRenewalConf, type RenewalMapping } from './renewal-conf.js';
import { anyVersions, CERTBOT_KINDS, checkVersion, completeVersions, resolveLive, type CertbotKind, type VersionFacts } from './version.js';

export interface CertbotVersion {
  /** The number in certbot's archive. */
  number: number;
  files: Record<CertbotKind, string>;
  facts: VersionFacts;
}

export interface CertbotLineage {
  name: string;
  confPath: string;
  confText: string;
  conf: CoSection;
  mapping: RenewalMapping;
  /** The version live/ points at (the last in `versions`). */
  live: CertbotVersion;
  /** Every complete, consistent version up to the live one, ascending. */
  versions: CertbotVersion[];
  warnings: string[];
}

export type LineageRead = { ok: true; lineage: CertbotLineage } | { ok: false; name: string; reason: string };

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new GxitError('STORE_IO', `cannot read ${path}: ${messageOf(error)}`, {
      subject: path,
      fix: 'run import-certbot as root (certbot\'s files are readable by root only)',
      cause: error,
    });
  }
}

/** Lineage names: renewal/<name>.conf, sorted. */
export async function listCertbotLineages(certbotDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(join(certbotDir, 'renewal'));
  } catch (error) {
    const dirExists = await stat(certbotDir).then((s) => s.isDirectory(), () => false);
    if (dirExists && (error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new GxitError('USAGE', `certbot has no lineage in ${certbotDir} (there is no renewal/ directory)`, {
        subject: certbotDir,
        fix: 'name the directory certbot keeps its certificates in with --certbot-dir (certbot certificates --config-dir DIR lists them)',
      });
    }
    throw new GxitError('CONFIG_INVALID', `${certbotDir} is not a certbot directory: ${join(certbotDir, 'renewal')} cannot be read (${messageOf(error)})`, {
      subject: certbotDir,
      fix: 'name certbot\'s configuration directory with --certbot-dir (default /etc/letsencrypt), and run as root',
      cause: error,
    });
  }
  return names.filter((n) => n.endsWith('.conf') && !n.startsWith('.')).map((n) => n.slice(0, -'.conf'.length)).sort();
}

export async function readCertbotLineage(certbotDir: string, name: string): Promise<LineageRead> {
  const confPath = join(certbotDir, 'renewal', `${name}.conf`);
  const confText = await readText(confPath);
  const parsed = parseConfigObj(confText);
  if (parsed.problems.length > 0) {
    const first = parsed.problems[0]!;
    return { ok: false, name, reason: `${confPath}:${first.line}: ${first.message}` };
  }
  const mapping = mapRenewalConf(name, parsed.root);
  const warnings: string[] = [];

  const liveDir = join(certbotDir, 'live', name);
  const archiveDir = join(certbotDir, 'archive', name);
  const expectedLive = (kind: CertbotKind): string => join(liveDir, `${kind}.pem`);
  for (const kind of CERTBOT_KINDS) {
    const recorded = mapping.recordedPaths[kind];
    if (recorded !== undefined && recorded !== expectedLive(kind) && !recorded.endsWith(`/live/${name}/${kind}.pem`)) {
      warnings.push(`${name}: ${kind} = ${recorded} in ${confPath} is not live/${name}/${kind}.pem; the files under ${liveDir} are imported`);
    }
  }

  const targets: Partial<Record<CertbotKind, string>> = {};
  for (const kind of CERTBOT_KINDS) {
    try {
      targets[kind] = await readlink(expectedLive(kind));
    } catch {
      // missing or not a link: resolveLive says which
    }
  }
  let archiveNames: string[];
  try {
    archiveNames = await readdir(archiveDir);
  } catch (error) {
    return { ok: false, name, reason: `${archiveDir} cannot be read (${messageOf(error)})` };
  }
  const complete = completeVersions(archiveNames);
  const live = resolveLive(name, targets, complete);
  if (!live.ok) return { ok: false, name, reason: live.reason };
  if (live.mixed) warnings.push(`${name}: the live/ links point to different versions (an interrupted certbot run); version ${live.version} is taken`);
  for (const v of anyVersions(archiveNames)) {
    if (!complete.includes(v)) warnings.push(`${name}: archive version ${v} is incomplete and is not imported`);
    else if (v > live.version) warnings.push(`${name}: archive version ${v} is newer than the live version ${live.version} and is not imported`);
  }

  const versions: CertbotVersion[] = [];
  for (const number of complete.filter((v) => v <= live.version)) {
    const files = {} as Record<CertbotKind, string>;
    for (const kind of CERTBOT_KINDS) files[kind] = await readText(join(archiveDir, `${kind}${number}.pem`));
    const check = checkVersion(files);
    if (!check.ok) {
      if (number === live.version) return { ok: false, name, reason: `live version ${number}: ${check.reason}` };
      warnings.push(`${name}: archive version ${number}: ${check.reason}; not imported`);
      continue;
    }
    versions.push({ number, files, facts: check.facts });
  }
  const last = versions.at(-1)!;
  if (versions.length !== live.version) {
    warnings.push(`${name}: ${versions.length} of ${live.version} versions are importable, so the numbers in the new archive/ differ from certbot's`);
  }
  return { ok: true, lineage: { name, confPath, confText, conf: parsed.root, mapping, live: last, versions, warnings } };
}

export interface CertbotAccount {
  id: string;
  server: string;
  keyPem: string;
  url: string;
  email?: string;
  dir: string;
}

export type AccountRead = { ok: true; account: CertbotAccount } | { ok: false; reason: string };

/** accounts/<netloc><path>/<id>/{private_key.json,regr.json}. */
export async function readCertbotAccount(certbotDir: string, server: string, id: string): Promise<AccountRead> {
  const serverPath = certbotServerPath(server);
  if (serverPath === undefined || !/^[A-Za-z0-9]+$/.test(id)) return { ok: false, reason: `account ${id} of ${server} has no account directory` };
  const dir = join(certbotDir, 'accounts', serverPath, id);
  let keyText: string;
  let regrText: string;
  try {
    keyText = await readFile(join(dir, 'private_key.json'), 'utf8');
    regrText = await readFile(join(dir, 'regr.json'), 'utf8');
  } catch (error) {
    return { ok: false, reason: `${dir} cannot be read (${messageOf(error)})` };
  }
  const key = jwkToPem(keyText);
  if (!key.ok) return { ok: false, reason: `${join(dir, 'private_key.json')} ${key.reason}` };
  const regr = parseRegr(regrText);
  if (!regr.ok) return { ok: false, reason: `${join(dir, 'regr.json')} ${regr.reason}` };
  return { ok: true, account: { id, server, keyPem: key.pem, url: regr.value.url, dir, ...(regr.value.email === undefined ? {} : { email: regr.value.email }) } };
}

export interface HookScript {
  phase: 'pre' | 'deploy' | 'post';
  path: string;
  text: string;
}

/** The executable files of renewal-hooks/{pre,deploy,post}, in the order certbot runs them (sorted by name). */
export async function readHookScripts(certbotDir: string): Promise<{ scripts: HookScript[]; skipped: string[] }> {
  const scripts: HookScript[] = [];
  const skipped: string[] = [];
  for (const phase of ['pre', 'deploy', 'post'] as const) {
    const dir = join(certbotDir, 'renewal-hooks', phase);
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      const path = join(dir, name);
      const info = await stat(path).catch(() => undefined);
      if (info === undefined || !info.isFile()) continue;
      // certbot runs only executable files and skips the rest (with a warning of its own).
      const executable = await access(path, constants.X_OK).then(() => true, () => false);
      if (!executable) {
        skipped.push(path);
        continue;
      }
      scripts.push({ phase, path, text: await readText(path) });
    }
  }
  return { scripts, skipped };
}

/** The non-secret settings of a certbot dns-rfc2136 credentials file (the secret stays in the file). */
export interface Rfc2136Ini {
  server?: string;
  port?: string;
  name?: string;
  algorithm?: string;
  hasSecret: boolean;
}

export function parseRfc2136Ini(text: string): Rfc2136Ini {
  const result: Rfc2136Ini = { hasSecret: false };
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:dns_rfc2136_|certbot_dns_rfc2136:dns_rfc2136_)([a-z_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    const [, key, value] = m;
    if (key === 'server') result.server = value!;
    else if (key === 'port') result.port = value!;
    else if (key === 'name') result.name = value!;
    else if (key === 'algorithm') result.algorithm = value!;
    else if (key === 'secret') result.hasSecret = value !== '';
  }
  return result;
}

export async function readRfc2136Ini(path: string): Promise<Rfc2136Ini> {
  return parseRfc2136Ini(await readText(path));
}
