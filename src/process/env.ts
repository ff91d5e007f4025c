/**
 * The start of every environment we give another program (hooks, exec DNS scripts), built from
 * scratch: never the whole of gxit-cert's own environment (TSIG and cloud secrets may be there), only
 * a few harmless variables, and a PATH that also holds the sbin directories (cron's PATH lacks them,
 * and nginx lives in /usr/sbin).
 */

/** Variables passed on from gxit-cert's environment, when set. Nothing else is. */
export const PASSED_VARIABLES = ['HOME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ'] as const;

export const STANDARD_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'] as const;

/** PATH of the parent with the standard directories it lacks appended. */
export function childPath(parentPath: string | undefined): string {
  const parts = (parentPath ?? '').split(':').filter((p) => p !== '');
  for (const dir of STANDARD_PATH) if (!parts.includes(dir)) parts.push(dir);
  return parts.join(':');
}

/** PATH and the passed variables that are set and not empty (pure). */
export function baseEnvironment(parent: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = { PATH: childPath(parent.PATH) };
  for (const name of PASSED_VARIABLES) {
    const value = parent[name];
    if (value !== undefined && value !== '') env[name] = value;
  }
  return env;
}
