/**
 * `gxit-cert status`: per lineage the names, serial, issuer, expiry, whether and why it is due, and
 * the last run. Reads the state directory only (no lock, no CA, no DNS). Exit 1 when a lineage is
 * expired, not deployed, broken, or due and its last renewal attempt failed, so monitors can run it;
 * a failed run of a certificate that is not due, and TXT values left in the DNS journal, are warnings.
 */
import { dirname } from 'node:path';
import { nodeFs, writeFileAtomic } from '../store/fs.js';
import { readSnapshots } from '../renew/facts.js';
import { lineageStatus, prometheusText, stateWord, type LineageStatusEntry } from '../renew/status.js';
import { openConfiguredCluster, openStore } from '../store/factory.js';
import { GxitError } from '../errors.js';
import type { DnsJournal } from '../store/contract.js';
import type { ClusterSection } from './cluster-status.js';
import { loadCommandConfig } from './command-context.js';
import type { CommonOptions } from './main.js';
import { EXIT_FAILURE, EXIT_OK, reportCommandError } from './output.js';

export interface StatusOptions extends CommonOptions {
  prometheus?: string;
}

export async function runStatus(opts: StatusOptions): Promise<number> {
  const warnings: string[] = [];
  const out = process.stdout;
  const err = process.stderr;
  try {
    const config = await loadCommandConfig(opts.config, opts, warnings);
    // In cluster mode the cluster section reads on the connection of the store opened here: one session.
    const clusterStore = config.cluster === undefined ? undefined : await openConfiguredCluster({ ...config, cluster: config.cluster });
    const { store, close } = clusterStore ?? (await openStore(config));
    const now = Date.now();
    let names: string[];
    let snapshots: Awaited<ReturnType<typeof readSnapshots>>;
    let section: ClusterSection | undefined;
    try {
      const stored = await store.listLineages();
      names = [...new Set([...config.certificates.map((c) => c.name), ...stored])];
      snapshots = await readSnapshots(store, names);
      // cluster: each node's deployed version, served serial and last error (exit 1 on a lagging or failed node).
      if (clusterStore !== undefined) section = await (await import('./cluster-status.js')).clusterSection(clusterStore, now);
    } finally {
      // A cluster store holds a database connection.
      await close();
    }
    const entries = names.map((name) =>
      lineageStatus(
        snapshots.get(name) ?? { name },
        config.certificates.find((c) => c.name === name),
        now,
        config.renewBeforeDays === undefined ? {} : { renewBeforeDays: config.renewBeforeDays },
      ),
    );
    if (opts.prometheus !== undefined) await writePrometheus(opts.prometheus, prometheusText(entries) + (section?.prometheus ?? ''));
    const ok = entries.every((e) => !e.issued || e.healthy) && section?.ok !== false;
    const leftovers = await listLeftovers(store.journal, config.dns?.provider);
    if (opts.json) {
      const clusterJson = section === undefined ? {} : { cluster: { database: section.database, ok: section.ok, lineages: section.lineages } };
      out.write(`${JSON.stringify({ ok, lineages: entries, ...clusterJson, dnsLeftovers: leftovers, warnings }, null, 2)}\n`);
    } else {
      if (entries.length === 0) out.write('no certificates configured or stored\n');
      for (const entry of entries) out.write(describe(entry));
      for (const line of section?.lines ?? []) out.write(`${line}\n`);
      for (const l of leftovers) out.write(`warning: TXT values left behind: ${l.description}: ${l.reason}\n`);
    }
    return ok ? EXIT_OK : EXIT_FAILURE;
  } catch (error) {
    return reportCommandError(error, opts, warnings, { out, err });
  }
}

interface LeftoverLine {
  description: string;
  records: { fqdn: string; value: string }[];
  provider: string;
  /** Whether the next issue/renew/check-dns run can remove them with the configured provider. */
  removable: boolean;
  reason: string;
}

/**
 * The DNS journal's entries, without touching DNS: which the next run removes, which it cannot.
 * `provider` is undefined on a follower: it loads no DNS provider (the entries date from when this node was a renewer).
 */
async function listLeftovers(journal: DnsJournal | undefined, provider: string | undefined): Promise<LeftoverLine[]> {
  if (journal === undefined) return [];
  const entries = await journal.list();
  if (entries.length === 0) return [];
  const { cannotRemove, describeEntry } = await import('../orchestrate/journal.js');
  return entries.map((entry) => {
    const refused = provider === undefined ? FOLLOWER_CANNOT_REMOVE : cannotRemove(entry, { name: provider });
    return {
      description: describeEntry(entry),
      records: entry.records,
      provider: entry.provider,
      removable: refused === undefined,
      reason: refused ?? 'the next issue, renew or check-dns run removes them',
    };
  });
}

const FOLLOWER_CANNOT_REMOVE =
  'this node is not a renewer (cluster.renewer: false) and writes no DNS: run renew once with cluster.renewer: true and its dns: section, or remove the values by hand and then the journal entry';

async function writePrometheus(path: string, text: string): Promise<void> {
  try {
    await writeFileAtomic(nodeFs, path, text, { mode: 0o644 });
  } catch (error) {
    throw new GxitError('STORE_IO', `cannot write the textfile ${path}`, {
      subject: path,
      fix: `check that ${dirname(path)} exists and is writable (node-exporter's --collector.textfile.directory)`,
      cause: error,
    });
  }
}

function describe(e: LineageStatusEntry): string {
  const lines: string[] = [];
  const head = `${e.name}: ${stateWord(e)}`;
  if (!e.issued) {
    lines.push(`${head} (run gxit-cert issue)`, `  domains: ${e.domains.join(', ')}`);
    return `${lines.join('\n')}\n`;
  }
  const expiry = e.notAfter === undefined ? '' : `, expires ${e.notAfter} (${e.daysLeft} days left)`;
  lines.push(`${head}${expiry}${e.configured ? '' : ' - not in the configuration, not renewed'}`);
  lines.push(`  domains: ${e.domains.join(', ')}`);
  if (e.problem !== undefined) lines.push(`  problem: ${e.problem}`);
  if (e.serial !== undefined) lines.push(`  serial ${e.serial}, issuer ${e.issuer}, version ${e.version ?? '?'}`);
  if (e.due !== undefined) lines.push(`  ${e.due.due ? 'due' : 'not due'}: ${e.due.detail}`);
  if (e.ari?.supported === true && e.ari.nextFetchAt !== undefined) lines.push(`  renewal information (ARI) checked ${e.ari.fetchedAt ?? '?'}, next check ${e.ari.nextFetchAt}`);
  if (e.ari?.error !== undefined) lines.push(`  renewal information (ARI) unavailable: ${e.ari.error}`);
  if (e.lastRun !== undefined) lines.push(`  last run ${e.lastRun.at}: ${e.lastRun.ok ? 'ok' : `failed: ${e.lastRun.error ?? '?'}`}`);
  for (const w of e.warnings) lines.push(`  warning: ${w}`);
  if (e.deploy !== undefined) lines.push(`  deploy of version ${e.deploy.version} at ${e.deploy.at}: ${e.deploy.ok ? 'ok' : `failed: ${e.deploy.error ?? '?'}`}`);
  return `${lines.join('\n')}\n`;
}
