/**
 * A second Pebble beside the shared lab's: same address and TLS certificate, its own ports and
 * config (EAB required, alternate roots), validating against the shared lab's BIND, so one gxit-cert
 * configuration (one dns: section) can order from both CAs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import { pebbleConfigFor, pebbleEnvironment, type LabInfo } from '../lab/lab.mjs';

export interface ExtraPebble {
  directoryUrl: string;
  managementUrl: string;
  /** GET on the management port (roots, cert-status-by-serial). */
  manage(pathname: string): Promise<{ status: number; body: string }>;
  stop(): Promise<void>;
}

export function httpsGet(url: string, ca: string, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms: ${url}`)));
    req.on('error', reject);
  });
}

export async function startExtraPebble(
  lab: LabInfo,
  opts: { name: string; acmePort: number; managementPort: number; config?: Record<string, unknown>; env?: Record<string, string> },
): Promise<ExtraPebble> {
  const dir = lab.dir;
  const configPath = path.join(dir, `pebble-${opts.name}.json`);
  const config = pebbleConfigFor({ dir, pebbleIp: lab.pebbleIp, acmePort: opts.acmePort, managementPort: opts.managementPort }, opts.config);
  await writeFile(configPath, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  const child: ChildProcess = spawn('pebble', ['-config', configPath, '-dnsserver', `${lab.dnsIp}:53`], {
    env: pebbleEnvironment(opts.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ca = await readFile(lab.caBundle, 'utf8');
  const directoryUrl = `https://${lab.pebbleIp}:${opts.acmePort}/dir`;
  const managementUrl = `https://${lab.pebbleIp}:${opts.managementPort}`;
  // Ready when the directory answers (asked every 50 ms for up to 30 s).
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pebble ${opts.name} exited: ${log}`);
    const answer = await httpsGet(directoryUrl, ca, 1000).catch(() => undefined);
    if (answer?.status === 200 && answer.body.includes('newOrder')) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`pebble ${opts.name} did not answer within 30 s: ${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    directoryUrl,
    managementUrl,
    manage: (pathname) => httpsGet(`${managementUrl}${pathname}`, ca),
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}
