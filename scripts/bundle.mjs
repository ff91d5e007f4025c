#!/usr/bin/env node
// Builds the published package's code: src/cli/main.ts and everything it imports, dependencies
// included, as ESM chunks in bundle/ (esbuild). Every dynamic import() stays a separate chunk, so
// `--help` loads commander only and acme-client or the AWS SDK load with the command that needs them.
// The installed package then has no dependencies: `npm install -g gxit-cert-X.tgz` needs no registry.
import { createRequire } from 'node:module';
import { rm, writeFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);
const root = new URL('..', import.meta.url).pathname;
// Optional argument: another output directory (the tests pack a copy of the package).
const outdir = process.argv[2] ?? new URL('../bundle/', import.meta.url).pathname;

// In a bundle, import() of a CommonJS package yields only `default`; Node itself also offers the
// named exports. These packages are imported lazily by name, so each gets a small ESM facade whose
// named exports are read from the package at build time.
const COMMONJS_LAZY = ['acme-client', 'cron', 'pg'];
const facades = {
  name: 'commonjs-facades',
  setup(b) {
    const filter = new RegExp(`^(${COMMONJS_LAZY.map((n) => n.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')).join('|')})$`);
    b.onResolve({ filter }, (args) =>
      args.namespace === 'facade' ? undefined : { path: args.path, namespace: 'facade' },
    );
    b.onLoad({ filter: /.*/, namespace: 'facade' }, (args) => {
      const names = Object.keys(require(args.path)).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== 'default');
      const contents = [
        // `import * as`, not a default import: for a compiled module with __esModule (cron) the
        // default would be its exports.default, which it does not have.
        `import * as m from ${JSON.stringify(args.path)};`,
        ...names.map((n) => `export const ${n} = m.${n};`),
        'export default m;',
      ].join('\n');
      return { contents, loader: 'js', resolveDir: root };
    });
  },
};

// One axios: src/acme/http.ts takes the http adapter from the copy acme-client requires, so every
// import of 'axios' resolves to that file (in a checkout it is found through acme-client's path).
const sameAxios = {
  name: 'acme-client-axios',
  setup(b) {
    const file = require.resolve('axios', { paths: [require.resolve('acme-client')] });
    b.onResolve({ filter: /^axios$/ }, () => ({ path: file }));
  },
};

await rm(outdir, { recursive: true, force: true });
const result = await build({
  entryPoints: { main: `${root}src/cli/main.ts` },
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  splitting: true,
  outdir,
  chunkNames: 'chunks/[name]-[hash]',
  // ESM builds of dependencies where they ship one (the AWS SDK), so their lazy imports split too.
  mainFields: ['module', 'main'],
  // Bundled CommonJS code calls require() for Node's built-ins.
  banner: { js: "import { createRequire as __gxitRequire } from 'node:module'; const require = __gxitRequire(import.meta.url);" },
  legalComments: 'linked',
  minifySyntax: true,
  minifyWhitespace: true,
  metafile: true,
  logLevel: 'warning',
  // src/acme/http.ts: the bundle has no node_modules to resolve acme-client's axios from.
  define: { GXIT_CERT_BUNDLED: 'true' },
  plugins: [facades, sameAxios],
});
// Which packages each output file holds (bundle/packages.json): tests check that --help and a
// nothing-due renew load none of the heavy ones.
const packages = {};
for (const [file, output] of Object.entries(result.metafile.outputs)) {
  if (!file.endsWith('.js')) continue;
  const names = new Set();
  for (const input of Object.keys(output.inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    names.add(match ? match[1] : 'gxit-cert');
  }
  packages[relative(outdir, new URL(file, `file://${root}`).pathname)] = [...names].sort();
}
await writeFile(new URL('packages.json', `file://${outdir.endsWith('/') ? outdir : `${outdir}/`}`), `${JSON.stringify(packages, null, 1)}\n`);
const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
process.stdout.write(`${outdir}: ${Object.keys(result.metafile.outputs).length} files, ${(bytes / 1024 / 1024).toFixed(1)} MiB\n`);
