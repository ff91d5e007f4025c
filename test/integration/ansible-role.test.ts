/**
 * The Ansible role ansible/roles/gxit_cert, run by Debian's ansible-core on localhost against the lab,
 * fed the Galaxy admin training's certbot_* variables: the first run installs the package (an
 * `npm pack` tarball, into a temporary prefix), writes the configuration, issues and installs the
 * deploy hook and the renewal entry; the second run changes nothing (changed=0).
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startConnectProxy } from '../lab/connect-proxy.js';
import { lab } from './helpers.js';
import { CHECKOUT, packTarball } from './package-helpers.js';

const exec = promisify(execFile);

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

async function playbook(file: string): Promise<Recap> {
  const env = {
    ...process.env,
    ANSIBLE_ROLES_PATH: path.join(CHECKOUT, 'ansible', 'roles'),
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_RETRY_FILES_ENABLED: '0',
    ANSIBLE_LOCAL_TEMP: path.join(work, 'ansible-tmp'),
    ANSIBLE_REMOTE_TEMP: path.join(work, 'ansible-tmp'),
    LC_ALL: 'C.UTF-8',
  };
  const run = await exec('ansible-playbook', ['-i', 'localhost,', '-c', 'local', file], { env, maxBuffer: 16 * 1024 * 1024 }).catch(
    (error: { stdout?: string; stderr?: string }) => ({ stdout: error.stdout ?? '', stderr: error.stderr ?? '' }),
  );
  const output = `${run.stdout}\n${run.stderr}`;
  const recap = /^localhost\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)/m.exec(run.stdout);
  if (!recap) throw new Error(`ansible-playbook printed no recap:\n${output}`);
  return { ok: Number(recap[1]), changed: Number(recap[2]), failed: Number(recap[3]), output };
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

    const first = await playbook(play).finally(() => proxy.close());
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

    const second = await playbook(play);
    expect(second.failed, second.output).toBe(0);
    expect(second.changed, second.output).toBe(0);
    // Nothing was issued again and no hook ran again.
    const again = new X509Certificate(await readFile(path.join(work, 'state', 'live', host, 'cert.pem')));
    expect(again.serialNumber).toBe(live.serialNumber);
    expect(await readFile(path.join(work, 'post-renewal.log'), 'utf8')).toBe('restart nginx\n');
  }, 300_000);
});
