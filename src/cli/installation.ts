/**
 * Where this gxit-cert is installed: its package directory, the shipped hooks, and the binary that
 * a timer or cron entry must name so that renewals keep running after a checkout is deleted.
 * Works the same from tsc's output (dist/) and from the published bundle (bundle/).
 */
import { constants } from 'node:fs';
import { access, readFile, realpath } from 'node:fs/promises';
import { basename, delimiter, dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GxitError } from '../errors.js';

const PACKAGE_NAME = 'gxit-cert';

/** The directory holding gxit-cert's package.json (found upwards from this module), resolved. */
export async function packageRoot(): Promise<string> {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = await readFile(join(dir, 'package.json'), 'utf8').catch(() => undefined);
    if (manifest !== undefined && manifestName(manifest) === PACKAGE_NAME) return realpath(dir);
    const parent = dirname(dir);
    if (parent === dir) throw new GxitError('INTERNAL', `no package.json of ${PACKAGE_NAME} above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

function manifestName(text: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && 'name' in parsed && typeof parsed.name === 'string' ? parsed.name : undefined;
  } catch {
    return undefined;
  }
}

/** The shipped hook scripts (reload-nginx, install-files, restart-gx-it-proxy). */
export async function hooksDir(): Promise<string> {
  return join(await packageRoot(), 'hooks');
}

/**
 * Whether a package directory is an installed copy (`<prefix>/lib/node_modules/gxit-cert`, or any
 * node_modules) rather than a checkout or a link to one. npx's cache (`_npx`) is not an installation:
 * npm removes it when it likes.
 */
export function isInstalledPackage(root: string): boolean {
  const parts = root.split(sep);
  return parts.length >= 2 && parts[parts.length - 2] === 'node_modules' && !parts.includes('_npx');
}

async function executable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

/** The package directory a `gxit-cert` command leads to (bin link -> <root>/bin/gxit-cert.js). */
async function rootOfCommand(path: string): Promise<string | undefined> {
  const target = await realpath(path).catch(() => undefined);
  if (target === undefined || basename(target) !== 'gxit-cert.js') return undefined;
  return dirname(dirname(target));
}

/**
 * The installed gxit-cert a scheduled job should run: the `<prefix>/bin/gxit-cert` link of this
 * package when it is installed, otherwise a `gxit-cert` on PATH that leads to an installed package.
 * A checkout (or `npm link` to one) is refused: deleting it would silently stop renewals.
 */
export async function installedBinary(searchPath: string | undefined = process.env.PATH): Promise<string> {
  const root = await packageRoot();
  const candidates: string[] = [];
  if (isInstalledPackage(root)) {
    // <prefix>/lib/node_modules/gxit-cert -> <prefix>/bin/gxit-cert
    candidates.push(join(dirname(dirname(dirname(root))), 'bin', PACKAGE_NAME));
  }
  for (const dir of (searchPath ?? '').split(delimiter)) {
    if (dir.startsWith('/')) candidates.push(join(dir, PACKAGE_NAME));
  }
  const installed: { path: string; ours: boolean }[] = [];
  for (const path of candidates) {
    if (!(await executable(path))) continue;
    const target = await rootOfCommand(path);
    if (target !== undefined && isInstalledPackage(target)) installed.push({ path, ours: target === root });
  }
  const best = installed.find((c) => c.ours) ?? installed[0];
  if (best !== undefined) return best.path;
  if (isInstalledPackage(root)) return join(root, 'bin', 'gxit-cert.js');
  throw new GxitError('NOT_INSTALLED', `gxit-cert runs from ${root}, which is not an installed package, and no installed gxit-cert is on PATH: a scheduled job naming this copy stops when it is removed`, {
    subject: root,
    fix: 'install it first (npm pack, then npm install -g ./gxit-cert-<version>.tgz; see docs/install.md) and run the installed gxit-cert install-timer',
  });
}

/** Programs of cron daemons that read /etc/cron.d (Debian's cron, cronie, systemd-cron's generator). */
export const CRON_DAEMONS = [
  '/usr/sbin/cron',
  '/usr/sbin/crond',
  '/usr/bin/crond',
  '/sbin/crond',
  '/usr/lib/systemd/system-generators/systemd-crontab-generator',
  '/lib/systemd/system-generators/systemd-crontab-generator',
];
