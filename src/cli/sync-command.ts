/**
 * `gxit-cert sync`: one shot of following the cluster. Every configured certificate whose cluster
 * version is newer than this node's is written into state_dir (certbot layout, the same version
 * numbers as everywhere), then the deploy hooks and the served check run. Exit 1 when the database
 * cannot be reached (one line naming it; the local files stay as they are) or a deploy failed.
 */
import { GxitError } from '../errors.js';
import { peekLineage } from '../store/cluster/pull.js';
import type { OpenedClusterStore } from '../store/cluster/store.js';
import { followLine, followLineage, type FollowReport } from './cluster-follow.js';
import { loadCommandConfig } from './command-context.js';
import { hookData, hookOutputPrinter, servedData } from './lineage-output.js';
import type { CommonOptions } from './main.js';
import { errorData, EXIT_FAILURE, EXIT_OK, reportCommandError } from './output.js';
import type { Config } from '../config/types.js';

export interface SyncOptions extends CommonOptions {
  quiet?: boolean;
  /** Say what a sync would write; write nothing, run no hook (renew --dry-run on a follower too). */
  dryRun?: boolean;
}

/** The cluster section or a usage error: sync and watch mean nothing without it. */
export function requireCluster(config: Config, command: string): asserts config is Config & { cluster: NonNullable<Config['cluster']> } {
  if (config.cluster === undefined) {
    throw new GxitError('CONFIG_INVALID', `${config.source}: gxit-cert ${command} needs a cluster: section`, {
      subject: 'cluster',
      fix: 'add cluster: with database: and key_file: (see docs/cluster.md), or use renew on a single machine',
    });
  }
}

export async function openCluster(config: Config): Promise<OpenedClusterStore> {
  requireCluster(config, 'sync');
  const { openClusterStore } = await import('../store/cluster/store.js');
  return openClusterStore({ stateDir: config.stateDir, cluster: config.cluster });
}

export function followData(r: FollowReport): Record<string, unknown> {
  return {
    name: r.name,
    domains: r.domains,
    status: r.status,
    ...(r.from === undefined ? {} : { from: r.from }),
    ...(r.to === undefined ? {} : { version: r.to }),
    ...(r.hooks.length > 0 ? { hooks: r.hooks.map(hookData) } : {}),
    ...(r.served.length > 0 ? { served: r.served.map(servedData) } : {}),
    ...(r.problems.length > 0 ? { problems: r.problems } : {}),
    ...(r.error === undefined ? {} : { error: errorData(r.error) }),
  };
}

export function followLines(r: FollowReport, node: string): string[] {
  const lines = [followLine(r, node)];
  for (const run of r.hooks) if (run.ok) lines.push(`${r.name}: deploy hook ${run.label}: ok (${(run.durationMs / 1000).toFixed(2)} s)`);
  if (r.served.length > 0 && r.served.every((c) => c.ok)) {
    lines.push(`${r.name}: ${[...new Set(r.served.map((c) => c.address))].join(', ')} serve(s) version ${r.to}`);
  }
  for (const problem of r.problems) lines.push(`${r.name}: error: ${problem}`);
  return lines;
}

export const followOk = (r: FollowReport): boolean => r.status !== 'failed' && r.problems.length === 0;

/** What a sync would do, from the database and this node's files; nothing is written, no hook runs. */
async function dryRun(opened: OpenedClusterStore, config: Config & { cluster: NonNullable<Config['cluster']> }, opts: SyncOptions, warnings: string[]): Promise<number> {
  const node = config.cluster.node;
  const seen = await Promise.all(
    config.certificates.map(async ({ name }) => {
      const p = await peekLineage(opened, name);
      const status = p.to === undefined ? 'absent' : p.from !== undefined && p.from >= p.to ? 'current' : 'would-sync';
      return { ...p, status };
    }),
  );
  if (opts.json) {
    const results = seen.map((p) => ({ name: p.name, status: p.status, ...(p.from === undefined ? {} : { from: p.from }), ...(p.to === undefined ? {} : { version: p.to }) }));
    process.stdout.write(`${JSON.stringify({ ok: true, dryRun: true, node, results, warnings }, null, 2)}\n`);
    return EXIT_OK;
  }
  for (const p of seen) {
    const line =
      p.status === 'absent'
        ? 'the cluster has no certificate yet (a renewer runs gxit-cert issue)'
        : p.status === 'current'
          ? `current: this node (${node}) has version ${p.to}`
          : `a sync would write version ${p.to} to this node (${node})${p.from === undefined ? '' : `, which has version ${p.from}`}, and run its deploy hooks`;
    process.stderr.write(`${p.name}: dry run: ${line}; nothing was written\n`);
  }
  return EXIT_OK;
}

/** `loaded`: the configuration a caller already read (renew on a node with cluster.renewer: false). */
export async function runSync(opts: SyncOptions, loaded?: { config: Config; warnings: string[] }): Promise<number> {
  const warnings: string[] = loaded?.warnings ?? [];
  const out = process.stdout;
  const err = process.stderr;
  let opened: OpenedClusterStore | undefined;
  try {
    const config = loaded?.config ?? (await loadCommandConfig(opts.config, opts, warnings));
    requireCluster(config, 'sync');
    opened = await openCluster(config);
    if (opts.dryRun) return await dryRun(opened, config, opts, warnings);
    const onHookOutput = hookOutputPrinter(opts);
    const reports: FollowReport[] = [];
    for (const certificate of config.certificates) {
      reports.push(await followLineage({ config, opened, parentEnv: process.env, ...(onHookOutput === undefined ? {} : { onHookOutput }) }, certificate));
    }
    const ok = reports.every(followOk);
    if (opts.json) {
      out.write(`${JSON.stringify({ ok, node: config.cluster.node, results: reports.map(followData), warnings }, null, 2)}\n`);
    } else {
      for (const r of reports) {
        if (opts.quiet && followOk(r)) continue;
        for (const line of followLines(r, config.cluster.node)) err.write(`${line}\n`);
      }
    }
    return ok ? EXIT_OK : EXIT_FAILURE;
  } catch (error) {
    return reportCommandError(error, opts, warnings, { out, err });
  } finally {
    await opened?.close();
  }
}
