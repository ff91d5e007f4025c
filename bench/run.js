#!/usr/bin/env node
/**
 * npm run bench [-- --runs N] [-- --no-peers] [-- --peer-defaults] [-- --no-cluster]
 *
 * Issues the two-name Galaxy certificate (base + *.ep.interactivetool wildcard) on a private lab
 * (real BIND + Pebble on loopback) several times and prints the wall time of each whole
 * `gxit-cert issue --force` process and the median. Where Debian's certbot (with the rfc2136
 * plugin) and lego are installed, it runs them on the same lab in the same run and prints ratios.
 * Their default 60 s sleeps are only measured with --peer-defaults (about two minutes more).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startLab } from '../test/lab/lab.mjs';
import { startRoute53Fixture } from '../fixtures/route53/server.mjs';
import { clusterBench } from './cluster.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    'no-peers': { type: 'boolean', default: false },
    'no-cluster': { type: 'boolean', default: false },
    'peer-defaults': { type: 'boolean', default: false },
  },
});
const runs = Math.max(1, Number(args.runs));
const domains = ['galaxy.example.org', '*.ep.interactivetool.galaxy.example.org'];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (ms) => `${(ms / 1000).toFixed(3)} s`;

function timed(cmd, argv, env = {}) {
  const t0 = performance.now();
  const r = spawnSync(cmd, argv, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000 });
  const ms = performance.now() - t0;
  return { ms, ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** Like timed(), but without blocking this process (the Route53 endpoint runs in it). */
function timedAsync(cmd, argv) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ ms: performance.now() - t0, ok: code === 0, out }));
  });
}

function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

const dir = mkdtempSync(path.join(tmpdir(), 'gxit-bench-'));
const lab = await startLab({ dir, dnsIp: '127.0.30.2', pebbleIp: '127.0.30.1', acmePort: 14000, managementPort: 15000 });
const results = [];
try {
  const config = await lab.writeConfig(path.join(dir, 'config.yml'));
  const cli = path.join(root, 'bin', 'gxit-cert.js');

  // The first run also registers the ACME account: shown, not part of the median.
  const first = timed(process.execPath, [cli, 'issue', '--force', '--config', config]);
  if (!first.ok) throw new Error(`gxit-cert issue failed:\n${first.out}`);
  console.log(`gxit-cert first run (registers the account): ${fmt(first.ms)}`);
  const ours = [];
  for (let i = 0; i < runs; i++) {
    const r = timed(process.execPath, [cli, 'issue', '--force', '--config', config]);
    if (!r.ok) throw new Error(`gxit-cert issue failed on run ${i + 1}:\n${r.out}`);
    ours.push(r.ms);
  }
  const ourMedian = median(ours);
  console.log(`gxit-cert issue --force: ${ours.map(fmt).join(', ')}`);
  console.log(`gxit-cert median of ${runs}: ${fmt(ourMedian)}`);
  results.push({ tool: 'gxit-cert', median: ourMedian });
  await benchJournal(path.join(dir, 'journal-bench'));

  // The same order through the Route53 provider and the real AWS SDK, against the Route53-compatible
  // endpoint in fixtures/ that writes into the lab's BIND; GetChange answers PENDING twice first.
  const r53key = lab.keys['certbot-training'];
  const credentials = { accessKeyId: 'AKIDBENCH000000001', secretAccessKey: 'bench-secret-key' };
  const fixture = await startRoute53Fixture({
    host: '127.0.30.1', port: 0, credentials: [credentials], pendingPolls: 2, log: false,
    zones: [{ name: 'example.org', id: 'ZBENCHEXAMPLE' }],
    dns: { server: lab.dnsIp, port: 53, keyName: r53key.name, algorithm: r53key.algorithm, secretFile: r53key.secretFile },
  });
  try {
    writeFileSync(path.join(dir, 'aws.secret'), `${credentials.secretAccessKey}\n`, { mode: 0o600 });
    const r53config = await lab.writeConfig(path.join(dir, 'config-route53.yml'), {
      state_dir: path.join(dir, 'state-route53'),
      dns: { provider: 'route53', rfc2136: undefined, route53: { endpoint: fixture.url, access_key_id: credentials.accessKeyId, secret_access_key_file: path.join(dir, 'aws.secret') } },
    });
    const warm = await timedAsync(process.execPath, [cli, 'issue', '--force', '--config', r53config]);
    if (!warm.ok) throw new Error(`gxit-cert issue (route53) failed:\n${warm.out}`);
    const r53 = [];
    for (let i = 0; i < runs; i++) {
      const r = await timedAsync(process.execPath, [cli, 'issue', '--force', '--config', r53config]);
      if (!r.ok) throw new Error(`gxit-cert issue (route53) failed on run ${i + 1}:\n${r.out}`);
      r53.push(r.ms);
    }
    console.log(`gxit-cert issue --force with route53 (PENDING twice, then INSYNC): ${r53.map(fmt).join(', ')}`);
    console.log(`gxit-cert route53 median of ${runs}: ${fmt(median(r53))}`);
  } finally {
    await fixture.stop();
  }

  // Three nodes on one PostgreSQL (bench/cluster.js).
  if (!args['no-cluster']) await clusterBench({ lab, dir, cli, root, runs, median, fmt });

  if (!args['no-peers']) {
    const key = lab.keys['certbot-training'];
    const secret = readFileSync(key.secretFile, 'utf8').trim();
    const peerRuns = Math.min(runs, 3);

    if (which('certbot') && existsSync('/usr/lib/python3/dist-packages/certbot_dns_rfc2136')) {
      const creds = path.join(dir, 'certbot-rfc2136.ini');
      writeFileSync(
        creds,
        `dns_rfc2136_server = ${lab.dnsIp}\ndns_rfc2136_port = 53\ndns_rfc2136_name = ${key.name}\n` +
          `dns_rfc2136_secret = ${secret}\ndns_rfc2136_algorithm = HMAC-SHA512\n`,
        { mode: 0o600 },
      );
      const certbot = (sleep, n) => {
        const times = [];
        let failures = 0;
        for (let i = 0; i < n; i++) {
          const base = path.join(dir, `certbot-${sleep}-${i}`);
          const r = timed('certbot', [
            'certonly', '--non-interactive', '--agree-tos', '-m', 'admin@example.org', '--server', lab.directoryUrl,
            '--config-dir', `${base}/etc`, '--work-dir', `${base}/work`, '--logs-dir', `${base}/logs`,
            '--dns-rfc2136', '--dns-rfc2136-credentials', creds, '--dns-rfc2136-propagation-seconds', String(sleep),
            ...domains.flatMap((d) => ['-d', d]),
          ], { REQUESTS_CA_BUNDLE: lab.caBundle });
          if (r.ok) times.push(r.ms);
          else failures++;
        }
        return { times, failures };
      };
      const quick = certbot(1, peerRuns);
      report(`certbot (propagation 1 s)`, quick, ourMedian);
      if (args['peer-defaults']) report('certbot (default 60 s)', certbot(60, 1), ourMedian);
    } else {
      console.log('certbot with python3-certbot-dns-rfc2136: not installed, skipped');
    }

    if (which('lego')) {
      const lego = (names, extraEnv, n) => {
        const times = [];
        let failures = 0;
        for (let i = 0; i < n; i++) {
          const r = timed('lego', [
            '--accept-tos', '--email', 'admin@example.org', '--server', lab.directoryUrl,
            '--path', path.join(dir, `lego-${results.length}-${i}-${Object.keys(extraEnv).length}`),
            '--dns', 'rfc2136', '--dns.disable-cp', ...names.flatMap((d) => ['--domains', d]), 'run',
          ], {
            LEGO_CA_CERTIFICATES: lab.caBundle,
            RFC2136_NAMESERVER: `${lab.dnsIp}:53`,
            RFC2136_TSIG_KEY: key.name,
            RFC2136_TSIG_SECRET: secret,
            RFC2136_TSIG_ALGORITHM: 'hmac-sha512.',
            ...extraEnv,
          });
          if (r.ok) times.push(r.ms);
          else failures++;
        }
        return { times, failures };
      };
      // lego's own propagation check resolves the nameservers' names with the system resolver, which
      // does not know the lab: it is switched off (--dns.disable-cp), so lego waits for nothing.
      // On the Galaxy pair lego follows the CNAME that the wildcard synthesizes at
      // _acme-challenge.ep.interactivetool... and writes its TXT record at galaxy.example.org itself;
      // Pebble follows the same CNAME, so the order still succeeds here.
      const quick = { RFC2136_POLLING_INTERVAL: '1', RFC2136_SEQUENCE_INTERVAL: '1', RFC2136_PROPAGATION_TIMEOUT: '10' };
      report('lego --dns.disable-cp (polling 1 s, sequence interval 1 s)', lego(domains, quick, peerRuns), ourMedian);
      if (args['peer-defaults']) report('lego --dns.disable-cp (defaults)', lego(domains, {}, 1), ourMedian);
    } else {
      console.log('lego: not installed, skipped');
    }
  }
} finally {
  await lab.stop();
  rmSync(dir, { recursive: true, force: true });
}

/**
 * What the DNS journal adds to one order: the sweep's listing at the start of the run, recording the
 * batch (temp file, fsync, rename, fsync of the directory) before the records are sent, and clearing
 * it (unlink, fsync of the directory) after cleanup. Measured on the state directory's file system.
 */
async function benchJournal(stateDir) {
  const [{ fileJournal }, { nodeFs }] = await Promise.all([import('../dist/store/journal.js'), import('../dist/store/fs.js')]);
  const journal = fileJournal(nodeFs, stateDir);
  const records = domains.map((d, i) => ({ fqdn: `_acme-challenge.${d.replace(/^\*\./, '')}`, value: `bench-value-${i}-${'x'.repeat(32)}` }));
  const times = [];
  for (let i = 0; i < 41; i++) {
    const t0 = performance.now();
    await journal.list();
    const id = `bench-${i}`;
    await journal.record({ id, provider: 'rfc2136', identity: 'servers 127.0.0.1:53, key k', records, command: 'issue', pid: process.pid, hostname: 'bench', createdAt: new Date().toISOString() });
    await journal.clear(id);
    times.push(performance.now() - t0);
  }
  const m = median(times.slice(1));
  console.log(`DNS journal cost per order (list + fsynced record + clear): median ${m.toFixed(2)} ms, max ${Math.max(...times.slice(1)).toFixed(2)} ms of ${times.length - 1} (budget 10 ms)`);
}

function report(label, { times, failures }, ourMedian) {
  if (times.length === 0) {
    console.log(`${label}: every run failed (${failures})`);
    return;
  }
  const m = median(times);
  const failed = failures ? `, ${failures} failed run(s)` : '';
  console.log(`${label}: median ${fmt(m)} of ${times.length}${failed} -> gxit-cert is ${(m / ourMedian).toFixed(1)}x faster`);
}
