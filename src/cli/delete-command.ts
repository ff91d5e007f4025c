/**
 * `gxit-cert delete NAME [--yes] [--force]`: removes a lineage that is no longer configured (a
 * renamed Galaxy host), keeping a backup (file store: state_dir/deleted/NAME-TIME.tar.gz, 0600).
 * A configured lineage is refused unless --force (the next issue would only create it again).
 */
import { GxitError } from '../errors.js';
import { GLOBAL_SCOPE } from '../store/contract.js';
import { loadCommandConfig, withStoreLock } from './command-context.js';
import type { CommonOptions } from './main.js';
import { EXIT_OK, reportCommandError } from './output.js';

export interface DeleteOptions extends CommonOptions {
  yes?: boolean;
  force?: boolean;
}

export async function runDelete(name: string, opts: DeleteOptions): Promise<number> {
  const warnings: string[] = [];
  const out = process.stdout;
  const err = process.stderr;
  try {
    const config = await loadCommandConfig(opts.config, opts, warnings);
    if (config.certificates.some((c) => c.name === name) && !opts.force) {
      throw new GxitError('USAGE', `lineage ${JSON.stringify(name)} is still configured in ${config.source}`, {
        subject: name,
        fix: 'remove it from certificates: first (or pass --force to delete it anyway; the next issue orders it again)',
      });
    }
    if (!opts.yes) {
      throw new GxitError('USAGE', `delete ${name}: this removes its live/, archive/ and renewal/ files`, { subject: name, fix: `run gxit-cert delete ${name} --yes to confirm (a backup is kept)` });
    }
    return await withStoreLock(
      config,
      GLOBAL_SCOPE,
      async ({ store, lock }) => {
        const removed = await store.removeLineage(name, { fence: lock.lost });
        if (removed === undefined) throw new GxitError('USAGE', `no lineage ${JSON.stringify(name)} in ${config.stateDir}`, { subject: name, fix: 'run gxit-cert status to see the lineages' });
        if (opts.json) out.write(`${JSON.stringify({ ok: true, name, backup: removed.backup, warnings }, null, 2)}\n`);
        else err.write(`${name}: removed; backup ${removed.backup}\n`);
        return EXIT_OK;
      },
      { interrupts: false },
    );
  } catch (error) {
    return reportCommandError(error, opts, warnings, { out, err });
  }
}
