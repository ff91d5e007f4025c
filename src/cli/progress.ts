import { redactLine } from '../redact.js';
import type { Reporter, Step } from '../orchestrate/reporter.js';

/** Progress lines on stderr ("[  0.41s] galaxy.example.org  propagation: ..."), for people at a terminal. */
export function terminalReporter(stream: NodeJS.WritableStream, opts: { showSteps: boolean; now?: () => number }): Reporter {
  const now = opts.now ?? Date.now;
  const started = now();
  const stamp = (): string => `[${((now() - started) / 1000).toFixed(2).padStart(6)}s]`;
  return {
    step(lineage: string, step: Step, detail: string) {
      if (opts.showSteps) stream.write(`${stamp()} ${lineage}  ${step}: ${detail}\n`);
    },
    warn(lineage: string, message: string) {
      stream.write(`warning: ${redactLine(`${lineage}: ${message}`)}\n`);
    },
  };
}

/** Warnings collected for the --json document instead of being printed. */
export function collectingReporter(warnings: string[]): Reporter {
  return {
    step() {},
    warn(lineage: string, message: string) {
      warnings.push(redactLine(`${lineage}: ${message}`));
    },
  };
}
