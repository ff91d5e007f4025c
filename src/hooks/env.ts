/**
 * The environment a hook runs with, built from scratch: process/env.ts's start (a few harmless
 * variables of gxit-cert's own environment, a PATH that also holds the sbin directories) and the facts
 * of the run under certbot's names (RENEWED_LINEAGE, RENEWED_DOMAINS, FAILED_DOMAINS) and gxit-cert's own.
 */
import { baseEnvironment } from '../process/env.js';

export { childPath as hookPath } from '../process/env.js';

export type HookPhase = 'pre' | 'deploy' | 'post' | 'on_failure';

/** What a hook learns about one lineage. */
export interface HookLineage {
  name: string;
  domains: string[];
  live: { dir: string; cert: string; chain: string; fullchain: string; privkey: string };
  /** The live version (after a deploy: the new one). */
  version?: number;
}

export interface HookFacts {
  phase: HookPhase;
  dryRun: boolean;
  /** deploy: the lineage that was renewed; on_failure: the lineage that failed. */
  lineage?: HookLineage;
  /** on_failure: what failed (one line, no secrets). */
  error?: string;
  /** pre: lineages about to be ordered. post: lineages renewed and failed in this run. */
  planned?: string[];
  renewed?: HookLineage[];
  failed?: { name: string; domains: string[] }[];
}

/** The complete environment of a hook (pure). */
export function hookEnvironment(parent: NodeJS.ProcessEnv, facts: HookFacts): Record<string, string> {
  const env = baseEnvironment(parent);
  env.GXIT_CERT_HOOK = facts.phase;
  if (facts.dryRun) env.GXIT_CERT_DRY_RUN = '1';
  const lineage = facts.lineage;
  if (lineage !== undefined) {
    Object.assign(env, {
      GXIT_CERT_NAME: lineage.name,
      GXIT_CERT_DOMAINS: lineage.domains.join(' '),
      GXIT_CERT_LIVE_DIR: lineage.live.dir,
      GXIT_CERT_FULLCHAIN: lineage.live.fullchain,
      GXIT_CERT_CERT: lineage.live.cert,
      GXIT_CERT_CHAIN: lineage.live.chain,
      GXIT_CERT_KEY: lineage.live.privkey,
    });
    if (lineage.version !== undefined) env.GXIT_CERT_VERSION = String(lineage.version);
    if (facts.phase === 'deploy') {
      env.RENEWED_LINEAGE = lineage.live.dir;
      env.RENEWED_DOMAINS = lineage.domains.join(' ');
    }
    if (facts.phase === 'on_failure') env.FAILED_DOMAINS = lineage.domains.join(' ');
  }
  if (facts.error !== undefined) env.GXIT_CERT_ERROR = facts.error;
  if (facts.planned !== undefined) env.GXIT_CERT_LINEAGES = facts.planned.join(' ');
  if (facts.phase === 'post') {
    const renewed = facts.renewed ?? [];
    const failed = facts.failed ?? [];
    env.RENEWED_DOMAINS = renewed.flatMap((l) => l.domains).join(' ');
    env.FAILED_DOMAINS = failed.flatMap((l) => l.domains).join(' ');
    env.GXIT_CERT_RENEWED = renewed.map((l) => l.name).join(' ');
    env.GXIT_CERT_FAILED = failed.map((l) => l.name).join(' ');
    env.GXIT_CERT_OUTCOME = failed.length === 0 ? 'success' : 'failure';
  }
  return env;
}
