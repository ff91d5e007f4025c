/** Helpers of the renew/hooks integration tests: names, configs, a private nginx, served certificates, state edits. */
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { connect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import type { CertificateConfig } from '../../src/config/types.js';
import { createStore } from '../../src/store/index.js';
import { makeCertificate } from '../unit/renew/certs.js';
import { lab, labConfig } from './helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const HOOKS_DIR = path.join(root, 'hooks');

export interface Names {
  base: string;
  wildcard: string;
  domains: string[];
  challenges: string[];
}

/** `<prefix>.example.org` and `*.ep.interactivetool.<prefix>.example.org`. */
export function namesFor(prefix: string): Names {
  const base = `${prefix}.example.org`;
  return {
    base,
    wildcard: `*.ep.interactivetool.${base}`,
    domains: [base, `*.ep.interactivetool.${base}`],
    challenges: [`_acme-challenge.${base}`, `_acme-challenge.ep.interactivetool.${base}`],
  };
}

export interface RenewSetup {
  dir: string;
  config: string;
  stateDir: string;
  names: Names;
  /** Rewrite the config (same state_dir, same certificate) with other overrides. */
  rewrite(overrides?: Record<string, unknown>): Promise<string>;
}

export async function renewSetup(prefix: string, overrides: Record<string, unknown> = {}): Promise<RenewSetup> {
  const names = namesFor(prefix);
  const certificates = [{ name: names.base, domains: names.domains }];
  const { dir, config, stateDir, rewrite } = await labConfig({ certificates, ...overrides });
  return { dir, config, stateDir, names, rewrite: (more = {}) => rewrite({ certificates, ...more }) };
}

export async function readJson<T = Record<string, unknown>>(file: string): Promise<T> {
  return JSON.parse(await readFile(file, 'utf8')) as T;
}

export function stateFile(setup: RenewSetup): string {
  return path.join(setup.stateDir, 'renewal', `${setup.names.base}.json`);
}

export async function liveCert(setup: RenewSetup): Promise<X509Certificate> {
  return new X509Certificate(await readFile(path.join(setup.stateDir, 'live', setup.names.base, 'cert.pem')));
}

/** A free TCP port on `host` (bound and released). */
export async function freePort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The leaf a TLS server presents for `sni`. */
export function servedCertificate(host: string, port: number, sni: string): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, servername: sni, rejectUnauthorized: false }, () => {
      const raw = socket.getPeerCertificate().raw;
      socket.end();
      resolve(new X509Certificate(raw));
    });
    socket.once('error', reject);
  });
}

export interface Nginx {
  host: string;
  port: number;
  conf: string;
  /** Replace the configuration file (not reloaded). */
  writeConf(text: string): Promise<void>;
  confText: string;
  stop(): Promise<void>;
}

/** Our own nginx (not the system's): -c a generated config, listening on host:port, serving live/<name>. */
export async function startNginx(dir: string, host: string, liveDir: string, serverNames: string[]): Promise<Nginx> {
  const ngDir = path.join(dir, 'nginx');
  await mkdir(path.join(ngDir, 'tmp'), { recursive: true });
  const port = await freePort(host);
  const conf = path.join(ngDir, 'nginx.conf');
  const confText = `# test nginx
worker_processes 1;
pid ${ngDir}/nginx.pid;
error_log ${ngDir}/error.log info;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${ngDir}/tmp/body;
  proxy_temp_path ${ngDir}/tmp/proxy;
  fastcgi_temp_path ${ngDir}/tmp/fastcgi;
  uwsgi_temp_path ${ngDir}/tmp/uwsgi;
  scgi_temp_path ${ngDir}/tmp/scgi;
  server {
    listen ${host}:${port} ssl;
    server_name ${serverNames.join(' ')};
    ssl_certificate ${liveDir}/fullchain.pem;
    ssl_certificate_key ${liveDir}/privkey.pem;
    location / { return 200 "ok\\n"; }
  }
}
`;
  await writeFile(conf, confText);
  const child: ChildProcess = spawn('nginx', ['-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Ready when it answers TLS.
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await servedCertificate(host, port, serverNames[0] ?? 'x');
      break;
    } catch (error) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`nginx did not start: ${stderr}`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    host,
    port,
    conf,
    confText,
    writeConf: (text) => writeFile(conf, text),
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * A lineage as an earlier run would have left it, with a certificate of chosen dates (self-signed,
 * so no ARI): for due-by-lifetime and expiry tests without waiting months.
 */
export async function fakeLineage(setup: RenewSetup, dates: { notBefore: Date; notAfter: Date }, extra: { server?: string } = {}): Promise<void> {
  const store = createStore(setup.stateDir);
  const { certPem, keyPem } = makeCertificate({ ...dates, commonName: setup.names.base, sans: setup.names.domains, serialHex: '0f00aa' });
  const certificate: CertificateConfig = { name: setup.names.base, domains: setup.names.domains, keyType: 'ecdsa-p256' };
  await store.commit(certificate.name, { certPem, chainPem: certPem, fullchainPem: certPem + certPem, privkeyPem: keyPem }, {
    domains: certificate.domains,
    keyType: certificate.keyType,
    server: extra.server ?? lab().directoryUrl,
    lastRun: { at: new Date().toISOString(), ok: true },
  });
}

/** Waits until `check` is true (polling), or throws after `ms`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
