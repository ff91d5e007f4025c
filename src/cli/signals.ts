/**
 * SIGINT/SIGTERM during a run that places orders:
 * 1st: abort the run's signal; the order in progress stops and its TXT records are removed.
 * 2nd: does not cut the cleanup short (GNU timeout, and npx, deliver the same signal twice within
 *      milliseconds); says so on stderr.
 * 3rd: exit at once (records may stay behind; the next run's cleanup cannot know them).
 * An interrupted run exits with 128 + the signal number: 130 for SIGINT, 143 for SIGTERM.
 */
export const EXIT_CODES: Readonly<Record<'SIGINT' | 'SIGTERM', number>> = { SIGINT: 130, SIGTERM: 143 };

export interface Interrupts {
  readonly signal: AbortSignal;
  /** The first signal received, if any. */
  received(): 'SIGINT' | 'SIGTERM' | undefined;
  /** Stop listening (the process then reacts to the signals as Node does by default). */
  stop(): void;
}

export interface InterruptDeps {
  on?: (event: 'SIGINT' | 'SIGTERM', listener: (signal: NodeJS.Signals) => void) => void;
  off?: (event: 'SIGINT' | 'SIGTERM', listener: (signal: NodeJS.Signals) => void) => void;
  stderr?: { write(text: string): unknown };
  exit?: (code: number) => void;
  /** false: the signal does not decide the process's exit code (check-dns reports its own result). */
  decidesExitCode?: boolean;
}

let lastReceived: 'SIGINT' | 'SIGTERM' | undefined;

/** The exit code of a run interrupted in this process (130/143), undefined when none was. */
export function interruptedExitCode(): number | undefined {
  return lastReceived === undefined ? undefined : EXIT_CODES[lastReceived];
}

export function listenForInterrupts(deps: InterruptDeps = {}): Interrupts {
  const on = deps.on ?? ((event, listener) => process.on(event, listener));
  const off = deps.off ?? ((event, listener) => process.off(event, listener));
  const stderr = deps.stderr ?? process.stderr;
  const exit = deps.exit ?? ((code: number) => process.exit(code));
  const controller = new AbortController();
  let first: 'SIGINT' | 'SIGTERM' | undefined;
  let seen = 0;
  const listener = (signal: NodeJS.Signals): void => {
    seen++;
    const name = signal === 'SIGTERM' ? 'SIGTERM' : 'SIGINT';
    if (seen === 1) {
      first = name;
      if (deps.decidesExitCode !== false) lastReceived = name;
      stderr.write(`${name}: stopping after cleanup (the TXT records in place are removed first)\n`);
      controller.abort();
    } else if (seen === 2) {
      stderr.write(`${name}: cleanup is finishing (removing TXT records and the lock); send it once more to exit at once\n`);
    } else {
      exit(EXIT_CODES[first ?? name]);
    }
  };
  on('SIGINT', listener);
  on('SIGTERM', listener);
  return {
    signal: controller.signal,
    received: () => first,
    stop: () => {
      off('SIGINT', listener);
      off('SIGTERM', listener);
    },
  };
}
