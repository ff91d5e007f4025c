/** Test helper: whether a process still runs, from /proc (Linux). */
import { readFile } from 'node:fs/promises';

/** Running (a zombie, killed but not reaped by an init that does not reap, counts as gone). */
export async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
