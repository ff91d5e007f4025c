/**
 * Cluster nodes on one machine, for the benchmark (bench/cluster.js) and the walkthrough
 * (test/lab/cluster-demo.mjs): each node has its own directory, state_dir, configuration, nginx on a
 * loopback address of its own, and `gxit-cert watch` started as the shipped systemd unit starts it.
 */
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';

export const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A free TCP port on `host`. @param {string} host @returns {Promise<number>} */
export function freePort(host) {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The serial of the certificate served at host:port for `servername`; '' when nothing answers.
 * @param {string} host @param {number} port @param {string} servername @returns {Promise<string>}
 */
export function servedSerial(host, port, servername) {
  return new Promise((resolve) => {
    const socket = tls.connect({ host, port, servername, rejectUnauthorized: false }, () => {
      const raw = socket.getPeerCertificate().raw;
      socket.end();
      resolve(raw ? new X509Certificate(raw).serialNumber : '');
    });
    socket.once('error', () => resolve(''));
  });
}

/**
 * nginx serving `liveDir` (fullchain.pem, privkey.pem) for `domains` at host:<free port>, in the foreground.
 * @param {string} dir @param {string} host @param {string} liveDir @param {string[]} domains
 */
export async function startNginx(dir, host, liveDir, domains) {
  const ngDir = path.join(dir, 'nginx');
  mkdirSync(path.join(ngDir, 'tmp'), { recursive: true });
  const port = await freePort(host);
  const conf = path.join(ngDir, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1;\npid ${ngDir}/nginx.pid;\nerror_log ${ngDir}/error.log;\nevents { worker_connections 64; }\n` +
      `http {\n  access_log off;\n  client_body_temp_path ${ngDir}/tmp/body;\n  proxy_temp_path ${ngDir}/tmp/proxy;\n` +
      `  fastcgi_temp_path ${ngDir}/tmp/fastcgi;\n  uwsgi_temp_path ${ngDir}/tmp/uwsgi;\n  scgi_temp_path ${ngDir}/tmp/scgi;\n` +
      `  server {\n    listen ${host}:${port} ssl;\n    server_name ${domains.join(' ')};\n` +
      `    ssl_certificate ${liveDir}/fullchain.pem;\n    ssl_certificate_key ${liveDir}/privkey.pem;\n    location / { return 200 "ok\\n"; }\n  }\n}\n`,
  );
  const child = spawn('nginx', ['-c', conf, '-g', 'daemon off;'], { stdio: 'ignore' });
  for (let i = 0; i < 200 && (await servedSerial(host, port, domains[0] ?? '')) === ''; i++) await sleep(50);
  return { host, port, conf, stop: () => child.kill('SIGTERM') };
}

/** The Environment= settings of systemd/gxit-cert-watch.service: a watch started here runs as the unit runs it. */
export const WATCH_ENV = Object.fromEntries(
  [...readFileSync(new URL('../../systemd/gxit-cert-watch.service', import.meta.url), 'utf8').matchAll(/^Environment="?([A-Z_][A-Z0-9_]*)=([^"\n]*)"?$/gm)].map((m) => [m[1], m[2]]),
);

/** `gxit-cert watch` for a node, its stderr collected. @param {string} cli @param {string} config */
export function startWatch(cli, config) {
  const child = spawn(process.execPath, [cli, 'watch', '--config', config], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...WATCH_ENV },
  });
  let out = '';
  child.stderr?.on('data', (d) => (out += d));
  return { child, output: () => out, stop: () => child.kill('SIGTERM') };
}

/** Resident memory of a process, KiB. @param {number} pid */
export function rssKiB(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line?.replace(/\D+/g, '') ?? NaN);
}
