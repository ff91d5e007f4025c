#!/usr/bin/env node
// A checkout runs tsc's output (dist/). The published package has no dist/ but one bundle with its
// dependencies inside (bundle/, made by scripts/bundle.mjs when the package is packed).
import { existsSync } from 'node:fs';

const dist = new URL('../dist/cli/main.js', import.meta.url);
await import(existsSync(dist) ? dist.href : new URL('../bundle/main.js', import.meta.url).href);
