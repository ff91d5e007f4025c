/** Progress of a run, as events; the CLI decides how (and whether) to show them. */
export type Step =
  | 'account'
  | 'order'
  | 'dns-present'
  | 'propagation'
  | 'validation'
  | 'finalize'
  | 'store'
  | 'cleanup'
  | 'ari'
  | 'hook'
  | 'verify'
  | 'done';

export interface Reporter {
  step(lineage: string, step: Step, detail: string): void;
  warn(lineage: string, message: string): void;
}
