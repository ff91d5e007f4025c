/** The outcome of an issue/renew run, per lineage and for the run; built by run.ts (and decide.ts when idle). */
import type { HookRun } from '../hooks/run.js';
import type { ServedCheck } from '../hooks/served.js';
import type { DueDecision } from '../renew/due.js';
import type { PlanReason } from '../renew/issue-plan.js';
import type { RenewPlanItem } from '../renew/plan.js';
import type { LineageResult } from './order.js';

export type LineageStatus = 'issued' | 'renewed' | 'redeployed' | 'dry-run' | 'current' | 'not-due' | 'failed';

export interface LineageReport {
  name: string;
  domains: string[];
  status: LineageStatus;
  reason?: PlanReason;
  /** renew: why the lineage is due or when it will be. */
  due?: DueDecision;
  /** The issue flow's result, for lineages that were ordered. */
  result?: LineageResult;
  /** deploy or on_failure hooks. */
  hooks: HookRun[];
  served: ServedCheck[];
  /** Hook and served-check failures: the certificate is stored, but maybe not in use. */
  problems: string[];
}

export interface CycleReport {
  mode: 'issue' | 'renew';
  dryRun: boolean;
  /** The ACME server the orders went to. */
  server: string;
  /** Whether any order was needed (and the pre/post hooks ran). */
  ordered: boolean;
  lineages: LineageReport[];
  pre: HookRun[];
  post: HookRun[];
  /** pre/post hook failures. */
  problems: string[];
  ok: boolean;
}

/** The report of a lineage before (or without) an order: current, or not due with the decision. */
export function initialReport(item: RenewPlanItem, renewing: boolean): LineageReport {
  const { name, domains } = item.certificate;
  return {
    name,
    domains,
    status: renewing ? 'not-due' : 'current',
    ...(renewing && item.due !== undefined ? { due: item.due } : {}),
    hooks: [],
    served: [],
    problems: [],
  };
}
