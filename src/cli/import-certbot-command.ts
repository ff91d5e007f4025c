/**
 * `gxit-cert import-certbot`: take over certbot's lineages and account without a new order.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImportReport } from '../migrate/import.js';
import { EXIT_OK, reportCommandError } from './output.js';

export interface ImportCertbotOptions {
  certbotDir: string;
  stateDir: string;
  writeConfig: string;
  lineage?: string[];
  dryRun?: boolean;
  disableCertbot?: boolean;
  yes?: boolean;
  caBundle?: string;
  root?: string;
  json?: boolean;
  verbose?: boolean;
}

/** The hooks shipped with the package: <package>/hooks (this file is <package>/dist/cli/...). */
export function shippedHooksDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'hooks');
}

export async function runImportCertbot(opts: ImportCertbotOptions): Promise<number> {
  const out = process.stdout;
  const err = process.stderr;
  try {
    const [{ importCertbot }, { PROVIDERS }] = await Promise.all([import('../migrate/import.js'), import('../dns/providers/registry.js')]);
    const report = await importCertbot({
      certbotDir: opts.certbotDir,
      stateDir: opts.stateDir,
      writeConfig: opts.writeConfig,
      ...(opts.lineage === undefined ? {} : { lineages: opts.lineage }),
      dryRun: Boolean(opts.dryRun),
      disableCertbot: Boolean(opts.disableCertbot),
      yes: Boolean(opts.yes),
      hooksDir: shippedHooksDir(),
      ...(opts.caBundle === undefined ? {} : { caBundle: opts.caBundle }),
      root: opts.root ?? '/',
      now: new Date(),
      providers: PROVIDERS,
    });
    if (opts.json) out.write(`${JSON.stringify({ ok: true, ...report }, null, 2)}\n`);
    else out.write(renderReport(report, opts));
    return EXIT_OK;
  } catch (error) {
    return reportCommandError(error, opts, [], { out, err });
  }
}

export function renderReport(r: ImportReport, opts: { verbose?: boolean; disableCertbot?: boolean; yes?: boolean }): string {
  const lines: string[] = [];
  const verb = r.dryRun ? 'would import' : 'imported';
  for (const l of r.lineages) {
    if (l.skipped) lines.push(`${l.name}: already imported (serial ${l.serial}), left as it is`);
    else lines.push(`${l.name}: ${verb} ${l.versions} version${l.versions === 1 ? '' : 's'}; live: serial ${l.serial}, expires ${l.notAfter}, ${l.domains.join(', ')}`);
  }
  if (r.account !== undefined) {
    lines.push(r.account.skipped ? `account ${r.account.url}: already in the state directory` : `account ${r.account.url} (${r.account.server}): ${verb}; the next order uses it`);
  }
  if (r.configWritten) lines.push(`configuration: wrote ${r.configPath}`);
  else if (r.dryRun) lines.push(`configuration: would write ${r.configPath}`);
  for (const d of r.disabled) lines.push(`certbot: ${d}`);
  if (r.schedulers.length > 0 && !(opts.disableCertbot && opts.yes)) {
    for (const s of r.schedulers) {
      lines.push(`certbot scheduler: ${s.where}${s.lines.length > 0 ? `: ${s.lines.join(' | ')}` : ''}`);
    }
    lines.push(opts.disableCertbot ? 'run again with --disable-certbot --yes to switch these off too (autorenew = False already stops them renewing the imported lineages)' : 'certbot still renews these lineages: run with --disable-certbot once gxit-cert works');
  } else if (!opts.disableCertbot && !r.dryRun) {
    lines.push('certbot still renews these lineages: run with --disable-certbot once gxit-cert works');
  }
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  if (opts.verbose) for (const n of r.notes) lines.push(`note: ${n}`);
  if (r.dryRun) lines.push('dry run: nothing was changed');
  return `${lines.join('\n')}\n`;
}
