/**
 * gxit-cert init on the shared lab: a configuration from galaxy.yml and the training's group_vars,
 * then check-dns on it (read-only checks and the write probes at galaxy.example.org).
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { lab, runCli } from './helpers.js';

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gxit-init-'));
  dirs.push(dir);
  return dir;
}

describe('gxit-cert init', () => {
  it('derives the names from galaxy.yml and the DNS settings from the role\'s group_vars, writes 0600 and runs check-dns', async () => {
    const dir = await tempDir();
    const key = lab().keys['certbot-training'];
    await writeFile(path.join(dir, 'galaxy.yml'), stringify({
      gravity: { galaxy_root: '/srv/galaxy/server' },
      galaxy: { galaxy_infrastructure_url: 'https://galaxy.example.org', interactivetools_enable: true, interactivetools_prefix: 'interactivetool' },
    }));
    await writeFile(path.join(dir, 'galaxyservers.yml'), stringify({
      certbot_admin_email: 'admin@example.org',
      certbot_dns_provider: 'rfc2136',
      certbot_dns_credentials: { server: lab().dnsIp, port: 53, name: key.name, secret: key.secret, algorithm: 'HMAC-SHA512' },
      galaxy_config: { galaxy: { galaxy_infrastructure_url: 'https://{{ inventory_hostname }}' } },
    }), { mode: 0o600 });
    const config = path.join(dir, 'config.yml');
    const run = await runCli([
      'init', '--galaxy-config', path.join(dir, 'galaxy.yml'), '--group-vars', path.join(dir, 'galaxyservers.yml'), '--write', config,
      '--server', lab().directoryUrl, '--ca-bundle', lab().caBundle, '--resolver', `${lab().dnsIp}:53`, '--state-dir', path.join(dir, 'state'),
    ]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stderr).toContain(`wrote ${config} for galaxy.example.org, *.ep.interactivetool.galaxy.example.org (mode 0600: it holds a secret)`);
    expect(run.stderr).toContain('warning: galaxyservers.yml galaxy_config.galaxy: galaxy_infrastructure_url is an Ansible template'.replace('galaxyservers.yml', path.join(dir, 'galaxyservers.yml')));
    expect((await stat(config)).mode & 0o777).toBe(0o600);
    // check-dns ran on the written file: every check passed.
    expect(run.stdout).toMatch(/^✓ wildcard\s+\*\.ep\.interactivetool\.galaxy\.example\.org: /m);
    expect(run.stdout).toMatch(/^✓ write\s+_acme-challenge\.galaxy\.example\.org: added and removed TXT/m);
    expect(run.stdout).toMatch(/^check-dns: \d+ ok, 0 warnings, 0 problems \(\d+\.\d\d s\)$/m);
    const text = await readFile(config, 'utf8');
    expect(text).toMatch(/^# gxit-cert configuration written by gxit-cert init on \d{4}-\d\d-\d\d\./);
    expect(text).toContain(`  resolvers: [${lab().dnsIp}:53]  # instead of the system resolver`);
    // The written file is a configuration the other commands accept.
    const status = await runCli(['status', '--config', config]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('galaxy.example.org: not issued (run gxit-cert issue)');
  });

  it('asks nothing without a terminal: placeholders, what is missing, no check, and never overwrites', async () => {
    const dir = await tempDir();
    const config = path.join(dir, 'config.yml');
    const run = await runCli(['init', '--write', config]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`missing: the Galaxy host name (--host, or --galaxy-config galaxy.yml with galaxy_infrastructure_url): edit ${config}`);
    expect(run.stderr).toContain(`check-dns skipped until the missing values are filled in; then run: gxit-cert check-dns --config ${config}`);
    expect((await stat(config)).mode & 0o777).toBe(0o644);
    const again = await runCli(['init', '--write', config, '--host', 'galaxy.example.org']);
    expect(again.code).toBe(2);
    expect(again.stderr.trim()).toBe(`error: ${config} exists already (move ${config} away or name another file)`);
  });
});
