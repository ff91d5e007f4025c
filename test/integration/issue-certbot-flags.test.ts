/**
 * issue with certbot's flags on the shared lab: names, email and the rfc2136 credentials file from
 * the command line, the rest (lab resolver, CA bundle, state_dir) from a small configuration file.
 */
import { X509Certificate } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lab, labConfig, runCli, sans } from './helpers.js';

/** A lab configuration without certificates and without TSIG settings: the flags give them. */
async function bareConfig(): Promise<{ dir: string; config: string; ini: string }> {
  const { dir, config } = await labConfig({ certificates: [{ name: 'unused.example.org', domains: ['unused.example.org'] }], dns: { rfc2136: undefined } });
  const key = lab().keys['certbot-training'];
  const ini = path.join(dir, 'rfc2136.ini');
  await writeFile(ini, `dns_rfc2136_server = ${lab().dnsIp}\ndns_rfc2136_port = 53\ndns_rfc2136_name = ${key.name}\ndns_rfc2136_secret = ${key.secret}\ndns_rfc2136_algorithm = HMAC-SHA512\n`, { mode: 0o600 });
  expect(await readFile(config, 'utf8')).not.toContain('rfc2136:');
  return { dir, config, ini };
}

describe('issue with certbot-style flags', () => {
  it('issues for -d names with -m and --dns-rfc2136-credentials, under --cert-name', async () => {
    const { dir, config, ini } = await bareConfig();
    const run = await runCli([
      'issue', '--config', config, '-d', 'flags-a.example.org', '-d', '*.ep.interactivetool.flags-a.example.org',
      '-m', 'flags@example.org', '--dns-rfc2136-credentials', ini, '--cert-name', 'flags-lineage',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const cert = new X509Certificate(await readFile(path.join(dir, 'state', 'live', 'flags-lineage', 'cert.pem')));
    expect(sans(cert)).toEqual(['*.ep.interactivetool.flags-a.example.org', 'flags-a.example.org']);
    // The lineage of the file's own certificate was not touched: -d replaced certificates:.
    await expect(stat(path.join(dir, 'state', 'live', 'unused.example.org'))).rejects.toThrow();
    const account = JSON.parse(await readFile(path.join(dir, 'state', 'renewal', 'flags-lineage.json'), 'utf8')) as { domains: string[] };
    expect(account.domains).toEqual(['flags-a.example.org', '*.ep.interactivetool.flags-a.example.org']);
  });

  it('picks one configured certificate with --cert-name alone', async () => {
    const { dir, config } = await labConfig({
      certificates: [
        { name: 'flags-b.example.org', domains: ['flags-b.example.org'] },
        { name: 'flags-c.example.org', domains: ['flags-c.example.org'] },
      ],
    });
    const run = await runCli(['issue', '--config', config, '--cert-name', 'flags-c.example.org']);
    expect(run.code, run.stderr).toBe(0);
    await stat(path.join(dir, 'state', 'live', 'flags-c.example.org', 'cert.pem'));
    await expect(stat(path.join(dir, 'state', 'live', 'flags-b.example.org'))).rejects.toThrow();
    const unknown = await runCli(['issue', '--config', config, '--cert-name', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toBe(`error: --cert-name: no certificate nope in ${config} (name one of: flags-b.example.org, flags-c.example.org)`);
  });

  it.each([
    [['-d', 'x.example.org', '--staging', '--server', 'https://ca.test/dir'], 'error: --staging: cannot be combined with --server (give one of them)'],
    [['-d', '192.0.2.1'], 'error: -d: "192.0.2.1" is an IP address; certificates here are for domain names (give a domain name such as galaxy.example.org or *.ep.interactivetool.galaxy.example.org)'],
    [['-m', 'nobody'], 'error: -m: "nobody" is not an e-mail address (give the address the CA writes to, e.g. -m admin@example.org)'],
  ])('refuses %j with exit 2 and one line', async (args, line) => {
    const { config } = await labConfig();
    const run = await runCli(['issue', '--config', config, ...args]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(line);
  });

  it('names a missing --config file instead of falling back to the defaults', async () => {
    const run = await runCli(['issue', '--config', '/nonexistent/config.yml', '-m', 'a@example.org']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: \/nonexistent\/config\.yml: the configuration file does not exist/);
  });
});
