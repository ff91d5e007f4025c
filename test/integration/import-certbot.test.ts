/**
 * import-certbot against real certbot trees: Debian's certbot 2.1 with certbot-dns-rfc2136 makes a
 * lineage on a private lab (Pebble without nonce rejection: certbot retries a rejected nonce only
 * once), then gxit-cert takes it over.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { startAriProxy } from '../../fixtures/ari/proxy.mjs';
import { LabError, startLab, type Lab } from '../lab/lab.mjs';
import { pebbleUpstream, runCli } from './helpers.js';

const shared = inject('lab');
const net = shared.dnsIp.split('.').slice(0, 3).join('.');
let lab: Lab;
const temporary: string[] = [];

beforeAll(async () => {
  lab = await startLab({
    dir: path.join(os.tmpdir(), `gxit-cert-itest-${net}-certbot`),
    dnsIp: `${net}.82`,
    pebbleIp: `${net}.81`,
    pebbleEnv: { PEBBLE_WFE_NONCEREJECT: '0' },
  }).catch((error: unknown) => {
    if (error instanceof LabError) throw new Error(`private certbot lab: ${error.message}`);
    throw error;
  });
});

afterAll(async () => {
  await lab?.stop();
  await Promise.all(temporary.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gxit-certbot-'));
  temporary.push(dir);
  return dir;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

interface CertbotTree {
  dir: string;
  certbotDir: string;
  ini: string;
  hookLog: string;
  name: string;
}

/** certbot certonly for <prefix>.example.org + its GxIT wildcard, with a deploy hook. */
async function certbotLineage(prefix: string, extra: string[] = [], server = lab.directoryUrl): Promise<CertbotTree> {
  const dir = await tempDir();
  const certbotDir = path.join(dir, 'letsencrypt');
  const key = lab.keys['certbot-training'];
  const ini = path.join(dir, 'rfc2136.ini');
  await writeFile(
    ini,
    `dns_rfc2136_server = ${lab.dnsIp}\ndns_rfc2136_port = 53\ndns_rfc2136_name = ${key.name}\ndns_rfc2136_secret = ${key.secret}\ndns_rfc2136_algorithm = HMAC-SHA512\n`,
    { mode: 0o600 },
  );
  const hookLog = path.join(dir, 'hook.log');
  const name = `${prefix}.example.org`;
  const result = await run('certbot', [
    'certonly', '--non-interactive', '--agree-tos', '-m', 'admin@example.org',
    '--server', server,
    '--config-dir', certbotDir, '--work-dir', path.join(dir, 'work'), '--logs-dir', path.join(dir, 'logs'),
    '--dns-rfc2136', '--dns-rfc2136-credentials', ini, '--dns-rfc2136-propagation-seconds', '1',
    '--deploy-hook', `echo "deployed $RENEWED_LINEAGE" >> ${hookLog}`,
    '-d', name, '-d', `*.ep.interactivetool.${name}`,
    ...extra,
  ], { REQUESTS_CA_BUNDLE: lab.caBundle });
  expect(result.code, result.out).toBe(0);
  return { dir, certbotDir, ini, hookLog, name };
}

/** The lab needs its own resolver (the system's knows nothing of example.org): add it to the written config. */
async function labTweaks(config: string): Promise<void> {
  const doc = parseYaml(await readFile(config, 'utf8')) as { dns: Record<string, unknown> };
  doc.dns.resolvers = [`${lab.dnsIp}:53`];
  await writeFile(config, stringifyYaml(doc), { mode: 0o600 });
}

/** Every file under dir with its content (links as their target): to show that nothing changed. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) await walk(p);
      else if (entry.isSymbolicLink()) out[p] = `-> ${await readlink(p)}`;
      else out[p] = `${(await stat(p)).mode.toString(8)} ${await readFile(p, 'utf8')}`;
    }
  };
  await walk(dir);
  return out;
}

/** The account URL in certbot's regr.json (the lab's CA has one account directory per tree). */
async function certbotAccountUrl(tree: CertbotTree, directoryUrl: string): Promise<string> {
  const dir = path.join(tree.certbotDir, 'accounts', new URL(directoryUrl).host, 'dir');
  const [id] = await readdir(dir);
  return (JSON.parse(await readFile(path.join(dir, id!, 'regr.json'), 'utf8')) as { uri: string }).uri;
}

/** The account URL gxit-cert keeps for a CA. */
async function storedAccountUrl(stateDir: string, directoryUrl: string): Promise<string> {
  const url = new URL(directoryUrl);
  const dir = path.join(stateDir, 'accounts', `${url.hostname}_${url.port}-dir`);
  return (JSON.parse(await readFile(path.join(dir, 'account.json'), 'utf8')) as { url: string }).url;
}

const serialOf = async (file: string): Promise<string> => new X509Certificate(await readFile(file)).serialNumber.toLowerCase();

// Each test runs certbot once or twice (about 4 s each on an idle machine): generous bounds for a loaded one.
describe('import-certbot on a real certbot 2.1 lineage', { timeout: 180_000 }, () => {
  it('imports without an order, renews with certbot\'s account and hook, and switches certbot\'s renewal off', async () => {
    const tree = await certbotLineage('cb-main');
    const certbotSerial = await serialOf(path.join(tree.certbotDir, 'live', tree.name, 'cert.pem'));
    const regr = { uri: await certbotAccountUrl(tree, lab.directoryUrl) };
    const stateDir = path.join(tree.dir, 'gxit');
    const config = path.join(tree.dir, 'config.yml');
    // A fake system root for certbot's schedulers: Debian's cron file and the Galaxy role's crontab entry.
    const root = path.join(tree.dir, 'root');
    await mkdir(path.join(root, 'etc/cron.d'), { recursive: true });
    await mkdir(path.join(root, 'var/spool/cron/crontabs'), { recursive: true });
    const debianCron = 'SHELL=/bin/sh\n0 */12 * * * root test -x /usr/bin/certbot && certbot -q renew\n';
    await writeFile(path.join(root, 'etc/cron.d/certbot'), debianCron);
    await writeFile(path.join(root, 'var/spool/cron/crontabs/root'), '#Ansible: Certbot automatic renewal.\n30 3 * * * /opt/certbot/bin/certbot renew --quiet \n', { mode: 0o600 });

    const args = ['import-certbot', '--certbot-dir', tree.certbotDir, '--state-dir', stateDir, '--write-config', config, '--ca-bundle', lab.caBundle, '--root', root];

    // --dry-run changes nothing, anywhere.
    const before = { certbot: await snapshot(tree.certbotDir), root: await snapshot(root) };
    const dry = await runCli([...args, '--dry-run', '--disable-certbot', '--yes']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`${tree.name}: would import 1 version; live: serial ${certbotSerial}`);
    expect(dry.stdout).toContain(`certbot: would set autorenew = False in ${path.join(tree.certbotDir, 'renewal', `${tree.name}.conf`)}`);
    expect(dry.stdout).toContain(`certbot: would disable ${path.join(root, 'etc/cron.d/certbot')}`);
    expect(dry.stdout).toContain('dry run: nothing was changed');
    expect(await snapshot(tree.certbotDir)).toEqual(before.certbot);
    expect(await snapshot(root)).toEqual(before.root);
    await expect(stat(stateDir)).rejects.toThrow();
    await expect(stat(config)).rejects.toThrow();

    const imported = await runCli([...args, '--disable-certbot', '--yes']);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toContain(`account ${regr.uri}`);
    expect(imported.stdout).not.toContain('warning:');
    expect((await stat(config)).mode & 0o777).toBe(0o600);
    expect((await stat(path.join(stateDir, 'archive', tree.name, 'privkey1.pem'))).mode & 0o777).toBe(0o600);
    const written = await readFile(config, 'utf8');
    expect(written).toContain(`secret_file: ${tree.ini}`);
    expect(written).not.toContain(lab.keys['certbot-training'].secret);
    expect(written).toContain(`echo \\"deployed $RENEWED_LINEAGE\\" >> ${tree.hookLog}`);

    // certbot's renewal is off for the lineage, with the original kept; the schedulers are commented out.
    const conf = path.join(tree.certbotDir, 'renewal', `${tree.name}.conf`);
    expect(await readFile(conf, 'utf8')).toMatch(/\[renewalparams\]\nautorenew = False\n/);
    expect(await readFile(`${conf}.bak`, 'utf8')).toBe(before.certbot[conf]!.replace(/^\d+ /, ''));
    expect(await readFile(path.join(root, 'etc/cron.d/certbot'), 'utf8')).toBe(
      'SHELL=/bin/sh\n# 0 */12 * * * root test -x /usr/bin/certbot && certbot -q renew  # disabled by gxit-cert import-certbot\n',
    );
    expect(await readFile(path.join(root, 'etc/cron.d/certbot.bak'), 'utf8')).toBe(debianCron);
    expect(await readFile(path.join(root, 'var/spool/cron/crontabs/root'), 'utf8')).toContain('# 30 3 * * * /opt/certbot/bin/certbot renew');
    expect((await stat(path.join(root, 'var/spool/cron/crontabs/root'))).mode & 0o777).toBe(0o600);
    // certbot itself still reads the edited file.
    const listed = await run('certbot', ['certificates', '--config-dir', tree.certbotDir, '--work-dir', path.join(tree.dir, 'work'), '--logs-dir', path.join(tree.dir, 'logs')]);
    expect(listed.out).toContain(`Certificate Name: ${tree.name}`);

    await labTweaks(config);
    const status = await runCli(['status', '--config', config, '--json']);
    expect(status.code, status.stdout).toBe(0);
    const entry = (JSON.parse(status.stdout) as { lineages: { name: string; serial: string; version: number }[] }).lineages[0]!;
    expect(entry).toMatchObject({ name: tree.name, version: 1 });
    expect(entry.serial.toLowerCase()).toBe(certbotSerial);

    // A plain renew orders nothing: the same certificate stays live.
    const renew = await runCli(['renew', '--config', config]);
    expect(renew.code, renew.stderr).toBe(0);
    expect(renew.stderr).toMatch(/not due/);
    expect(await serialOf(path.join(stateDir, 'live', tree.name, 'cert.pem'))).toBe(certbotSerial);
    const hookLines = (await readFile(tree.hookLog, 'utf8')).trim().split('\n');
    expect(hookLines).toHaveLength(1); // certbot's own first deploy

    // renew --force orders with certbot's account (the stored URL is still the one of regr.json: no
    // new registration) and runs the imported deploy hook with the new live directory.
    const forced = await runCli(['renew', '--force', '--config', config]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(await storedAccountUrl(stateDir, lab.directoryUrl)).toBe(regr.uri);
    const renewed = await serialOf(path.join(stateDir, 'live', tree.name, 'cert.pem'));
    expect(renewed).not.toBe(certbotSerial);
    expect(await readFile(path.join(stateDir, 'live', tree.name, 'cert.pem'), 'utf8')).toBe(await readFile(path.join(stateDir, 'archive', tree.name, 'cert2.pem'), 'utf8'));
    expect((await readFile(tree.hookLog, 'utf8')).trim().split('\n').at(-1)).toBe(`deployed ${path.join(stateDir, 'live', tree.name)}`);
    // certbot's files are untouched by the renewal.
    expect(await serialOf(path.join(tree.certbotDir, 'live', tree.name, 'cert.pem'))).toBe(certbotSerial);

    // A second import into the same state directory leaves the lineage, the account and the
    // configuration alone.
    const configText = await readFile(config, 'utf8');
    const again = await runCli(['import-certbot', '--certbot-dir', tree.certbotDir, '--state-dir', stateDir, '--write-config', config, '--root', root]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`${tree.name}: already imported (serial ${certbotSerial}), left as it is`);
    expect(again.stdout).toContain(`account ${regr.uri}: already in the state directory`);
    expect(again.stdout).toContain(`warning: ${config} exists already and was kept; move it away to have it written again`);
    expect(await readFile(config, 'utf8')).toBe(configText);
    expect(await serialOf(path.join(stateDir, 'live', tree.name, 'cert.pem'))).toBe(renewed);
  });

  it('refuses while certbot holds its lock, and copies every version with its number', async () => {
    const tree = await certbotLineage('cb-versions');
    const renewed = await run('certbot', [
      'renew', '--force-renewal', '--no-random-sleep-on-renew', '--config-dir', tree.certbotDir, '--work-dir', path.join(tree.dir, 'work'), '--logs-dir', path.join(tree.dir, 'logs'),
    ], { REQUESTS_CA_BUNDLE: lab.caBundle });
    expect(renewed.code, renewed.out).toBe(0);
    const stateDir = path.join(tree.dir, 'gxit');
    const config = path.join(tree.dir, 'config.yml');
    const root = await tempDir();
    const args = ['import-certbot', '--certbot-dir', tree.certbotDir, '--state-dir', stateDir, '--write-config', config, '--root', root];

    // certbot's own lock: fcntl.lockf on .certbot.lock, as certbot takes it.
    const holder: ChildProcess = spawn('python3', ['-c', [
      'import fcntl, sys',
      `f = open(${JSON.stringify(path.join(tree.certbotDir, '.certbot.lock'))}, "w")`,
      'fcntl.lockf(f, fcntl.LOCK_EX)',
      'print("locked", flush=True)',
      'sys.stdin.read()',
    ].join('\n')], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
      const refused = await runCli(args);
      expect(refused.code).toBe(1);
      expect(refused.stderr.trim()).toBe(
        `error: certbot is running (pid ${holder.pid} holds ${path.join(tree.certbotDir, '.certbot.lock')}) (wait until that certbot run has finished, then run import-certbot again)`,
      );
      await expect(stat(stateDir)).rejects.toThrow();
    } finally {
      holder.stdin!.end();
      await new Promise((resolve) => holder.once('close', resolve));
    }

    const ok = await runCli([...args, '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    const doc = JSON.parse(ok.stdout) as { ok: boolean; dryRun: boolean; configWritten: boolean; lineages: { name: string; versions: number; skipped: boolean }[] };
    expect(doc).toMatchObject({ ok: true, dryRun: false, configWritten: true, lineages: [{ name: tree.name, versions: 2, skipped: false }] });
    for (const kind of ['cert', 'chain', 'fullchain', 'privkey']) {
      for (const n of [1, 2]) {
        expect(await readFile(path.join(stateDir, 'archive', tree.name, `${kind}${n}.pem`), 'utf8')).toBe(
          await readFile(path.join(tree.certbotDir, 'archive', tree.name, `${kind}${n}.pem`), 'utf8'),
        );
      }
    }
    const state = JSON.parse(await readFile(path.join(stateDir, 'renewal', `${tree.name}.json`), 'utf8')) as { version: number };
    expect(state.version).toBe(2);
  });

  it('turns the Galaxy role\'s post-renewal script into install-files, which a forced renewal runs', async () => {
    const tree = await certbotLineage('cb-role', ['--key-type', 'rsa']);
    const out = path.join(tree.dir, 'ssl');
    await mkdir(path.join(out, 'certs'), { recursive: true });
    await mkdir(path.join(out, 'private'), { recursive: true });
    const live = path.join(tree.certbotDir, 'live', tree.name);
    const script = [
      '#!/bin/bash',
      `mkdir -p  ${out}/private/`,
      '# Chai',
      `cp ${live}/fullchain.pem ${out}/certs/fullchain.pem`,
      `chmod 644           ${out}/certs/fullchain.pem`,
      `chown root:root ${out}/certs/fullchain.pem`,
      '# Cert',
      `cp ${live}/cert.pem      ${out}/certs/cert.pem`,
      `chmod 644           ${out}/certs/cert.pem`,
      `chown root:root ${out}/certs/cert.pem`,
      '# Privkey',
      `cp ${live}/privkey.pem   ${out}/private/privkey.pem`,
      `chmod 600           ${out}/private/privkey.pem`,
      `chown root:root ${out}/private/privkey.pem`,
      '# For each user, create custom version',
      '# Other',
      `echo restarted >> ${tree.dir}/other.log`,
      '',
    ].join('\n');
    await mkdir(path.join(tree.certbotDir, 'renewal-hooks', 'post'), { recursive: true });
    await writeFile(path.join(tree.certbotDir, 'renewal-hooks', 'post', 'ansible.sh'), script, { mode: 0o755 });

    const stateDir = path.join(tree.dir, 'gxit');
    const config = path.join(tree.dir, 'config.yml');
    const imported = await runCli(['import-certbot', '--certbot-dir', tree.certbotDir, '--state-dir', stateDir, '--write-config', config, '--ca-bundle', lab.caBundle, '--root', await tempDir()]);
    expect(imported.code, imported.stderr).toBe(0);
    const written = await readFile(config, 'utf8');
    expect(written).toContain('key_type: rsa-2048');
    expect(written).toContain(
      `/hooks/install-files, --fullchain, ${out}/certs/fullchain.pem, --cert, ${out}/certs/cert.pem, --key, ${out}/private/privkey.pem, --owner, root, --group, root, --cert-mode, "0644", --key-mode, "0600"]`,
    );
    expect(written).toContain(`- "echo restarted >> ${tree.dir}/other.log"  # from ${path.join(tree.certbotDir, 'renewal-hooks', 'post', 'ansible.sh')} (# Other)`);

    await labTweaks(config);
    const forced = await runCli(['renew', '--force', '--config', config]);
    expect(forced.code, forced.stderr).toBe(0);
    const newKey = await readFile(path.join(stateDir, 'live', tree.name, 'privkey.pem'), 'utf8');
    expect(await readFile(path.join(out, 'private', 'privkey.pem'), 'utf8')).toBe(newKey);
    expect((await stat(path.join(out, 'private', 'privkey.pem'))).mode & 0o777).toBe(0o600);
    expect(await readFile(path.join(out, 'certs', 'fullchain.pem'), 'utf8')).toBe(await readFile(path.join(stateDir, 'live', tree.name, 'fullchain.pem'), 'utf8'));
    expect(await readFile(path.join(tree.dir, 'other.log'), 'utf8')).toBe('restarted\n');
  });

  it('sends ARI `replaces` with certbot\'s certificate, under certbot\'s account, at the first renewal', async () => {
    const ari = await startAriProxy(await pebbleUpstream(lab));
    try {
      const tree = await certbotLineage('cb-ari', [], ari.directoryUrl);
      const certbotSerial = await serialOf(path.join(tree.certbotDir, 'live', tree.name, 'cert.pem'));
      const stateDir = path.join(tree.dir, 'gxit');
      const config = path.join(tree.dir, 'config.yml');
      const imported = await runCli(['import-certbot', '--certbot-dir', tree.certbotDir, '--state-dir', stateDir, '--write-config', config, '--ca-bundle', lab.caBundle, '--root', await tempDir()]);
      expect(imported.code, imported.stderr).toBe(0);
      await labTweaks(config);
      // The CA's window for certbot's certificate has begun: the first renew orders, naming it.
      ari.setWindow('*', { start: new Date(Date.now() - 2 * 86_400_000).toISOString(), end: new Date(Date.now() - 86_400_000).toISOString(), retryAfter: 3600 });
      const renew = await runCli(['renew', '--config', config, '--json']);
      expect(renew.code, renew.stdout).toBe(0);
      expect(JSON.parse(renew.stdout).results[0]).toMatchObject({ status: 'renewed', reason: 'due', due: { basis: 'ari' } });
      const asked = ari.requests.renewalInfo[0]!;
      // The certificate ID's second half is certbot's serial (DER, maybe with a leading 00).
      const serialHex = Buffer.from(asked.split('.')[1]!, 'base64url').toString('hex');
      expect(serialHex.replace(/^0+/, '')).toBe(certbotSerial.replace(/^0+/, ''));
      expect(ari.requests.newOrders.at(-1)).toMatchObject({ replaces: asked });
      expect(ari.requests.newOrders).toHaveLength(2); // certbot's and this renewal's
      expect(await storedAccountUrl(stateDir, ari.directoryUrl)).toBe(await certbotAccountUrl(tree, ari.directoryUrl));
    } finally {
      await ari.close();
    }
  });
});
