/**
 * The Ansible role ansible/roles/gxit_cert, run by Debian's ansible-core on localhost against the lab,
 * fed the Galaxy admin training's certbot_* variables: the first run installs the package (an
 * `npm pack` tarball, into a temporary prefix), writes the configuration, issues and installs the
 * deploy hook and the renewal entry; the second run changes nothing (changed=0).
 * In cluster mode, one play deploys a renewer and a follower (two inventory hosts on this machine,
 * each with its own prefix, paths and system root) on a throw-away PostgreSQL.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { parse, stringify } from 'yaml';
import { startConnectProxy } from '../lab/connect-proxy.js';
import { startPostgres } from '../lab/postgres.mjs';
import { lab } from './helpers.js';
import { CHECKOUT, packTarball } from './package-helpers.js';
import { freePort } from './renew-helpers.js';

const exec = promisify(execFile);

/** The cluster case's PostgreSQL listens here (no other test uses 127.0.67.0/24). */
const PG_HOST = '127.0.67.1';
/** The PATH systemd gives a service that sets none. */
const SYSTEMD_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

let work: string;
let tarball: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'gxit-ansible-'));
  tarball = await packTarball(work);
}, 120_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

interface Recap {
  ok: number;
  changed: number;
  failed: number;
  output: string;
}

/** Runs ansible-playbook on the inventory; resolves to the recap line of each host (and the whole output). */
async function playbook(file: string, inventory = 'localhost,'): Promise<{ hosts: Map<string, Recap>; output: string }> {
  const env = {
    ...process.env,
    ANSIBLE_ROLES_PATH: path.join(CHECKOUT, 'ansible', 'roles'),
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_RETRY_FILES_ENABLED: '0',
    ANSIBLE_LOCAL_TEMP: path.join(work, 'ansible-tmp'),
    ANSIBLE_REMOTE_TEMP: path.join(work, 'ansible-tmp'),
    LC_ALL: 'C.UTF-8',
  };
  const args = ['-i', inventory, ...(inventory === 'localhost,' ? ['-c', 'local'] : []), file];
  const run = await exec('ansible-playbook', args, { env, maxBuffer: 16 * 1024 * 1024 }).catch(
    (error: { stdout?: string; stderr?: string }) => ({ stdout: error.stdout ?? '', stderr: error.stderr ?? '' }),
  );
  const output = `${run.stdout}\n${run.stderr}`;
  const hosts = new Map<string, Recap>();
  for (const m of run.stdout.matchAll(/^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)/gm)) {
    hosts.set(m[1] ?? '', { ok: Number(m[2]), changed: Number(m[3]), failed: Number(m[4]), output });
  }
  if (hosts.size === 0) throw new Error(`ansible-playbook printed no recap:\n${output}`);
  return { hosts, output };
}

function recapOf(run: { hosts: Map<string, Recap>; output: string }, host: string): Recap {
  const recap = run.hosts.get(host);
  if (recap === undefined) throw new Error(`no recap line for ${host}:\n${run.output}`);
  return recap;
}

describe('the gxit_cert Ansible role', () => {
  it('issues with the training certbot_* variables; a second run reports changed=0', async () => {
    const l = lab();
    const key = l.keys['certbot-training'];
    const host = 'role.example.org';
    const domains = [host, `*.ep.interactivetool.${host}`];
    const labConfig = l.configObject() as { dns: { resolvers: string[] } };
    const root = path.join(work, 'root');
    // A cron daemon "installed" below the system root the role hands to install-timer.
    await mkdir(path.join(root, 'usr/sbin'), { recursive: true });
    await writeFile(path.join(root, 'usr/sbin/cron'), '', { mode: 0o755 });

    // group_vars/galaxyservers.yml of the Galaxy admin training (certbot part), DNS-01 against the lab.
    const groupVars = {
      certbot_auto_renew_hour: '{{ 23 |random(seed=inventory_hostname)  }}',
      certbot_auto_renew_minute: '{{ 59 |random(seed=inventory_hostname)  }}',
      certbot_auth_method: '--webroot',
      certbot_install_method: 'virtualenv',
      certbot_auto_renew: true,
      certbot_auto_renew_user: 'root',
      certbot_environment: 'staging',
      certbot_well_known_root: '/srv/nginx/_well-known_root',
      certbot_share_key_users: ['nobody'],
      certbot_post_renewal: `echo "restart nginx" >> ${path.join(work, 'post-renewal.log')}\n`,
      certbot_domains: domains,
      certbot_agree_tos: '--agree-tos',
      certbot_admin_email: 'admin@example.org',
      certbot_dns_provider: 'rfc2136',
      certbot_dns_credentials: { server: l.dnsIp, port: 53, name: key.name, secret: key.secret, algorithm: 'HMAC-SHA512' },
    };
    const ssl = path.join(work, 'ssl');
    // Outbound HTTPS only through a proxy: the role hands it to issue and to the renewal job.
    const proxy = await startConnectProxy();
    const vars = {
      ...groupVars,
      certbot_share_key_dir: path.join(ssl, 'user'),
      certbot_ssl_group: 'root',
      // The tarball on the controller: the role copies it to the host's cache and installs it from there.
      gxit_cert_package_src: tarball,
      gxit_cert_package_cache: path.join(work, 'cache'),
      gxit_cert_npm_args: ['--offline'],
      gxit_cert_prefix: path.join(work, 'prefix'),
      gxit_cert_config_path: path.join(work, 'etc', 'config.yml'),
      gxit_cert_state_dir: path.join(work, 'state'),
      gxit_cert_fullchain_path: path.join(ssl, 'certs', 'fullchain.pem'),
      gxit_cert_cert_path: path.join(ssl, 'certs', 'cert.pem'),
      gxit_cert_key_path: path.join(ssl, 'private', 'privkey.pem'),
      gxit_cert_system_root: root,
      gxit_cert_proxy_env: { HTTPS_PROXY: proxy.url, NO_PROXY: 'localhost' },
      // The lab's CA instead of Let's Encrypt staging, and its nameserver for lookups.
      gxit_cert_extra_config: { server: l.directoryUrl, ca_bundle: l.caBundle, dns: { resolvers: labConfig.dns.resolvers, propagation_timeout: 30 } },
    };
    await writeFile(path.join(work, 'galaxyservers.yml'), stringify(vars), { mode: 0o600 });
    const play = path.join(work, 'playbook.yml');
    await writeFile(play, stringify([{ hosts: 'all', gather_facts: false, vars_files: [path.join(work, 'galaxyservers.yml')], roles: ['gxit_cert'] }]));

    const first = recapOf(await playbook(play).finally(() => proxy.close()), 'localhost');
    expect(first.failed, first.output).toBe(0);
    // copy, install, stamp, config dir, secret, config, issue, renewal entry (at least)
    expect(first.changed, first.output).toBeGreaterThanOrEqual(8);
    await stat(path.join(work, 'cache', path.basename(tarball)));
    expect(first.output).not.toContain(key.secret);

    const config = path.join(work, 'etc', 'config.yml');
    expect((await stat(config)).mode & 0o777).toBe(0o600);
    const configText = await readFile(config, 'utf8');
    expect(configText).not.toContain(key.secret);
    const secretFile = path.join(work, 'etc', 'rfc2136.secret');
    expect((await stat(secretFile)).mode & 0o777).toBe(0o600);
    expect((await readFile(secretFile, 'utf8')).trim()).toBe(key.secret);

    // The certificate, and the copies the certbot role's post-renewal script would have made.
    const live = new X509Certificate(await readFile(path.join(work, 'state', 'live', host, 'cert.pem')));
    expect(live.subjectAltName).toBe(`DNS:${domains[0]}, DNS:${domains[1]}`);
    expect(new X509Certificate(await readFile(path.join(ssl, 'certs', 'cert.pem'))).serialNumber).toBe(live.serialNumber);
    expect((await stat(path.join(ssl, 'private', 'privkey.pem'))).mode & 0o777).toBe(0o640);
    const shared = await stat(path.join(ssl, 'user', 'privkey-nobody.pem'));
    expect(shared.uid).not.toBe(0);
    expect(await readFile(path.join(work, 'post-renewal.log'), 'utf8')).toBe('restart nginx\n');

    // The daily renewal names the installed binary, at the training's seeded time.
    const cron = await readFile(path.join(root, 'etc/cron.d/gxit-cert'), 'utf8');
    expect(new Set(proxy.tunnels)).toEqual(new Set([`${l.pebbleIp}:${l.acmePort}`]));
    expect(cron).toContain(`\nHTTPS_PROXY=${proxy.url}\nNO_PROXY=localhost\n`);
    expect(cron).toMatch(new RegExp(`^\\d{1,2} \\d{1,2} \\* \\* \\* root sleep .* && ${path.join(work, 'prefix', 'bin', 'gxit-cert')} renew --quiet --config ${config}$`, 'm'));

    const second = recapOf(await playbook(play), 'localhost');
    expect(second.failed, second.output).toBe(0);
    expect(second.changed, second.output).toBe(0);
    // Nothing was issued again and no hook ran again.
    const again = new X509Certificate(await readFile(path.join(work, 'state', 'live', host, 'cert.pem')));
    expect(again.serialNumber).toBe(live.serialNumber);
    expect(await readFile(path.join(work, 'post-renewal.log'), 'utf8')).toBe('restart nginx\n');
  }, 300_000);

  it('deploys a cluster: the renewer issues, the follower syncs without any DNS secret; a second run reports changed=0', async () => {
    const l = lab();
    const tsig = l.keys['certbot-training'];
    const name = 'fronts.example.org';
    const domains = [name, `*.ep.interactivetool.${name}`];
    const labConfig = l.configObject() as { dns: { resolvers: string[] } };
    const dir = path.join(work, 'cluster');
    await mkdir(dir, { recursive: true });

    const db = await startPostgres(PG_HOST, await freePort(PG_HOST));
    try {
      // A login role whose password the server checks (scram): the role's password_file must be read.
      const password = randomBytes(18).toString('base64url');
      const clusterKey = randomBytes(32).toString('base64');
      await db.sql('postgres', `CREATE ROLE gxit LOGIN PASSWORD '${password}'`);
      await db.sql('postgres', 'CREATE DATABASE gxit_cert OWNER gxit');
      await writeFile(path.join(db.dir, 'data', 'pg_hba.conf'), 'local all all trust\nhost all postgres 0.0.0.0/0 trust\nhost all gxit 0.0.0.0/0 scram-sha-256\n');
      await db.sql('postgres', 'SELECT pg_reload_conf()');
      await untilPasswordRequired(db.host, db.port);

      const hostVars = (host: string): Record<string, unknown> => {
        const at = (p: string): string => path.join(dir, host, p);
        return {
          ansible_connection: 'local',
          ansible_python_interpreter: '{{ ansible_playbook_python }}',
          gxit_cert_package_cache: at('cache'),
          gxit_cert_prefix: at('prefix'),
          gxit_cert_config_path: at('etc/config.yml'),
          gxit_cert_state_dir: at('state'),
          gxit_cert_fullchain_path: at('ssl/certs/fullchain.pem'),
          gxit_cert_cert_path: at('ssl/certs/cert.pem'),
          gxit_cert_key_path: at('ssl/private/privkey.pem'),
          certbot_share_key_dir: at('ssl/user'),
          certbot_post_renewal: `echo "restart nginx" >> ${at('post-renewal.log')}\n`,
          gxit_cert_system_root: at('root'),
        };
      };
      for (const host of ['web1', 'web2']) {
        // A cron daemon "installed" below each host's system root, for install-timer.
        await mkdir(path.join(dir, host, 'root/usr/sbin'), { recursive: true });
        await writeFile(path.join(dir, host, 'root/usr/sbin/cron'), '', { mode: 0o755 });
      }
      const inventory = path.join(dir, 'inventory.yml');
      await writeFile(
        inventory,
        stringify({
          all: {
            children: {
              galaxyservers: {
                hosts: {
                  web1: hostVars('web1'),
                  web2: { ...hostVars('web2'), gxit_cert_cluster_renewer: false },
                },
              },
            },
          },
        }),
      );
      // group_vars as a site shares them between its front ends: the DNS credentials and the lab's
      // dns: settings reach the follower too, which must neither write nor need them.
      const groupVars = {
        certbot_auto_renew: true,
        certbot_auto_renew_hour: '{{ 23 |random(seed=inventory_hostname)  }}',
        certbot_auto_renew_minute: '{{ 59 |random(seed=inventory_hostname)  }}',
        certbot_environment: 'staging',
        certbot_domains: domains,
        certbot_admin_email: 'admin@example.org',
        certbot_dns_provider: 'rfc2136',
        certbot_dns_credentials: { server: l.dnsIp, port: 53, name: tsig.name, secret: tsig.secret, algorithm: 'HMAC-SHA512' },
        certbot_share_key_users: ['nobody'],
        certbot_ssl_group: 'root',
        gxit_cert_package_src: tarball,
        gxit_cert_npm_args: ['--offline'],
        gxit_cert_extra_config: { server: l.directoryUrl, ca_bundle: l.caBundle, dns: { resolvers: labConfig.dns.resolvers, propagation_timeout: 30 } },
        gxit_cert_cluster_database: `postgresql://gxit@${db.host}:${db.port}/gxit_cert`,
        gxit_cert_cluster_password: password,
        gxit_cert_cluster_key: clusterKey,
      };
      const varsFile = path.join(dir, 'galaxyservers.yml');
      await writeFile(varsFile, stringify(groupVars), { mode: 0o600 });
      const play = path.join(dir, 'playbook.yml');
      await writeFile(play, stringify([{ hosts: 'galaxyservers', gather_facts: false, vars_files: [varsFile], roles: ['gxit_cert'] }]));

      const first = await playbook(play, inventory);
      for (const host of ['web1', 'web2']) expect(recapOf(first, host).failed, first.output).toBe(0);
      // The follower: copy, install, stamp, config dir, password, key, config, sync, renewal entry,
      // unit directory, unit, wants directory, wants link (at least).
      expect(recapOf(first, 'web2').changed, first.output).toBeGreaterThanOrEqual(13);
      for (const secret of [password, clusterKey, tsig.secret]) expect(first.output).not.toContain(secret);

      // The renewer committed version 1; both nodes report it deployed.
      expect((await db.sql('gxit_cert', `SELECT current_version FROM gxit_cert.lineages WHERE name = '${name}'`)).trim()).toBe('1');
      const dbSerial = (await db.sql('gxit_cert', `SELECT serial FROM gxit_cert.versions WHERE lineage = '${name}' AND version = 1`)).trim();
      expect((await db.sql('gxit_cert', `SELECT node || ' ' || deployed_version || ' ' || deploy_ok FROM gxit_cert.nodes WHERE lineage = '${name}' ORDER BY node`)).trim().split('\n')).toEqual(['web1 1 true', 'web2 1 true']);

      // Both state_dirs hold version 1 (the same number) with the same certificate, installed by each node's hooks.
      const liveOf = async (host: string, dirName = path.join('state', 'live', name)): Promise<X509Certificate> =>
        new X509Certificate(await readFile(path.join(dir, host, dirName, 'cert.pem')));
      const renewerCert = await liveOf('web1');
      expect(renewerCert.subjectAltName).toBe(`DNS:${domains[0]}, DNS:${domains[1]}`);
      expect(renewerCert.serialNumber.toLowerCase()).toBe(dbSerial.toLowerCase().replace(/:/g, ''));
      for (const host of ['web1', 'web2']) {
        expect((await liveOf(host)).serialNumber, host).toBe(renewerCert.serialNumber);
        expect(await readdir(path.join(dir, host, 'state', 'archive', name)), host).toContain('cert1.pem');
        expect((await liveOf(host, 'ssl/certs')).serialNumber, host).toBe(renewerCert.serialNumber);
        expect(await readFile(path.join(dir, host, 'post-renewal.log'), 'utf8'), host).toBe('restart nginx\n');
      }

      // Configuration and secrets: the follower has no dns: and no TSIG secret; password and key 0600.
      const configOf = async (host: string): Promise<{ text: string; yaml: Record<string, unknown> }> => {
        const text = await readFile(path.join(dir, host, 'etc/config.yml'), 'utf8');
        return { text, yaml: parse(text) as Record<string, unknown> };
      };
      const renewerConfig = await configOf('web1');
      const followerConfig = await configOf('web2');
      expect(renewerConfig.yaml.dns).toBeDefined();
      expect(followerConfig.yaml).not.toHaveProperty('dns');
      expect(followerConfig.text).not.toContain(tsig.name);
      expect(followerConfig.yaml.cluster).toEqual({
        database: groupVars.gxit_cert_cluster_database,
        password_file: path.join(dir, 'web2/etc/db.password'),
        node: 'web2',
        renewer: false,
        key_file: path.join(dir, 'web2/etc/cluster.key'),
      });
      expect(renewerConfig.yaml.cluster).toMatchObject({ node: 'web1', renewer: true });
      expect(await readdir(path.join(dir, 'web2/etc'))).not.toContain('rfc2136.secret');
      expect((await stat(path.join(dir, 'web1/etc/rfc2136.secret'))).mode & 0o777).toBe(0o600);
      for (const host of ['web1', 'web2']) {
        const { text } = await configOf(host);
        for (const secret of [password, clusterKey, tsig.secret]) expect(text, host).not.toContain(secret);
        for (const [file, content] of [['db.password', password], ['cluster.key', clusterKey]] as const) {
          const at = path.join(dir, host, 'etc', file);
          expect((await stat(at)).mode & 0o777, `${host} ${file}`).toBe(0o600);
          expect((await readFile(at, 'utf8')).trim(), `${host} ${file}`).toBe(content);
        }
        // Both get the daily renew: on the follower it syncs.
        const cron = await readFile(path.join(dir, host, 'root/etc/cron.d/gxit-cert'), 'utf8');
        expect(cron, host).toMatch(new RegExp(` ${path.join(dir, host, 'prefix/bin/gxit-cert')} renew --quiet --config ${path.join(dir, host, 'etc/config.yml')}$`, 'm'));
      }

      // gxit-cert-watch.service: the shipped unit with each node's binary and configuration, enabled by its link.
      const shipped = await readFile(path.join(CHECKOUT, 'systemd/gxit-cert-watch.service'), 'utf8');
      const nodeDir = path.dirname((await exec('node', ['-p', 'process.execPath'])).stdout.trim());
      const units = new Map<string, string>();
      for (const host of ['web1', 'web2']) {
        const unitDir = path.join(dir, host, 'root/etc/systemd/system');
        const unit = await readFile(path.join(unitDir, 'gxit-cert-watch.service'), 'utf8');
        units.set(host, unit);
        expect(unit, host).toContain(`\nExecStart=${path.join(dir, host, 'prefix/bin/gxit-cert')} watch --config ${path.join(dir, host, 'etc/config.yml')}\n`);
        // PATH leads to the node the role found, unless systemd's own PATH does.
        const pathLine = /^Environment=PATH=(.*)$/m.exec(unit)?.[1];
        expect(pathLine, host).toBe(SYSTEMD_PATH.split(':').includes(nodeDir) ? undefined : `${nodeDir}:${SYSTEMD_PATH}`);
        // From [Unit] on, everything else as shipped.
        const body = (text: string): string[] => {
          const lines = text.split('\n');
          return lines.slice(lines.findIndex((line) => line.startsWith('['))).filter((line) => !/^(ExecStart|Environment=PATH)=/.test(line));
        };
        expect(body(unit), host).toEqual(body(shipped));
        const link = path.join(unitDir, 'multi-user.target.wants/gxit-cert-watch.service');
        expect((await lstat(link)).isSymbolicLink(), host).toBe(true);
        expect(await readlink(link), host).toBe('/etc/systemd/system/gxit-cert-watch.service');
      }

      const second = await playbook(play, inventory);
      for (const host of ['web1', 'web2']) {
        expect(recapOf(second, host).failed, second.output).toBe(0);
        expect(recapOf(second, host).changed, second.output).toBe(0);
        expect((await liveOf(host)).serialNumber, host).toBe(renewerCert.serialNumber);
        expect(await readFile(path.join(dir, host, 'post-renewal.log'), 'utf8'), host).toBe('restart nginx\n');
      }
      expect((await db.sql('gxit_cert', `SELECT count(*) FROM gxit_cert.versions WHERE lineage = '${name}'`)).trim()).toBe('1');

      // The follower's watch, started the way its unit says (ExecStart, Environment=, nothing else from
      // this process's environment), follows a renewal on the renewer.
      const watch = startFromUnit(units.get('web2') ?? '');
      try {
        await untilOutput(watch, / listening on /, 60_000);
        const renewed = await exec(path.join(dir, 'web1/prefix/bin/gxit-cert'), ['renew', '--force', '--config', path.join(dir, 'web1/etc/config.yml')]);
        expect(renewed.stderr).not.toContain(password);
        const next = (await liveOf('web1')).serialNumber;
        expect(next).not.toBe(renewerCert.serialNumber);
        await until(async () => (await liveOf('web2').catch(() => undefined))?.serialNumber === next, 60_000, () => `web2 never served ${next}; its watch said:\n${watch.output()}`);
        expect(await readdir(path.join(dir, 'web2/state/archive', name))).toContain('cert2.pem');
      } finally {
        await watch.stop();
      }
    } finally {
      await db.stop();
    }
  }, 420_000);
  it('checks its variables first: a follower needs no DNS provider but the cluster key; a renewer needs the provider', async () => {
    const dir = path.join(work, 'checks');
    await mkdir(dir, { recursive: true });
    const base = {
      certbot_domains: ['checks.example.org'],
      certbot_environment: 'staging',
      gxit_cert_cluster_database: `postgresql://gxit@${PG_HOST}:5432/gxit_cert`,
    };
    const run = async (label: string, vars: Record<string, unknown>): Promise<{ recap: Recap; failedTask: string }> => {
      const varsFile = path.join(dir, `${label}.yml`);
      await writeFile(varsFile, stringify({ ...base, ...vars }));
      const play = path.join(dir, `${label}-playbook.yml`);
      await writeFile(play, stringify([{ hosts: 'all', gather_facts: false, vars_files: [varsFile], roles: ['gxit_cert'] }]));
      const result = await playbook(play);
      // The task whose header comes last before the first "fatal:".
      const fatal = result.output.indexOf('\nfatal:');
      const headers = [...result.output.slice(0, fatal < 0 ? 0 : fatal).matchAll(/^TASK \[gxit_cert : (.*)\] \*+$/gm)];
      return { recap: recapOf(result, 'localhost'), failedTask: headers.at(-1)?.[1] ?? '' };
    };
    // A follower without any certbot_dns_* passes the DNS check and stops at the missing key.
    const follower = await run('follower', { gxit_cert_cluster_renewer: false });
    expect(follower.recap.failed, follower.recap.output).toBe(1);
    expect(follower.failedTask, follower.recap.output).toBe('Check the cluster variables');
    expect(follower.recap.output).toContain('cluster mode needs gxit_cert_cluster_database, gxit_cert_cluster_key');
    // A renewer of the same cluster needs its DNS provider.
    const renewer = await run('renewer', { gxit_cert_cluster_key: randomBytes(32).toString('base64') });
    expect(renewer.failedTask, renewer.recap.output).toBe('Check the DNS provider');
    // renewer false without a cluster means nothing and is said so.
    const alone = await run('alone', { gxit_cert_cluster_database: undefined, gxit_cert_cluster_renewer: false, certbot_dns_provider: 'rfc2136' });
    expect(alone.failedTask, alone.recap.output).toBe('Check the cluster variables');
  }, 120_000);
});

/** Waits until the server asks the role gxit for its password (pg_reload_conf only signals the reload). */
async function untilPasswordRequired(host: string, port: number): Promise<void> {
  await until(
    async () => {
      const client = new pg.Client({ host, port, user: 'gxit', password: 'wrong', database: 'gxit_cert' });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.end();
        return false;
      } catch (error) {
        return (error as { code?: string }).code === '28P01';
      }
    },
    30_000,
    () => 'PostgreSQL still lets gxit in without its password',
  );
}

async function until(condition: () => Promise<boolean>, timeoutMs: number, message: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(message());
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Started {
  output(): string;
  stop(): Promise<void>;
}

/**
 * Runs a unit's ExecStart= (plain words, as the role writes them) with only its Environment= settings
 * and systemd's default PATH, as systemd would run the service; no other variable of this process.
 */
function startFromUnit(unit: string): Started {
  const exec = /^ExecStart=(.*)$/m.exec(unit)?.[1];
  if (exec === undefined) throw new Error(`no ExecStart= in:\n${unit}`);
  const env: Record<string, string> = { PATH: SYSTEMD_PATH };
  for (const m of unit.matchAll(/^Environment="?([A-Z_][A-Z0-9_]*)=([^"\n]*)"?$/gm)) env[m[1] ?? ''] = m[2] ?? '';
  const [command, ...args] = exec.split(' ');
  const child = spawn(command ?? '', args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    output: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      // A watch finishes the sync in progress and stops; one still there after 20 s fails the test.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), 20_000);
      });
      const outcome = await Promise.race([exited, late]);
      clearTimeout(timer);
      if (outcome === 'late') {
        child.kill('SIGKILL');
        await exited;
        throw new Error(`the watch did not stop within 20 s of SIGTERM; its output:\n${stderr}`);
      }
    },
  };
}

async function untilOutput(started: Started, pattern: RegExp, timeoutMs: number): Promise<void> {
  await until(async () => pattern.test(started.output()), timeoutMs, () => `no ${pattern} in the output:\n${started.output()}`);
}
