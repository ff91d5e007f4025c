/**
 * `gxit-cert init`: write a first configuration from galaxy.yml, the certbot role's group_vars and/or
 * certbot's directory, then run check-dns on it. Asks for a missing host or email only on a terminal.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { GxitError, messageOf } from '../errors.js';
import type { CertbotFacts } from '../migrate/init.js';
import { shippedHooksDir } from './import-certbot-command.js';
import { EXIT_OK, reportCommandError } from './output.js';

export interface InitOptions {
  galaxyConfig?: string;
  groupVars?: string;
  certbotDir?: string;
  write: string;
  host?: string;
  email?: string;
  server?: string;
  stateDir?: string;
  caBundle?: string;
  resolver?: string[];
  check: boolean;
  verbose?: boolean;
}

async function readYaml(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new GxitError('CONFIG_NOT_FOUND', `${what} ${path} cannot be read (${messageOf(error)})`, { subject: path, fix: `check the path given to ${what}` });
  }
  const { parse } = await import('yaml');
  try {
    return parse(text);
  } catch (error) {
    throw new GxitError('CONFIG_SYNTAX', `${path} is not valid YAML: ${messageOf(error).split('\n')[0] ?? ''}`, { subject: path, fix: `fix the YAML of ${path}` });
  }
}

async function certbotFacts(dir: string): Promise<CertbotFacts> {
  const { listCertbotLineages, readCertbotLineage, readRfc2136Ini } = await import('../migrate/certbot-tree.js');
  const names = await listCertbotLineages(dir);
  for (const name of names) {
    const read = await readCertbotLineage(dir, name);
    if (!read.ok) continue;
    const { mapping, live } = read.lineage;
    const credentials = mapping.provider.kind === 'rfc2136' ? mapping.provider.credentials : undefined;
    const ini = credentials === undefined ? undefined : await readRfc2136Ini(credentials).catch(() => undefined);
    return { dir, name, domains: live.facts.domains, server: mapping.server, route53: mapping.provider.kind === 'route53', ...(credentials === undefined ? {} : { credentials }), ...(ini === undefined ? {} : { ini }) };
  }
  throw new GxitError('CONFIG_INVALID', `no readable certbot lineage in ${dir}`, { subject: dir, fix: 'name certbot\'s directory with --certbot-dir (renewal/<name>.conf), or leave the option out' });
}

async function ask(question: string): Promise<string | undefined> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(question)).trim();
    return answer === '' ? undefined : answer;
  } finally {
    rl.close();
  }
}

export async function runInit(opts: InitOptions): Promise<number> {
  const err = process.stderr;
  try {
    const [{ deriveInit, hostOfUrl }, { PROVIDERS }] = await Promise.all([import('../migrate/init.js'), import('../dns/providers/registry.js')]);
    const providers = PROVIDERS.map((p) => p.name);
    const galaxy = opts.galaxyConfig === undefined ? undefined : await readYaml(opts.galaxyConfig, '--galaxy-config');
    const groupVars = opts.groupVars === undefined ? undefined : await readYaml(opts.groupVars, '--group-vars');
    const certbot = opts.certbotDir === undefined ? undefined : await certbotFacts(opts.certbotDir);
    const flags = {
      ...(opts.host === undefined ? {} : { host: opts.host }),
      ...(opts.email === undefined ? {} : { email: opts.email }),
      ...(opts.server === undefined ? {} : { server: opts.server }),
      ...(opts.stateDir === undefined ? {} : { stateDir: resolve(opts.stateDir) }),
      ...(opts.caBundle === undefined ? {} : { caBundle: resolve(opts.caBundle) }),
      ...(opts.resolver === undefined ? {} : { resolvers: opts.resolver }),
    };
    const base = { ...(galaxy === undefined ? {} : { galaxy, galaxyPath: opts.galaxyConfig! }), ...(groupVars === undefined ? {} : { groupVars, groupVarsPath: opts.groupVars! }), ...(certbot === undefined ? {} : { certbot }) };
    let result = deriveInit({ ...base, flags, providers, hooksDir: shippedHooksDir(), now: new Date() });
    // On a terminal, ask for what is missing; elsewhere (Ansible, CI) never wait for input.
    if (result.missing.some((m) => m.startsWith('the Galaxy host'))) {
      const answer = await ask('Galaxy host name (e.g. galaxy.example.org): ');
      const host = answer === undefined ? undefined : hostOfUrl(answer);
      if (host !== undefined) flags.host = host;
    }
    if (result.missing.some((m) => m.startsWith('an email'))) {
      const email = await ask('Email address for the CA: ');
      if (email !== undefined) flags.email = email;
    }
    result = deriveInit({ ...base, flags, providers, hooksDir: shippedHooksDir(), now: new Date() });

    const path = resolve(opts.write);
    const { writeAtomic } = await import('../migrate/write.js');
    await writeAtomic(path, result.configText, { mode: result.holdsSecret ? 0o600 : 0o644, exclusive: true });
    err.write(`wrote ${path} for ${result.domains.join(', ')}${result.holdsSecret ? ' (mode 0600: it holds a secret)' : ''}\n`);
    for (const w of result.warnings) err.write(`warning: ${w}\n`);
    for (const m of result.missing) err.write(`missing: ${m}: edit ${path}\n`);
    if (!opts.check) return EXIT_OK;
    if (result.missing.length > 0) {
      err.write(`check-dns skipped until the missing values are filled in; then run: gxit-cert check-dns --config ${path}\n`);
      return EXIT_OK;
    }
    err.write(`running check-dns --config ${path} (in ${dirname(path)})\n`);
    const { runCheckDns } = await import('./check-command.js');
    return await runCheckDns({ config: path, ...(opts.verbose ? { verbose: true } : {}) });
  } catch (error) {
    return reportCommandError(error, opts, []);
  }
}
