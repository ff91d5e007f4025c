/** The package as an admin gets it: the bundle, `npm pack`, `npm install -g --prefix` (offline: no dependencies). */
import { execFile } from 'node:child_process';
import { cp, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
export const CHECKOUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Packs the checkout into `dir` as `npm pack` does and resolves to the tarball's path. `npm pack` in
 * the checkout would run `prepare`, whose tsc rewrites dist/ under the other test files' feet, and two
 * test files would write bundle/ at once: so the package's files are copied to `dir/package`, the
 * bundle is built there, and npm packs that copy (without scripts; the same files end up in the tarball).
 */
export async function packTarball(dir: string): Promise<string> {
  const stage = path.join(dir, 'package');
  await mkdir(stage, { recursive: true });
  const manifest = JSON.parse(await readFile(path.join(CHECKOUT, 'package.json'), 'utf8')) as { files: string[] };
  for (const entry of [...manifest.files.filter((f) => f !== 'bundle'), 'package.json', 'README.md']) {
    await cp(path.join(CHECKOUT, entry), path.join(stage, entry), { recursive: true });
  }
  await exec(process.execPath, [path.join(CHECKOUT, 'scripts/bundle.mjs'), path.join(stage, 'bundle')], { cwd: CHECKOUT });
  const packed = await exec('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: stage });
  const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
  return path.join(dir, filename);
}

/** `npm install -g --prefix PREFIX --offline TARBALL`: the bundle carries every dependency, nothing is fetched. */
export async function installTarball(tarball: string, prefix: string): Promise<string> {
  await exec('npm', ['install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball], { cwd: path.dirname(tarball) });
  return path.join(prefix, 'bin', 'gxit-cert');
}
