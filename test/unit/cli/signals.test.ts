import { describe, expect, it } from 'vitest';
import { EXIT_CODES, listenForInterrupts } from '../../../src/cli/signals.js';

function harness() {
  const listeners = new Map<string, (signal: NodeJS.Signals) => void>();
  const written: string[] = [];
  const exits: number[] = [];
  const interrupts = listenForInterrupts({
    on: (event, listener) => void listeners.set(event, listener),
    off: (event) => void listeners.delete(event),
    stderr: { write: (text: string) => written.push(text) },
    exit: (code) => void exits.push(code),
  });
  const send = (signal: 'SIGINT' | 'SIGTERM'): void => listeners.get(signal)?.(signal);
  return { interrupts, send, written, exits, listeners };
}

describe('listenForInterrupts', () => {
  it('the first signal aborts, the second only says cleanup is finishing, the third exits with the first signal’s code', () => {
    const h = harness();
    h.send('SIGTERM');
    expect(h.interrupts.signal.aborted).toBe(true);
    expect(h.interrupts.received()).toBe('SIGTERM');
    h.send('SIGTERM');
    expect(h.exits).toEqual([]);
    expect(h.written.join('')).toMatch(/cleanup is finishing/);
    h.send('SIGINT');
    expect(h.exits).toEqual([143]);
  });

  it('exit codes are 128 + the signal number', () => {
    expect(EXIT_CODES).toEqual({ SIGINT: 130, SIGTERM: 143 });
  });

  it('stop() removes both listeners', () => {
    const h = harness();
    expect([...h.listeners.keys()].sort()).toEqual(['SIGINT', 'SIGTERM']);
    h.interrupts.stop();
    expect(h.listeners.size).toBe(0);
  });
});
