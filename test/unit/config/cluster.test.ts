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
