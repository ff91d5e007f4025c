// The exec, acme-dns and cloudflare configuration sections through the whole pipeline (aliases,
// defaults, validation, secrets) with the real registry: what a user writes and what the provider gets.
import { describe, expect, it } from 'vitest';
import { evaluateConfigText } from '../../../../src/config/load.js';
import { acmeDns } from '../../../../src/dns/providers/acme-dns/descriptor.js';
import { cloudflare } from '../../../../src/dns/providers/cloudflare/descriptor.js';
import { exec } from '../../../../src/dns/providers/exec/descriptor.js';
import { PROVIDERS } from '../../../../src/dns/providers/registry.js';

const SOURCE = '/etc/gxit-cert/config.yml';
const HEAD = 'certificates:\n  - domains: [galaxy.example.org, "*.galaxy.example.org"]\n';
const evaluate = (text: string, opts: { env?: NodeJS.ProcessEnv; files?: Record<string, string> } = {}) =>
  evaluateConfigText(text, SOURCE, {
    providers: PROVIDERS,
    env: opts.env ?? {},
    readSecretFile: (path) => {
      const data = opts.files?.[path];
      if (data === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return { data, mode: 0o100600 };
    },
  });
const problems = (text: string, opts?: Parameters<typeof evaluate>[1]) => evaluate(text, opts).problems.map((p) => `${p.line}: ${p.path}: ${p.message}${p.fix ? ` (${p.fix})` : ''}`);

describe('registry', () => {
  it('lists each new provider once, under the name dns.provider takes', () => {
    const names = PROVIDERS.map((p) => p.name);
    expect(names).toEqual([...new Set(names)]);
    expect(names).toEqual(expect.arrayContaining(['exec', 'acme-dns', 'cloudflare']));
  });
});

describe('dns.exec', () => {
  it('lego style with defaults', () => {
    const r = evaluate(`${HEAD}dns:\n  provider: exec\n  exec:\n    command: /usr/local/bin/dns-hook\n`);
    expect(r.problems).toEqual([]);
    expect(exec.open(r.config!.dns.settings)).toEqual({ style: 'lego', command: { shell: '/usr/local/bin/dns-hook' }, timeoutMs: 60_000, parallel: true });
  });

  it('certbot style, argv lists, parallel: false and a timeout', () => {
    const r = evaluate(`${HEAD}dns:\n  provider: exec\n  exec:\n    auth_hook: [/opt/auth.sh, --zone, x]\n    cleanup_hook: /opt/cleanup.sh\n    timeout: 2.5\n    parallel: false\n`);
    expect(r.problems).toEqual([]);
    expect(exec.open(r.config!.dns.settings)).toEqual({ style: 'certbot', authHook: { argv: ['/opt/auth.sh', '--zone', 'x'] }, cleanupHook: { shell: '/opt/cleanup.sh' }, timeoutMs: 2500, parallel: false });
  });

  it('names the key and the fix for every mistake', () => {
    expect(problems(`${HEAD}dns:\n  provider: exec\n`)).toEqual([
      '3: dns.exec: is missing (add an exec: section with command: (lego style: command present|cleanup FQDN. VALUE) or auth_hook: and cleanup_hook: (certbot style))',
    ]);
    expect(problems(`${HEAD}dns:\n  provider: exec\n  exec:\n    command: /a\n    auth_hook: /b\n    cleanup_hook: /c\n`)).toEqual([
      '7: dns.exec.auth_hook: is certbot style, but command: (lego style) is set too (keep either command: or auth_hook: with cleanup_hook:)',
    ]);
    expect(problems(`${HEAD}dns:\n  provider: exec\n  exec:\n    auth_hook: /b\n`)).toEqual([
      "6: dns.exec.auth_hook: has no cleanup_hook: the records it adds would stay (add cleanup_hook: (certbot's --manual-cleanup-hook script))",
    ]);
    expect(problems(`${HEAD}dns:\n  provider: exec\n  exec:\n    command: []\n    timeout: 0\n    paralel: false\n`)).toEqual([
      expect.stringMatching(/^6: dns\.exec\.command: is an empty list/),
      expect.stringMatching(/^7: dns\.exec\.timeout: 0 is not from 0\.001 to 3600/),
      expect.stringMatching(/^8: dns\.exec\.paralel: unknown key; did you mean parallel\?/),
    ]);
  });
});

describe('dns.acme_dns', () => {
  it('takes api and credentials_file (relative to the config file)', () => {
    const r = evaluate(`${HEAD}dns:\n  provider: acme-dns\n  acme_dns:\n    api: https://auth.example.org/\n    credentials_file: acme-dns.json\n    allow_from: [192.0.2.0/24]\n`);
    expect(r.problems).toEqual([]);
    expect(acmeDns.open(r.config!.dns.settings)).toEqual({ api: 'https://auth.example.org', credentialsFile: '/etc/gxit-cert/acme-dns.json', timeoutMs: 10_000, allowFrom: ['192.0.2.0/24'] });
  });

  it('refuses plain http to a remote server and a missing credentials_file', () => {
    expect(problems(`${HEAD}dns:\n  provider: acme-dns\n  acme_dns:\n    api: http://auth.example.org\n`)).toEqual([
      expect.stringMatching(/^5: dns\.acme_dns\.credentials_file: is missing/),
      expect.stringMatching(/^6: dns\.acme_dns\.api: "http:\/\/auth\.example\.org" uses http, which is allowed only for localhost and 127\.x addresses/),
    ]);
  });

  it('names acme_dns: when the section is missing', () => {
    expect(problems(`${HEAD}dns:\n  provider: acme-dns\n`)).toEqual([expect.stringMatching(/^3: dns\.acme_dns: is missing \(add an acme_dns: section/)]);
  });

  it('still reads the earlier spelling acme-dns:, with a warning to rename it', () => {
    const r = evaluate(`${HEAD}dns:\n  provider: acme-dns\n  acme-dns:\n    api: https://auth.example.org\n    credentials_file: /etc/gxit-cert/acme-dns.json\n    timeout: 3\n`);
    expect(r.problems).toEqual([]);
    expect(acmeDns.open(r.config!.dns.settings)).toEqual({ api: 'https://auth.example.org', credentialsFile: '/etc/gxit-cert/acme-dns.json', timeoutMs: 3000 });
    expect(r.warnings).toEqual([expect.stringMatching(/dns\.acme-dns.*deprecated spelling of dns\.acme_dns: rename it to acme_dns:/)]);
    // Problems in the old spelling are reported where they are written.
    expect(problems(`${HEAD}dns:\n  provider: acme-dns\n  acme-dns:\n    api: https://auth.example.org\n`)).toEqual([expect.stringMatching(/^5: dns\.acme-dns\.credentials_file: is missing/)]);
  });

  it('with both spellings uses acme_dns: and says acme-dns: is ignored', () => {
    const r = evaluate(`${HEAD}dns:\n  provider: acme-dns\n  acme_dns:\n    api: https://new.example.org\n    credentials_file: /n.json\n  acme-dns:\n    api: https://old.example.org\n    credentials_file: /o.json\n`);
    expect(r.problems).toEqual([]);
    expect(acmeDns.open(r.config!.dns.settings)).toMatchObject({ api: 'https://new.example.org', credentialsFile: '/n.json' });
    expect(r.warnings).toEqual([expect.stringMatching(/dns\.acme-dns.*is ignored: dns\.acme_dns is used/)]);
  });

  it('an acme_dns: section while another provider is configured is checked and ignored, in either spelling', () => {
    for (const key of ['acme_dns', 'acme-dns']) {
      const r = evaluate(`${HEAD}dns:\n  provider: exec\n  exec:\n    command: /usr/local/bin/hook\n  ${key}:\n    api: https://auth.example.org\n    credentials_file: /a.json\n`);
      expect(r.problems).toEqual([]);
      expect(r.warnings).toEqual([expect.stringMatching(new RegExp(`dns\\.${key}.*is ignored: the DNS provider is exec`))]);
    }
  });
});

describe('dns.cloudflare', () => {
  const TOKEN = 'cfToken_0123456789abcdefABCDEF';

  it('reads the token from a file, keeps zone_id lower case, and never shows the token in a problem', () => {
    const r = evaluate(`${HEAD}dns:\n  provider: cloudflare\n  cloudflare:\n    api_token_file: /etc/gxit-cert/cf.token\n    zone_id: 0123456789ABCDEF0123456789abcdef\n`, { files: { '/etc/gxit-cert/cf.token': `${TOKEN}\n` } });
    expect(r.problems).toEqual([]);
    expect(cloudflare.open(r.config!.dns.settings)).toEqual({
      apiToken: TOKEN,
      tokenSource: 'dns.cloudflare.api_token_file',
      zoneId: '0123456789abcdef0123456789abcdef',
      endpoint: 'https://api.cloudflare.com/client/v4',
      ttl: 60,
      timeoutMs: 30_000,
    });
    const two = problems(`${HEAD}dns:\n  provider: cloudflare\n  cloudflare:\n    api_token: ${TOKEN}\n    api_token_env: CF_TOKEN\n`);
    expect(two).toEqual(['7: dns.cloudflare.api_token_env: is a second source for the API token (also dns.cloudflare.api_token) (keep only one of api_token, api_token_file and api_token_env)']);
    expect(two.join('')).not.toContain(TOKEN);
  });

  it('without a token key takes CLOUDFLARE_API_TOKEN, and says so when it is not set; the section itself is required', () => {
    const r = evaluate(`${HEAD}dns:\n  provider: cloudflare\n  cloudflare: {}\n`, { env: { CLOUDFLARE_API_TOKEN: TOKEN } });
    expect(r.problems).toEqual([]);
    expect(cloudflare.open(r.config!.dns.settings)).toMatchObject({ apiToken: TOKEN, tokenSource: 'the environment variable CLOUDFLARE_API_TOKEN' });
    expect(problems(`${HEAD}dns:\n  provider: cloudflare\n  cloudflare: {}\n`)).toEqual([
      expect.stringContaining('has no API token: none of api_token, api_token_file, api_token_env is set and CLOUDFLARE_API_TOKEN is not in the environment'),
    ]);
    expect(problems(`${HEAD}dns:\n  provider: cloudflare\n`, { env: { CLOUDFLARE_API_TOKEN: TOKEN } })).toEqual([
      expect.stringMatching(/^3: dns\.cloudflare: is missing \(add a cloudflare: section/),
    ]);
  });

  it('accepts the Galaxy role form: certbot_dns_provider: cloudflare, certbot_dns_credentials: {api_token}', () => {
    const r = evaluate(`certbot_domains: [galaxy.example.org, "*.galaxy.example.org"]\ncertbot_dns_provider: cloudflare\ncertbot_dns_credentials:\n  api_token: ${TOKEN}\n`);
    expect(r.problems).toEqual([]);
    expect(r.config!.dns.provider).toBe('cloudflare');
    expect(cloudflare.open(r.config!.dns.settings)).toMatchObject({ apiToken: TOKEN, tokenSource: 'certbot_dns_credentials.api_token' });
  });

  it('refuses a TTL below Cloudflare\'s minimum and an endpoint that is not https', () => {
    expect(problems(`${HEAD}dns:\n  provider: cloudflare\n  cloudflare:\n    api_token: x\n    ttl: 10\n    endpoint: http://api.example.org\n`)).toEqual([
      "7: dns.cloudflare.ttl: 10 is below Cloudflare's minimum TTL (write ttl: 60 (or 1 for automatic))",
      expect.stringMatching(/^8: dns\.cloudflare\.endpoint: "http:\/\/api\.example\.org" uses http/),
    ]);
  });
});
