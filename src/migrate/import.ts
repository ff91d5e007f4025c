/**
 * import-certbot, the I/O around the pure plan: read certbot's directory, refuse while certbot runs,
 * write the lineages and the account through the store (under its lock), write the configuration,
 * and on request switch certbot's renewal off. certbot's directory is only ever changed by
 * `disableCertbot` (autorenew = False with a .bak, scheduler lines commented out with a .bak).
 */
import { createPublicKey, X509Certificate } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { evaluateConfigText, type ParseOptions } from '../config/load.js';
import { GxitError } from '../errors.js';
import { GLOBAL_SCOPE, openStore, type Locker, type Store } from '../store/index.js';
import { assertCertbotIdle, type LockDeps } from './certbot-lock.js';
import {
  listCertbotLineages,
  readCertbotAccount,
  readCertbotLineage,
  readHookScripts,
  readRfc2136Ini,
  type CertbotAccount,
  type CertbotLineage,
} from './certbot-tree.js';
import { setRenewalParam } from './configobj.js';
import { planImport, type ImportPlan } from './plan.js';
import { disableScheduler, findSchedulers, type DisableDeps, type Scheduler } from './schedulers.js';
import { backupAndReplace, writeAtomic } from './write.js';

export interface ImportOptions {
  certbotDir: string;
  stateDir: string;
  writeConfig: string;
  lineages?: string[];
  dryRun: boolean;
  disableCertbot: boolean;
  /** Also disable certbot's schedulers (otherwise they are listed). */
  yes: boolean;
  hooksDir: string;
  caBundle?: string;
  /** Prefix for system paths (tests). */
  root: string;
  now: Date;
  lockDeps?: LockDeps;
  disableDeps?: DisableDeps;
  /** The registered DNS providers, for loading the written configuration (from src/cli). */
  providers: ParseOptions['providers'];
}

export interface ImportedLineage {
  name: string;
  domains: string[];
  serial: string;
  notAfter: string;
  versions: number;
  /** Already in the state directory with the same certificate: nothing written. */
  skipped: boolean;
}

export interface ImportReport {
  dryRun: boolean;
  lineages: ImportedLineage[];
  account?: { url: string; server: string; skipped: boolean };
  configPath: string;
  configWritten: boolean;
  disabled: string[];
  schedulers: Scheduler[];
  warnings: string[];
  notes: string[];
}

export async function importCertbot(opts: ImportOptions): Promise<ImportReport> {
  const certbotDir = resolve(opts.certbotDir);
  const stateDir = resolve(opts.stateDir);
  const configPath = resolve(opts.writeConfig);
  if (certbotDir === stateDir) {
    throw new GxitError('USAGE', `--state-dir is certbot's own directory ${certbotDir}`, {
      subject: stateDir,
      fix: 'import into a directory of its own, e.g. --state-dir /etc/gxit-cert (certbot\'s stays as it is, for rollback)',
    });
  }
  await assertCertbotIdle(certbotDir, opts.lockDeps);
  // An existing configuration is kept (it may have been edited since): a second run only adds
  // what is missing, e.g. --disable-certbot after the import was checked.
  const configExists = await stat(configPath).then(() => true, () => false);

  const available = await listCertbotLineages(certbotDir);
  const wanted = opts.lineages !== undefined && opts.lineages.length > 0 ? opts.lineages : available;
  for (const name of wanted) {
    if (!available.includes(name)) {
      throw new GxitError('USAGE', `certbot has no lineage ${name} in ${certbotDir}/renewal`, {
        subject: name,
        fix: `name one of: ${available.join(', ') || '(none)'}`,
      });
    }
  }
  const lineages: CertbotLineage[] = [];
  for (const name of wanted) {
    const read = await readCertbotLineage(certbotDir, name);
    if (!read.ok) {
      throw new GxitError('CONFIG_INVALID', `certbot lineage ${name} cannot be imported: ${read.reason}`, {
        subject: name,
        fix: wanted.length > 1 ? 'repair it with certbot, or leave it out by naming the others with --lineage' : 'repair it with certbot (certbot certificates shows its state)',
      });
    }
    lineages.push(read.lineage);
  }

  const first = lineages[0];
  let account: CertbotAccount | undefined;
  const accountWarnings: string[] = [];
  if (first?.mapping.accountId !== undefined) {
    const read = await readCertbotAccount(certbotDir, first.mapping.server, first.mapping.accountId);
    if (read.ok) account = read.account;
    else accountWarnings.push(read.reason);
  }
  const { scripts, skipped } = await readHookScripts(certbotDir);
  const provider = first?.mapping.provider;
  const rfc2136Ini = provider?.kind === 'rfc2136' ? await readRfc2136Ini(provider.credentials).catch(() => undefined) : undefined;
  if (provider?.kind === 'rfc2136' && rfc2136Ini === undefined) accountWarnings.push(`${provider.credentials} cannot be read`);

  const plan = planImport({
    certbotDir,
    stateDir,
    lineages,
    ...(account === undefined ? {} : { account }),
    scripts,
    ...(rfc2136Ini === undefined ? {} : { rfc2136Ini }),
    hooksDir: opts.hooksDir,
    ...(opts.caBundle === undefined ? {} : { caBundle: opts.caBundle }),
    now: opts.now,
  });
  plan.warnings.unshift(...accountWarnings);
  for (const path of skipped) plan.notes.push(`${path} is not executable; certbot skips it, so it is not imported`);

  // The written configuration must load: a mistake here would only show at the next renewal.
  const evaluated = evaluateConfigText(plan.configText, configPath, { env: process.env, providers: opts.providers });
  for (const problem of evaluated.problems) plan.warnings.push(`the written configuration needs editing: line ${problem.line}: ${problem.path}: ${problem.message}`);

  const { store, locker, close } = await openStore({ stateDir });
  try {
    return await importInto(store, locker, { opts, certbotDir, stateDir, configPath, configExists, plan });
  } finally {
    await close();
  }
}

interface ImportContext {
  opts: ImportOptions;
  certbotDir: string;
  stateDir: string;
  configPath: string;
  configExists: boolean;
  plan: ImportPlan;
}

async function importInto(store: Store, locker: Locker, ctx: ImportContext): Promise<ImportReport> {
  const { opts, certbotDir, stateDir, configPath, configExists, plan } = ctx;
  const report: ImportReport = {
    dryRun: opts.dryRun,
    lineages: [],
    configPath,
    configWritten: false,
    disabled: [],
    schedulers: await findSchedulers(opts.root),
    warnings: plan.warnings,
    notes: plan.notes,
  };
  const decisions = await decide(store, stateDir, plan);
  report.lineages = decisions.lineages;
  if (plan.account !== undefined) report.account = { url: plan.account.url, server: plan.server, skipped: decisions.accountSkipped };
  if (opts.dryRun) {
    if (configExists) report.warnings.push(`${configPath} exists already and would be kept`);
    if (opts.disableCertbot) {
      for (const p of plan.lineages) {
        if (!p.lineage.mapping.autorenewOff) report.disabled.push(`would set autorenew = False in ${p.lineage.confPath} (keeping ${p.lineage.confPath}.bak)`);
      }
      if (opts.yes) for (const s of report.schedulers) report.disabled.push(`would disable ${s.where}`);
    }
    return report;
  }

  await writeState(store, locker, plan, decisions);
  if (configExists) {
    report.warnings.push(`${configPath} exists already and was kept; move it away to have it written again`);
  } else {
    await writeAtomic(configPath, plan.configText, { mode: 0o600, exclusive: true });
    report.configWritten = true;
  }

  if (opts.disableCertbot) {
    await assertCertbotIdle(certbotDir, opts.lockDeps);
    for (const p of plan.lineages) {
      if (p.lineage.mapping.autorenewOff) continue;
      await backupAndReplace(p.lineage.confPath, setRenewalParam(p.lineage.confText, 'autorenew', 'False'));
      report.disabled.push(`${p.lineage.confPath}: autorenew = False (original in ${p.lineage.confPath}.bak)`);
    }
    if (opts.yes) {
      for (const s of report.schedulers) {
        try {
          report.disabled.push(await disableScheduler(s, opts.disableDeps));
        } catch (error) {
          report.warnings.push(`${s.where}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    }
  }
  return report;
}

interface Decisions {
  lineages: ImportedLineage[];
  accountSkipped: boolean;
}

/**
 * What is already in the state directory: the same certificate or account is skipped, anything else
 * refused. A lineage of the same names and CA whose live certificate is newer than certbot's was
 * imported before and renewed by gxit-cert since: it is skipped too.
 */
async function decide(store: Store, stateDir: string, plan: ImportPlan): Promise<Decisions> {
  const lineages: ImportedLineage[] = [];
  for (const p of plan.lineages) {
    const existing = await store.readLineage(p.lineage.name);
    const facts = p.lineage.live.facts;
    let skipped = false;
    if (existing !== undefined) {
      const live = await store.readLive(p.lineage.name);
      const liveCert = live === undefined ? undefined : new X509Certificate(live.certPem);
      const same = liveCert !== undefined && liveCert.serialNumber.toLowerCase() === facts.serial;
      const renewedSince =
        liveCert !== undefined &&
        Date.parse(liveCert.validFrom) >= Date.parse(new X509Certificate(p.lineage.live.files.cert).validFrom) &&
        sameNames(existing.state.domains, facts.domains) &&
        existing.state.server === plan.server;
      if (!same && !renewedSince) {
        throw new GxitError('USAGE', `${stateDir} holds a lineage ${p.lineage.name} with another certificate already`, {
          subject: p.lineage.name,
          fix: 'import into an empty --state-dir, or leave this lineage out with --lineage',
        });
      }
      skipped = true;
    }
    lineages.push({ name: p.lineage.name, domains: facts.domains, serial: facts.serial, notAfter: facts.notAfter, versions: p.lineage.versions.length, skipped });
  }
  let accountSkipped = false;
  if (plan.account !== undefined) {
    const stored = await store.readAccount(plan.server);
    if (stored !== undefined) {
      const spki = (pem: string): Buffer => createPublicKey(pem).export({ type: 'spki', format: 'der' });
      const same = spki(stored.keyPem).equals(spki(plan.account.keyPem));
      if (!same) {
        throw new GxitError('USAGE', `${stateDir} holds another account for ${plan.server} already`, {
          subject: plan.server,
          fix: 'import into an empty --state-dir (a state directory keeps one account per CA)',
        });
      }
      accountSkipped = true;
    }
  }
  return { lineages, accountSkipped };
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((d) => b.includes(d));
}

async function writeState(store: Store, locker: Locker, plan: ImportPlan, decisions: Decisions): Promise<void> {
  const lock = await locker.acquire(GLOBAL_SCOPE, { waitMs: 0 });
  // Every write is fenced by the lock: a run whose lock was taken over stops before the next write.
  const fence = lock.lost;
  try {
    if (plan.account !== undefined && !decisions.accountSkipped) {
      await store.writeAccountKey(plan.server, plan.account.keyPem, { fence });
      await store.writeAccountUrl(plan.server, { url: plan.account.url, ...(plan.account.email === undefined ? {} : { email: plan.account.email }) }, { fence });
    }
    for (const p of plan.lineages) {
      if (decisions.lineages.find((l) => l.name === p.lineage.name)?.skipped === true) continue;
      const retryAfter = p.lineage.mapping.ariRetryAfter;
      let expectedVersion = 0;
      for (const version of p.lineage.versions) {
        const isLive = version === p.lineage.live;
        const committed = await store.commit(
          p.lineage.name,
          { certPem: version.files.cert, privkeyPem: version.files.privkey, chainPem: version.files.chain, fullchainPem: version.files.fullchain },
          {
            domains: version.facts.domains,
            keyType: p.keyType,
            server: plan.server,
            ...(isLive && retryAfter !== undefined ? { ari: { nextFetchAt: retryAfter } } : {}),
          },
          { expectedVersion, fence },
        );
        expectedVersion = committed.version;
      }
    }
  } finally {
    await lock.release();
  }
}
