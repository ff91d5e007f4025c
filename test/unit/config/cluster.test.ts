import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { checkDatabaseUri } from '../../../src/config/cluster.js';
import { describeDatabase } from '../../../src/store/cluster/connect.js';
import { evaluateConfigText } from '../../../src/config/load.js';
import { PROVIDERS } from '../../../src/dns/providers/registry.js';

const SOURCE = '/etc/gxit-cert/config.yml';
const BASE = ['certificates:', '  - domains: [galaxy.example.org]', 'dns:', '  provider: rfc2136', '  rfc2136:', '    server: 127.0.0.2'];
const evaluate = (...cluster: string[]) => evaluateConfigText(`${[...BASE, ...cluster].join('\n')}\n`, SOURCE, { providers: PROVIDERS, env: {} });

describe('cluster: section', () => {
  test('absent: no cluster in the configuration', () => {
    expect(evaluate().config?.cluster).toBeUndefined();
  });

  test('every key, with paths resolved against the configuration directory', () => {
    const result = evaluate('cluster:', '  database: postgresql://gxit@db.example.org:5432/gxit_cert', '  password_file: db.password', '  node: web1', '  renewer: false', '  key_file: /etc/gxit-cert/cluster.key');
    expect(result.problems).toEqual([]);
    expect(result.config?.cluster).toEqual({
      database: 'postgresql://gxit@db.example.org:5432/gxit_cert',
      passwordFile: '/etc/gxit-cert/db.password',
      node: 'web1',
      renewer: false,
      keyFile: '/etc/gxit-cert/cluster.key',
    });
  });

  test('defaults: renewer true, node from the host name', () => {
    const result = evaluate('cluster:', '  database: postgresql://db/gxit_cert', '  key_file: k');
    expect(result.config?.cluster?.renewer).toBe(true);
    expect(result.config?.cluster?.node).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]*$/);
  });

  test.each([
    { name: 'a password in the URI, never echoed', lines: ['  database: postgresql://gxit:hunter2@db/gxit_cert', '  key_file: k'], message: /contains a password/, path: 'cluster.database' },
    { name: 'a password parameter', lines: ['  database: postgresql://db/gxit_cert?password=hunter2', '  key_file: k'], message: /password parameter/, path: 'cluster.database' },
    { name: 'not PostgreSQL', lines: ['  database: mysql://db/gxit', '  key_file: k'], message: /postgresql:\/\//, path: 'cluster.database' },
    { name: 'no database name', lines: ['  database: postgresql://db', '  key_file: k'], message: /names no database/, path: 'cluster.database' },
    { name: 'database missing', lines: ['  key_file: k'], message: /is missing/, path: 'cluster.database' },
    { name: 'key_file missing', lines: ['  database: postgresql://db/x'], message: /is missing/, path: 'cluster.key_file' },
    { name: 'renewer not a boolean', lines: ['  database: postgresql://db/x', '  key_file: k', '  renewer: "yes"'], message: /must be true or false/, path: 'cluster.renewer' },
    { name: 'a bad node name', lines: ['  database: postgresql://db/x', '  key_file: k', '  node: "web 1"'], message: /not a valid node name/, path: 'cluster.node' },
    { name: 'an unknown key', lines: ['  database: postgresql://db/x', '  key_file: k', '  nodes: web1'], message: /did you mean node/, path: 'cluster.nodes' },
  ])('$name', ({ lines, message, path }) => {
    const result = evaluate('cluster:', ...lines);
    expect(result.config).toBeUndefined();
    expect(result.problems[0]?.path).toBe(path);
    expect(result.problems[0]?.message).toMatch(message);
    expect(JSON.stringify(result.problems)).not.toContain('hunter2');
  });

  test('database URIs and how messages name them', () => {
    expect(checkDatabaseUri('postgres://u@h/d')).toEqual({ ok: true, value: 'postgres://u@h/d' });
    expect(describeDatabase('postgresql://gxit@db.example.org:5432/gxit_cert?sslmode=require')).toBe('db.example.org:5432/gxit_cert');
    expect(describeDatabase('postgresql://db/x')).toBe('db/x');
  });
});

describe('a follower (cluster.renewer: false): dns: is optional and its secrets are never read', () => {
  const CERTIFICATES = ['certificates:', '  - domains: [galaxy.example.org]'];
  const cluster = (renewer: string) => ['cluster:', '  database: postgresql://gxit@db/gxit_cert', '  node: web2', '  key_file: /etc/gxit-cert/cluster.key', ...(renewer === '' ? [] : [`  renewer: ${renewer}`])];
  const text = (...lines: string[]) => `${lines.join('\n')}\n`;

  /** Every secret file read and every environment variable looked up, to prove none is touched. */
  function watched() {
    const files: string[] = [];
    const variables: string[] = [];
    const env = new Proxy<NodeJS.ProcessEnv>({}, { get: (_target, key) => (typeof key === 'string' && variables.push(key), undefined) });
    const readSecretFile = (path: string): never => {
      files.push(path);
      throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    };
    return { files, variables, options: { providers: PROVIDERS, env, readSecretFile } };
  }

  test('without dns: it loads, with no DNS settings at all', () => {
    const w = watched();
    const result = evaluateConfigText(text(...CERTIFICATES, ...cluster('false')), SOURCE, w.options);
    expect(result.problems).toEqual([]);
    expect(result.config?.dns).toBeUndefined();
    expect(result.config?.cluster).toEqual({ database: 'postgresql://gxit@db/gxit_cert', node: 'web2', renewer: false, keyFile: '/etc/gxit-cert/cluster.key' });
    expect(result.config?.certificates.map((c) => c.name)).toEqual(['galaxy.example.org']);
    expect(result.warnings).toEqual([]);
    expect(w.files).toEqual([]);
  });

  test.each([
    { provider: 'rfc2136: a TSIG key file that does not exist', dns: ['  provider: rfc2136', '  rfc2136:', '    server: 127.0.0.2', '    name: certbot-training.', '    secret_file: /etc/gxit-cert/missing.key'] },
    { provider: 'rfc2136: secret_env not set', dns: ['  provider: rfc2136', '  rfc2136:', '    server: 127.0.0.2', '    name: certbot-training.', '    secret_env: LAB_TSIG'] },
    { provider: 'rfc2136: no secret anywhere (GXIT_CERT_TSIG_SECRET unset)', dns: ['  provider: rfc2136', '  rfc2136:', '    server: 127.0.0.2', '    name: certbot-training.'] },
    { provider: 'route53: a secret access key file that does not exist', dns: ['  provider: route53', '  route53:', '    access_key_id: AKIAIOSFODNN7EXAMPLE', '    secret_access_key_file: /etc/gxit-cert/aws.secret'] },
    { provider: 'cloudflare: a token file that does not exist', dns: ['  provider: cloudflare', '  cloudflare:', '    api_token_file: /etc/gxit-cert/cf.token'] },
    { provider: 'cloudflare: no token anywhere (CLOUDFLARE_API_TOKEN unset)', dns: ['  provider: cloudflare', '  cloudflare: {}'] },
  ])('with dns: whose secret is unavailable ($provider): it loads, nothing is read', ({ dns }) => {
    const w = watched();
    const result = evaluateConfigText(text(...CERTIFICATES, 'dns:', ...dns, ...cluster('false')), SOURCE, w.options);
    expect(result.problems).toEqual([]);
    expect(result.config?.dns).toBeUndefined();
    expect(result.config?.cluster?.renewer).toBe(false);
    expect(w.files).toEqual([]);
    expect(w.variables).toEqual([]);
  });

  test.each([
    { name: 'an unknown key in the provider section', dns: ['  provider: rfc2136', '  rfc2136:', '    server: 127.0.0.2', '    secert_file: /k'], path: 'dns.rfc2136.secert_file', message: /did you mean secret_file/ },
    { name: 'an unknown key in dns', dns: ['  provider: rfc2136', '  propagation_timeot: 30', '  rfc2136:', '    server: 127.0.0.2'], path: 'dns.propagation_timeot', message: /did you mean propagation_timeout/ },
    { name: 'a value of the wrong type', dns: ['  provider: rfc2136', '  propagation_check: "yes"', '  rfc2136:', '    server: 127.0.0.2'], path: 'dns.propagation_check', message: /must be true or false/ },
    { name: 'an unknown provider', dns: ['  provider: bind'], path: 'dns.provider', message: /not a supported DNS provider/ },
    { name: 'dns not a mapping', dns: ['  - rfc2136'], path: 'dns', message: /must be a mapping/ },
  ])('a malformed dns: section is still reported ($name)', ({ dns, path, message }) => {
    const w = watched();
    const result = evaluateConfigText(text(...CERTIFICATES, 'dns:', ...dns, ...cluster('false')), SOURCE, w.options);
    expect(result.config).toBeUndefined();
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]?.path).toBe(path);
    expect(result.problems[0]?.message).toMatch(message);
    expect(w.files).toEqual([]);
  });

  test('a mistake in cluster: is reported alone, not with a dns: the follower does not need', () => {
    const result = evaluateConfigText(text(...CERTIFICATES, ...cluster('false').map((l) => l.replace('postgresql://gxit@db/gxit_cert', 'mysql://db/x'))), SOURCE, watched().options);
    expect(result.problems.map((p) => p.path)).toEqual(['cluster.database']);
  });

  test('an inline secret in an unused dns: section of a world-readable file is still warned about', () => {
    const dns = ['dns:', '  provider: rfc2136', '  rfc2136:', '    server: 127.0.0.2', '    name: k.', `    secret: ${Buffer.from('s').toString('base64')}`];
    const result = evaluateConfigText(text(...CERTIFICATES, ...dns, ...cluster('false')), SOURCE, { ...watched().options, fileMode: 0o100644 });
    expect(result.problems).toEqual([]);
    expect(result.warnings).toEqual([expect.stringMatching(/holds an inline secret \(dns\.rfc2136\.secret\) and is readable by every user/)]);
  });

  test("docs/cluster.md's follower example loads as it is written", () => {
    const doc = readFileSync(new URL('../../../docs/cluster.md', import.meta.url), 'utf8');
    const example = doc.split('```yaml\n').find((block) => block.includes('renewer: false\n'))?.split('```')[0];
    expect(example).toContain('cluster:');
    const w = watched();
    const result = evaluateConfigText(example ?? '', SOURCE, w.options);
    expect(result.problems).toEqual([]);
    expect(result.config?.dns).toBeUndefined();
    expect(result.config?.cluster).toMatchObject({ node: 'web2', renewer: false });
    expect(w.files).toEqual([]);
  });

  describe('a renewer (renewer: true, or no cluster:) is unchanged', () => {
    const renewers = [
      { name: 'renewer: true', lines: cluster('true') },
      { name: 'renewer left at its default', lines: cluster('') },
      { name: 'no cluster: section', lines: [] },
    ];

    test.each(renewers)('$name: dns: is required', ({ lines }) => {
      const result = evaluateConfigText(text(...CERTIFICATES, ...lines), SOURCE, watched().options);
      expect(result.config).toBeUndefined();
      expect(result.problems).toHaveLength(1);
      expect(result.problems[0]).toMatchObject({ code: 'CONFIG_INVALID', path: 'dns', message: 'is missing' });
      expect(result.problems[0]?.fix).toMatch(/^add dns: with provider: rfc2136/);
    });

    test.each(renewers)('$name: a TSIG key file that does not exist is an error', ({ lines }) => {
      const w = watched();
      const dns = ['dns:', '  provider: rfc2136', '  rfc2136:', '    server: 127.0.0.2', '    name: certbot-training.', '    secret_file: /etc/gxit-cert/missing.key'];
      const result = evaluateConfigText(text(...CERTIFICATES, ...dns, ...lines), SOURCE, w.options);
      expect(result.config).toBeUndefined();
      expect(result.problems).toHaveLength(1);
      expect(result.problems[0]).toMatchObject({ code: 'SECRET_UNAVAILABLE', path: 'dns.rfc2136.secret_file', message: '/etc/gxit-cert/missing.key does not exist' });
      expect(w.files).toEqual(['/etc/gxit-cert/missing.key']);
    });

    test.each(renewers)('$name: the dns settings are loaded, secrets read', ({ lines }) => {
      const secret = Buffer.from('tsig').toString('base64');
      const dns = ['dns:', '  provider: rfc2136', '  rfc2136:', '    server: 127.0.0.2', '    name: certbot-training.', '    secret_file: /etc/gxit-cert/tsig.key'];
      const result = evaluateConfigText(text(...CERTIFICATES, ...dns, ...lines), SOURCE, {
        providers: PROVIDERS,
        env: {},
        readSecretFile: () => ({ data: `${secret}\n`, mode: 0o100600 }),
      });
      expect(result.problems).toEqual([]);
      expect(result.config?.dns?.provider).toBe('rfc2136');
      if (lines.length > 0) expect(result.config?.cluster?.renewer).toBe(true);
    });
  });
});
