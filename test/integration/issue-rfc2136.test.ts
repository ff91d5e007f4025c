import { X509Certificate } from 'node:crypto';
import { lstat, readFile, readlink, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { labConfig, lab, nsupdate, parseChain, runCli, sans, txtEverywhere } from './helpers.js';

const BASE = 'galaxy.example.org';
const WILDCARD = '*.ep.interactivetool.galaxy.example.org';
const CHALLENGE_NAMES = ['_acme-challenge.galaxy.example.org', '_acme-challenge.ep.interactivetool.galaxy.example.org'];

function secretsOfLab(): string[] {
  return Object.values(lab().keys).map((k) => k.secret);
}

function expectNoSecret(text: string): void {
  for (const secret of secretsOfLab()) expect(text).not.toContain(secret);
}

describe('gxit-cert issue over RFC 2136 against BIND and Pebble', () => {
  it('issues the base + wildcard certificate with the certbot layout, private modes and no TXT left behind', async () => {
    const { config, dir } = await labConfig();
    const run = await runCli(['issue', '--config', config, '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expectNoSecret(run.stdout + run.stderr);
    const doc = JSON.parse(run.stdout);
    expect(doc.ok).toBe(true);
    expect(doc.results).toHaveLength(1);
    expect(doc.results[0]).toMatchObject({ name: BASE, status: 'issued', reason: 'new' });
    // The wildcard's challenge name is covered by the GxIT wildcard CNAME: written at the literal name.
    expect(doc.results[0].dns).toEqual(
      expect.arrayContaining([
        { domain: WILDCARD, fqdn: CHALLENGE_NAMES[1], wildcardCovered: true, delegatedVia: [] },
        { domain: BASE, fqdn: CHALLENGE_NAMES[0], wildcardCovered: false, delegatedVia: [] },
      ]),
    );

    const state = path.join(dir, 'state');
    const live = path.join(state, 'live', BASE);
    const leaf = new X509Certificate(await readFile(path.join(live, 'cert.pem')));
    expect(sans(leaf)).toEqual([WILDCARD, BASE].sort());
    expect(leaf.serialNumber.toLowerCase()).toBe(String(doc.results[0].certificate.serial).toLowerCase());

    // fullchain = cert + chain, and the chain leads to Pebble's root
    const fullchain = parseChain(await readFile(path.join(live, 'fullchain.pem'), 'utf8'));
    const chain = parseChain(await readFile(path.join(live, 'chain.pem'), 'utf8'));
    expect(fullchain[0]?.fingerprint256).toBe(leaf.fingerprint256);
    expect(fullchain.slice(1).map((c) => c.fingerprint256)).toEqual(chain.map((c) => c.fingerprint256));
    const root = new X509Certificate(await lab().pebbleRoots());
    const top = fullchain.at(-1) as X509Certificate;
    expect(top.checkIssued(root) || top.fingerprint256 === root.fingerprint256).toBe(true);
    for (let i = 0; i + 1 < fullchain.length; i++) {
      expect(fullchain[i]?.verify((fullchain[i + 1] as X509Certificate).publicKey)).toBe(true);
    }

    // the private key belongs to the certificate
    const keyPem = await readFile(path.join(live, 'privkey.pem'), 'utf8');
    expect(leaf.checkPrivateKey((await import('node:crypto')).createPrivateKey(keyPem))).toBe(true);

    // live/ holds relative symlinks into archive/ version 1; modes
    for (const kind of ['cert', 'chain', 'fullchain', 'privkey']) {
      const link = path.join(live, `${kind}.pem`);
      expect((await lstat(link)).isSymbolicLink()).toBe(true);
      expect(await readlink(link)).toBe(`../../archive/${BASE}/${kind}1.pem`);
    }
    expect((await stat(path.join(state, 'archive', BASE, 'privkey1.pem'))).mode & 0o777).toBe(0o600);
    expect((await stat(path.join(state, 'archive', BASE, 'fullchain1.pem'))).mode & 0o777).toBe(0o644);
    for (const d of ['', 'live', 'archive', 'accounts', 'renewal']) {
      expect((await stat(path.join(state, d))).mode & 0o777, `mode of ${d || 'state_dir'}`).toBe(0o700);
    }
    const accountDirs = await readdir(path.join(state, 'accounts'));
    expect(accountDirs).toHaveLength(1);
    expect((await stat(path.join(state, 'accounts', accountDirs[0] as string, 'private_key.pem'))).mode & 0o777).toBe(0o600);

    for (const name of CHALLENGE_NAMES) expect(await txtEverywhere(name)).toEqual([]);
  });

  it('does nothing for a current certificate, issues again with --force, and expands when a name is added', async () => {
    const { config, dir } = await labConfig();
    expect((await runCli(['issue', '--config', config])).code).toBe(0);

    const again = await runCli(['issue', '--config', config, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).results[0]).toMatchObject({ status: 'current' });

    const forced = await runCli(['issue', '--config', config, '--force', '--json']);
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout).results[0]).toMatchObject({ status: 'issued', reason: 'forced', certificate: { version: 2 } });

    const expandedConfig = await lab().writeConfig(config, {
      state_dir: path.join(dir, 'state'),
      certificates: [{ name: BASE, domains: [BASE, WILDCARD, 'usegalaxy.example.org'] }],
    });
    const expanded = await runCli(['issue', '--config', expandedConfig, '--json']);
    expect(expanded.code).toBe(0);
    expect(JSON.parse(expanded.stdout).results[0]).toMatchObject({ status: 'issued', reason: 'expanded', certificate: { version: 3 } });
    const leaf = new X509Certificate(await readFile(path.join(dir, 'state', 'live', BASE, 'cert.pem')));
    expect(sans(leaf)).toEqual([WILDCARD, BASE, 'usegalaxy.example.org'].sort());
    // earlier versions stay in the archive
    const archive = await readdir(path.join(dir, 'state', 'archive', BASE));
    expect(archive).toEqual(expect.arrayContaining(['cert1.pem', 'cert2.pem', 'cert3.pem', 'privkey1.pem']));
  });

  it('keeps a foreign TXT value at the challenge name and removes only its own', async () => {
    const foreign = 'foreign-value-kept';
    await nsupdate([`update add ${CHALLENGE_NAMES[0]}. 60 TXT "${foreign}"`]);
    try {
      const { config } = await labConfig();
      const run = await runCli(['issue', '--config', config]);
      expect(run.code, run.stderr).toBe(0);
      expect(await lab().txt(CHALLENGE_NAMES[0] as string)).toEqual([foreign]);
    } finally {
      await nsupdate([`update delete ${CHALLENGE_NAMES[0]}. TXT "${foreign}"`]);
    }
  });

  it('handles a base name and its wildcard sharing one challenge name', async () => {
    const { config } = await labConfig({
      certificates: [{ name: 'shared.example.org', domains: ['shared.example.org', '*.shared.example.org'] }],
    });
    const run = await runCli(['issue', '--config', config, '--json']);
    expect(run.code, run.stdout).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc.results[0].dns.map((d: { fqdn: string }) => d.fqdn)).toEqual([
      '_acme-challenge.shared.example.org',
      '_acme-challenge.shared.example.org',
    ]);
    expect(await txtEverywhere('_acme-challenge.shared.example.org')).toEqual([]);
  });

  it.each([
    ['key-md5', 'hmac-md5'],
    ['key-sha1', 'HMAC-SHA1'],
    ['key-sha224', 'hmac-sha224.'],
    ['key-sha256', 'HMAC-SHA256'],
    ['key-sha384', 'hmac-sha384'],
    ['key-sha512', 'HMAC-SHA512.'],
  ] as const)('issues with TSIG key %s (algorithm written as %s)', async (keyName, algorithm) => {
    const key = lab().keys[keyName];
    const { config } = await labConfig({
      key_type: 'ecdsa-p384',
      dns: { rfc2136: { name: key.name, secret_file: key.secretFile, algorithm } },
    });
    const run = await runCli(['issue', '--config', config]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('issued version 1');
  });

  it('issues an RSA certificate over TCP only', async () => {
    const { config, dir } = await labConfig({ key_type: 'rsa-2048', dns: { rfc2136: { tcp: true } } });
    const run = await runCli(['issue', '--config', config]);
    expect(run.code, run.stderr).toBe(0);
    const leaf = new X509Certificate(await readFile(path.join(dir, 'state', 'live', BASE, 'cert.pem')));
    expect(leaf.publicKey.asymmetricKeyType).toBe('rsa');
  });
});

describe('gxit-cert issue failures', () => {
  it('reports a wrong TSIG secret in one line, without the secret, and leaves no record', async () => {
    const { config } = await labConfig({
      dns: { rfc2136: { secret_file: null, secret: Buffer.from('definitely-not-the-secret-0123456789').toString('base64') } },
    });
    const run = await runCli(['issue', '--config', config]);
    expect(run.code).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/BADSIG|signature/i);
    expect(lines[0]).toContain('certbot-training');
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expectNoSecret(run.stdout + run.stderr);
    expect(run.stderr).not.toContain(Buffer.from('definitely-not-the-secret-0123456789').toString('base64'));
    for (const name of CHALLENGE_NAMES) expect(await txtEverywhere(name)).toEqual([]);
  });

  it('reports an unknown TSIG key name', async () => {
    const { config } = await labConfig({ dns: { rfc2136: { name: 'no-such-key.' } } });
    const run = await runCli(['issue', '--config', config]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/BADKEY|does not know|unknown/i);
    expect(run.stderr).toContain('no-such-key');
    expectNoSecret(run.stderr);
  });

  it('reports a key that may not write the challenge names (REFUSED) with what to check', async () => {
    const key = lab().keys.limited;
    const { config } = await labConfig({ dns: { rfc2136: { name: key.name, secret_file: key.secretFile, algorithm: 'hmac-sha256' } } });
    const run = await runCli(['issue', '--config', config]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/refused/i);
    expect(run.stderr).toContain('limited');
  });

  it('reports an unreachable DNS server quickly', async () => {
    const { config } = await labConfig({ dns: { rfc2136: { server: '127.0.9.9', timeout: 0.3, retries: 2 } } });
    const run = await runCli(['issue', '--config', config, '--json']);
    expect(run.code).toBe(1);
    const doc = JSON.parse(run.stdout);
    expect(doc.ok).toBe(false);
    const error = doc.results?.[0]?.error ?? doc.error;
    expect(error.message).toContain('127.0.9.9');
    // 2 attempts of 0.3 s plus start-up, typically about a second.
    expect(run.ms).toBeLessThan(15_000);
  });

  it('removes its TXT records when the order fails after they were added', async () => {
    // Nothing answers on this port, so the propagation check times out after the records were written.
    const { config } = await labConfig({ dns: { nameserver_port: 5399, propagation_timeout: 1 } });
    const run = await runCli(['issue', '--config', config]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/did not serve the TXT record/);
    for (const name of CHALLENGE_NAMES) expect(await txtEverywhere(name)).toEqual([]);
  });

  it('exits 2 with the key and line for a configuration error', async () => {
    const { config } = await labConfig({ key_type: 'ecdsa-p521' });
    const run = await runCli(['issue', '--config', config]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/config\.yml:\d+: key_type/);
  });

  it('exits 2 for a missing configuration file', async () => {
    const run = await runCli(['issue', '--config', '/nonexistent/gxit-cert.yml']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('/nonexistent/gxit-cert.yml');
  });
});
