import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, inject } from 'vitest';
import { attachLab, type Lab, type LabKeyName } from '../lab/lab.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(root, 'bin', 'gxit-cert.js');

/** Temporary directories of the test file that imports this module, removed after its last test. */
const temporary: string[] = [];
afterAll(async () => {
  await Promise.all(temporary.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  temporary.push(dir);
  return dir;
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the built CLI as a user would: a subprocess with argv and environment. */
export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; onStderr?: (stderrSoFar: string) => void } = {}): Promise<CliRun> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      opts.onStderr?.(stderr);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

export function lab(): Lab {
  return attachLab(inject('lab'));
}

export interface LabConfig {
  dir: string;
  config: string;
  /** dir/state, the config's state_dir. */
  stateDir: string;
  /** Rewrite the config with the same state_dir and other overrides. */
  rewrite(overrides?: Record<string, unknown>): Promise<string>;
}

/** A fresh directory with a config for the lab; each test gets its own state_dir. */
export async function labConfig(overrides: Record<string, unknown> = {}): Promise<LabConfig> {
  const dir = await tempDir('gxit-it-');
  const stateDir = path.join(dir, 'state');
  const config = await lab().writeConfig(path.join(dir, 'config.yml'), {
    state_dir: stateDir,
    ...overrides,
  });
  return { dir, config, stateDir, rewrite: (more = {}) => lab().writeConfig(config, { state_dir: stateDir, ...more }) };
}

/**
 * What a fixture proxy in front of the lab's Pebble (fixtures/ari, fixtures/fault-proxy) needs: the
 * upstream directory and the CA that signed Pebble's certificate, the lab CA's certificate and key to
 * sign its own, and Pebble's address (the proxy listens there, on a port of its own).
 */
export async function pebbleUpstream(target: Lab = lab()): Promise<{ upstream: string; upstreamCa: string; caCertFile: string; caKeyFile: string; host: string }> {
  return {
    upstream: target.directoryUrl,
    upstreamCa: await readFile(target.caBundle, 'utf8'),
    caCertFile: target.caBundle,
    caKeyFile: path.join(target.dir, 'ca-key.pem'),
    host: target.pebbleIp,
  };
}

/** Adds or deletes TXT values with BIND's own nsupdate (the reference client), key from a 0600 file; the shared lab unless `target` names another. */
export async function nsupdate(commands: string[], key: LabKeyName = 'certbot-training', target: Lab = lab()): Promise<void> {
  const l = target;
  const k = l.keys[key];
  const dir = await tempDir('gxit-nsupdate-');
  const keyFile = path.join(dir, 'key.conf');
  await writeFile(keyFile, `key "${k.name}" { algorithm ${k.algorithm}; secret "${k.secret}"; };\n`, { mode: 0o600 });
  const script = [`server ${l.dnsIp} 53`, ...commands, 'send', ''].join('\n');
  await new Promise<void>((resolve, reject) => {
    const child = spawn('nsupdate', ['-k', keyFile], { stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`nsupdate failed: ${err}`))));
    child.stdin.end(script);
  });
}

/** TXT values at a name on the primary and on the secondary. */
export async function txtEverywhere(name: string): Promise<string[]> {
  const l = lab();
  const servers = [l.dnsIp, ...(l.secondaryIp ? [l.secondaryIp] : [])];
  const all = await Promise.all(servers.map((s) => l.txt(name, s)));
  return all.flat();
}

export function sans(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '').split(',').map((s) => s.trim().replace(/^DNS:/, '')).sort();
}

/** The full chain's certificates in order. */
export function parseChain(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((b) => new X509Certificate(b));
}
