/**
 * certbot's one-shot flags for `issue`: -d NAME (repeatable, or comma-separated), -m EMAIL,
 * --server URL | --staging, --cert-name NAME, --dns-rfc2136-credentials INI. They are turned into
 * configuration keys laid over the configuration file (or over the defaults when there is none),
 * and the result goes through the normal pipeline (validation, defaults, secrets). No secret is
 * taken from the command line: the TSIG secret stays in the credentials file, referenced by path.
 */
import { GxitError } from '../errors.js';
import { checkEmail, checkLineageName, normalizeDomain, parseAcmeServer } from '../config/values.js';
import { LETSENCRYPT_STAGING_DIRECTORY } from '../config/types.js';

export interface CertbotFlags {
  domains?: string[];
  email?: string;
  server?: string;
  staging?: boolean;
  certName?: string;
  dnsRfc2136Credentials?: string;
}

/** The non-secret settings of the credentials file (certbot-tree.ts reads them). */
export interface IniSettings {
  server?: string;
  port?: string;
  name?: string;
  algorithm?: string;
}

export function hasCertbotFlags(f: CertbotFlags): boolean {
  return (f.domains?.length ?? 0) > 0 || f.email !== undefined || f.server !== undefined || f.staging === true || f.certName !== undefined || f.dnsRfc2136Credentials !== undefined;
}

export type Plain = string | number | boolean | Plain[] | { [key: string]: Plain };

/** One change to the configuration tree: set a key path, or delete a role key the flag replaces. */
export type Edit = { set: string[]; value: Plain } | { delete: string[] } | { onlyCertificate: string };

const usage = (flag: string, message: string, fix: string): GxitError => new GxitError('USAGE', `${flag}: ${message}`, { subject: flag, fix });

/** The edits the flags make (pure); `ini` is read from --dns-rfc2136-credentials by the caller. */
export function flagEdits(f: CertbotFlags, ini: IniSettings | undefined): Edit[] {
  const edits: Edit[] = [];
  const domains: string[] = [];
  for (const item of (f.domains ?? []).flatMap((d) => d.split(','))) {
    if (item.trim() === '') continue;
    const parsed = normalizeDomain(item);
    if (!parsed.ok) throw usage('-d', `${JSON.stringify(item.trim())} ${parsed.reason}`, 'give a domain name such as galaxy.example.org or *.ep.interactivetool.galaxy.example.org');
    if (!domains.includes(parsed.value)) domains.push(parsed.value);
  }
  if (f.certName !== undefined) {
    const parsed = checkLineageName(f.certName);
    if (!parsed.ok) throw usage('--cert-name', `${JSON.stringify(f.certName)} ${parsed.reason}`, 'name the lineage like certbot does, e.g. galaxy.example.org');
  }
  if (domains.length > 0) {
    // certbot's lineage name: --cert-name, else the first domain (without "*.").
    const name = f.certName ?? domains[0]!.replace(/^\*\./, '');
    edits.push({ delete: ['certbot_domains'] }, { delete: ['certbot_hostname_override'] });
    edits.push({ set: ['certificates'], value: [{ name, domains }] });
  } else if (f.certName !== undefined) {
    edits.push({ onlyCertificate: f.certName });
  }
  if (f.email !== undefined) {
    const parsed = checkEmail(f.email);
    if (!parsed.ok) throw usage('-m', `${JSON.stringify(f.email)} ${parsed.reason}`, 'give the address the CA writes to, e.g. -m admin@example.org');
    edits.push({ delete: ['certbot_admin_email'] }, { set: ['email'], value: parsed.value });
  }
  if (f.server !== undefined && f.staging === true) throw usage('--staging', 'cannot be combined with --server', 'give one of them');
  if (f.server !== undefined || f.staging === true) {
    const server = f.staging === true ? LETSENCRYPT_STAGING_DIRECTORY : f.server!;
    const parsed = parseAcmeServer(server);
    if (!parsed.ok) throw usage('--server', `${JSON.stringify(server)} ${parsed.reason}`, 'give an ACME directory URL, letsencrypt or letsencrypt-staging');
    edits.push({ delete: ['certbot_environment'] }, { set: ['server'], value: parsed.value });
  }
  if (f.dnsRfc2136Credentials !== undefined) {
    const rfc: { [key: string]: Plain } = {};
    if (ini?.server !== undefined) rfc.server = ini.server;
    if (ini?.port !== undefined && /^\d+$/.test(ini.port)) rfc.port = Number(ini.port);
    if (ini?.name !== undefined) rfc.name = ini.name;
    if (ini?.algorithm !== undefined) rfc.algorithm = ini.algorithm;
    rfc.secret_file = f.dnsRfc2136Credentials;
    edits.push({ delete: ['certbot_dns_provider'] }, { delete: ['certbot_dns_credentials'] });
    edits.push({ set: ['dns', 'provider'], value: 'rfc2136' }, { set: ['dns', 'rfc2136'], value: rfc });
  }
  return edits;
}

/** The configuration text with the edits applied (comments and the order of other keys kept). */
export async function applyEdits(text: string, edits: readonly Edit[]): Promise<string> {
  const { parseDocument } = await import('yaml');
  const doc = parseDocument(text.trim() === '' ? '{}' : text);
  for (const edit of edits) {
    if ('set' in edit) {
      // A scalar where a map is needed (dns: "x") is replaced, and validation reports nothing odd.
      if (edit.set.length > 1 && !doc.hasIn(edit.set.slice(0, -1))) doc.setIn(edit.set.slice(0, -1), doc.createNode({}));
      doc.setIn(edit.set, doc.createNode(edit.value));
    } else if ('delete' in edit) {
      doc.deleteIn(edit.delete);
    }
  }
  return doc.toString();
}

/** The --cert-name of a run without -d: the one configured certificate of that name. */
export function onlyCertificate(edits: readonly Edit[]): string | undefined {
  for (const edit of edits) if ('onlyCertificate' in edit) return edit.onlyCertificate;
  return undefined;
}

export interface FlagConfigSource {
  /** The configuration file, or undefined for defaults only. */
  path?: string;
  flags: CertbotFlags;
}

/**
 * The configuration of a run with certbot flags: the file (if any) with the flags laid over it,
 * through the normal pipeline. The source named in messages is "<file> with command-line flags".
 */
export async function loadConfigWithFlags(source: FlagConfigSource, env: NodeJS.ProcessEnv = process.env): Promise<import('../config/types.js').Config> {
  const [{ readFile }, { dirname, resolve }, { parseConfigText, loadConfig }, { readRfc2136Ini }, { PROVIDERS: providers }] = await Promise.all([
    import('node:fs/promises'),
    import('node:path'),
    import('../config/load.js'),
    import('../migrate/certbot-tree.js'),
    import('../dns/providers/registry.js'),
  ]);
  const f = source.flags;
  if (source.path === undefined && (f.domains ?? []).length === 0) {
    throw usage('-d', 'no names to issue for: give -d NAME, or a configuration with --config', 'e.g. gxit-cert issue -d galaxy.example.org -d "*.ep.interactivetool.galaxy.example.org" -m admin@example.org --dns-rfc2136-credentials FILE');
  }
  const ini = f.dnsRfc2136Credentials === undefined ? undefined : await readRfc2136Ini(resolve(f.dnsRfc2136Credentials));
  const edits = flagEdits({ ...f, ...(f.dnsRfc2136Credentials === undefined ? {} : { dnsRfc2136Credentials: resolve(f.dnsRfc2136Credentials) }) }, ini);
  let text = '';
  if (source.path !== undefined) {
    // loadConfig names a missing or unreadable file (and its problems) as usual.
    await loadConfig(source.path, { env, providers }).catch((error: unknown) => {
      if (error instanceof GxitError && (error.code === 'CONFIG_NOT_FOUND' || error.code === 'CONFIG_UNREADABLE' || error.code === 'CONFIG_SYNTAX')) throw error;
    });
    text = await readFile(source.path, 'utf8');
  }
  const merged = await applyEdits(text, edits);
  const where = source.path === undefined ? 'command-line flags' : `${source.path} with command-line flags`;
  const config = parseConfigText(merged, where, { env, providers, baseDir: source.path === undefined ? process.cwd() : dirname(resolve(source.path)) });
  const only = onlyCertificate(edits);
  if (only === undefined) return config;
  const chosen = config.certificates.filter((c) => c.name === only);
  if (chosen.length === 0) {
    throw usage('--cert-name', `no certificate ${only} in ${source.path ?? 'the configuration'}`, `name one of: ${config.certificates.map((c) => c.name).join(', ')}`);
  }
  return { ...config, certificates: chosen };
}

/**
 * issue's configuration when certbot flags are given: --config when named on the command line, else
 * the default file when it exists, else the defaults. Warnings are printed like loadCommandConfig's.
 */
export async function loadIssueConfigWithFlags(
  opts: { config: string; configExplicit: boolean; json?: boolean },
  flags: CertbotFlags,
  warnings: string[],
): Promise<import('../config/types.js').Config> {
  const { stat } = await import('node:fs/promises');
  const exists = await stat(opts.config).then(() => true, () => false);
  const config = await loadConfigWithFlags({ ...(opts.configExplicit || exists ? { path: opts.config } : {}), flags });
  warnings.push(...config.warnings);
  if (!opts.json) for (const w of config.warnings) process.stderr.write(`warning: ${w}\n`);
  return config;
}
