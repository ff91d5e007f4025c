#!/usr/bin/env node
// Rewrites the provider table in README.md from the registry (run after npm run build).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PROVIDERS } from '../dist/dns/providers/registry.js';
import { withProvidersTable } from '../dist/cli/providers-help.js';

const readme = fileURLToPath(new URL('../README.md', import.meta.url));
const updated = withProvidersTable(readFileSync(readme, 'utf8'), PROVIDERS);
if (updated === undefined) {
  process.stderr.write('README.md has no provider table markers\n');
  process.exit(1);
}
writeFileSync(readme, updated);
