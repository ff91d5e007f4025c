/**
 * vitest globalSetup: one lab (BIND primary + secondary, Pebble) for all integration tests.
 *
 * Addresses: 127.0.10.2 (primary), 127.0.10.3 (secondary), 127.0.10.1:14000/15000 (Pebble), so it never
 * clashes with a demo lab (127.0.0.x). When that block is taken by another test run on this machine, the
 * next free one is used (127.0.11.x, ...); GXIT_LAB_NET=127.0.42 pins one. GXIT_LAB_KEEP=1 keeps the dir.
 *
 * Tests get the plain data with `inject('lab')` and the helpers with `attachLab(inject('lab'))`.
 * Missing named/pebble is an error, never a skip.
 */
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';
import type { TestProject } from 'vitest/node';
import { LabError, startLab, type Lab, type LabInfo } from './lab.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The running lab; undefined only when no integration test is part of the run. */
    lab: LabInfo;
  }
}

const INTEGRATION = `${path.sep}test${path.sep}integration${path.sep}`;

/** False only when we know for sure that no integration test runs (saves the start-up for unit-only runs). */
function integrationTestsRun(project: TestProject): boolean {
  if (project.config.watch) return true; // globalSetup runs once; later runs may include them
  try {
    const paths = (project.vitest.state as unknown as { getPaths?: () => string[] }).getPaths?.();
    if (Array.isArray(paths) && paths.length > 0) return paths.some((p) => p.includes(INTEGRATION));
  } catch {
    // internal API changed: start the lab
  }
  return true;
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (!integrationTestsRun(project)) return undefined;

  const pinned = process.env.GXIT_LAB_NET;
  const nets = pinned ? [pinned] : Array.from({ length: 10 }, (_, i) => `127.0.${10 + i}`);
  let lab: Lab | undefined;
  let lastBusy: unknown;
  for (const net of nets) {
    try {
      lab = await startLab({
        dir: path.join(os.tmpdir(), `gxit-cert-itest-${net}`),
        dnsIp: `${net}.2`,
        secondaryIp: `${net}.3`,
        pebbleIp: `${net}.1`,
        acmePort: 14000,
        managementPort: 15000,
      });
      break;
    } catch (err) {
      if (err instanceof LabError && err.code === 'LAB_BUSY' && !pinned) {
        lastBusy = err;
        continue;
      }
      throw err;
    }
  }
  if (!lab) throw new Error(`no free lab address block in ${nets[0]}.x .. ${nets.at(-1)}.x`, { cause: lastBusy });

  const started = lab;
  project.provide('lab', started.info());
  return async () => {
    await started.stop();
    if (!process.env.GXIT_LAB_KEEP) await fs.rm(started.dir, { recursive: true, force: true });
  };
}
