import { describe, expect, test } from 'vitest';
import { get, parseYamlTree, type MapNode, type TreeNode } from '../../../src/config/tree.js';

function tree(text: string): MapNode {
  const result = parseYamlTree(text, 'c.yml');
  expect(result.problems).toEqual([]);
  return result.tree!;
}

function at(root: MapNode, ...keys: (string | number)[]): TreeNode {
  let node: TreeNode = root;
  for (const key of keys) {
    if (typeof key === 'number') {
      if (node.kind !== 'seq') throw new Error(`not a list at ${key}`);
      node = node.items[key]!;
    } else {
      if (node.kind !== 'map') throw new Error(`not a map at ${key}`);
      node = node.entries.get(key)!.node;
    }
  }
  return node;
}

describe('parseYamlTree', () => {
  test('every node knows its line and key path', () => {
    const root = tree(`# comment
email: admin@example.org

certificates:
  - name: galaxy
    domains:
      - galaxy.example.org
      - "*.ep.galaxy.example.org"
dns:
  rfc2136:
    server: 127.0.0.2
`);
    expect(at(root, 'email')).toMatchObject({ kind: 'scalar', value: 'admin@example.org', line: 2, path: 'email' });
    expect(at(root, 'certificates')).toMatchObject({ kind: 'seq', line: 4, path: 'certificates' });
    expect(at(root, 'certificates', 0)).toMatchObject({ kind: 'map', line: 5, path: 'certificates[0]' });
    expect(at(root, 'certificates', 0, 'domains', 1)).toMatchObject({ value: '*.ep.galaxy.example.org', line: 8, path: 'certificates[0].domains[1]' });
    expect(at(root, 'dns', 'rfc2136', 'server')).toMatchObject({ value: '127.0.0.2', line: 11, path: 'dns.rfc2136.server' });
  });

  test('YAML 1.2 core scalars: yes is a string, false and 0 are values, ~ is null', () => {
    const root = tree('a: yes\nb: false\nc: 0\nd: ~\ne:\nf: "53"\ng: 0.05\n');
    expect(at(root, 'a')).toMatchObject({ value: 'yes' });
    expect(at(root, 'b')).toMatchObject({ value: false });
    expect(at(root, 'c')).toMatchObject({ value: 0 });
    expect(at(root, 'd')).toMatchObject({ value: null });
    expect(get(root, 'd')).toBeUndefined();
    expect(get(root, 'e')).toBeUndefined();
    expect(get(root, 'b')).toBeDefined();
    expect(at(root, 'f')).toMatchObject({ value: '53' });
    expect(at(root, 'g')).toMatchObject({ value: 0.05 });
  });

  test('anchors, aliases and << merge keys resolve, with paths where they are used', () => {
    const root = tree(`base: &base
  port: 53
  tcp: false
dns:
  rfc2136:
    <<: *base
    tcp: true
    server: 127.0.0.2
list: &l [a, b]
other: *l
`);
    expect(at(root, 'dns', 'rfc2136', 'port')).toMatchObject({ value: 53, path: 'dns.rfc2136.port' });
    expect(at(root, 'dns', 'rfc2136', 'tcp')).toMatchObject({ value: true, line: 7 });
    expect(at(root, 'other', 1)).toMatchObject({ value: 'b', path: 'other[1]' });
  });

  test('Ansible tags are kept', () => {
    const root = tree('secret: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\nraw: !unsafe "{{ x }}"\n');
    expect(at(root, 'secret')).toMatchObject({ tag: '!vault' });
    expect(at(root, 'raw')).toMatchObject({ tag: '!unsafe', value: '{{ x }}' });
  });

  test('a byte order mark is ignored', () => {
    expect(at(tree('\uFEFFemail: a@b.org\n'), 'email')).toMatchObject({ value: 'a@b.org', line: 1 });
  });

  test.each([
    ['email: a\nemail: b\n', 2, /duplicate key \(also on line 1\)/],
    ['dns:\n  provider: rfc2136\n   resolvers: []\n', 2, /YAML syntax error: Nested mappings/],
    ['certificates: [a, b\n', 2, /YAML syntax error: Flow sequence/],
    ["email: 'unterminated\nserver: x\n", 3, /closing 'quote \(it may have been opened on an earlier line\)/],
    ['a: 1\n---\nb: 2\n', 2, /YAML syntax error/],
  ])('syntax error in %j is reported at line %i', (text, line, message) => {
    const result = parseYamlTree(text, 'c.yml');
    expect(result.tree).toBeUndefined();
    expect(result.problems[0]).toMatchObject({ code: 'CONFIG_SYNTAX', source: 'c.yml', line });
    expect(result.problems[0]!.message).toMatch(message);
  });

  test('a syntax error never quotes the source line (it may hold a secret)', () => {
    const secret = 'c2VjcmV0VG9wU2VjcmV0';
    const result = parseYamlTree(`dns:\n  rfc2136:\n    secret: ${secret}\n   name: x\n  bad: [\n`, 'c.yml');
    expect(result.problems.length).toBeGreaterThan(0);
    for (const problem of result.problems) {
      expect(JSON.stringify(problem)).not.toContain(secret);
      expect(problem.message).not.toContain('\n');
    }
  });

  test.each([
    ['', /empty/],
    ['# only a comment\n', /empty/],
    ['- a\n- b\n', /top level must be a mapping/],
    ['just a string\n', /top level must be a mapping/],
  ])('%j is not a configuration', (text, message) => {
    const result = parseYamlTree(text, 'c.yml');
    expect(result.tree).toBeUndefined();
    expect(result.problems[0]).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(result.problems[0]!.message).toMatch(message);
  });

  test('an alias bomb is refused instead of expanding', () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i += 1) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
    const result = parseYamlTree(lines.join('\n'), 'c.yml');
    expect(result.tree).toBeUndefined();
    expect(result.problems[0]!.message).toMatch(/too many values/);
  });
});

describe('parseYamlTree limits', () => {
  test('50,000 keys fail at once with one problem', () => {
    const text = Array.from({ length: 50_000 }, (_, i) => `k${i}: ${i}`).join('\n');
    const started = Date.now();
    const result = parseYamlTree(text, 'c.yml');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result.tree).toBeUndefined();
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]!.message).toMatch(/more than|larger than/);
  });

  test('more than 10,000 keys in a small flow mapping is one problem', () => {
    const result = parseYamlTree(`{${Array.from({ length: 12_000 }, (_, i) => `k${i}: 1`).join(',')}}`, 'c.yml');
    expect(result.problems).toEqual([expect.objectContaining({ code: 'CONFIG_SYNTAX', message: 'the file has more than 10000 keys, far more than a configuration needs' })]);
  });

  test('more than 10,000 lines is one problem', () => {
    expect(parseYamlTree('#\n'.repeat(10_001), 'c.yml').problems[0]!.message).toMatch(/more than 10000 lines/);
  });

  test('an undefined alias is an error, not null', () => {
    const result = parseYamlTree('email: a@b.org\nkey_type: *nope\n', 'c.yml');
    expect(result.tree).toBeUndefined();
    expect(result.problems).toEqual([expect.objectContaining({ code: 'CONFIG_SYNTAX', line: 2, path: 'key_type', message: 'the alias "*nope" refers to no anchor' })]);
  });

  test('a defined alias still works', () => {
    const result = parseYamlTree('a: &x 1\nb: *x\n', 'c.yml');
    expect(result.problems).toEqual([]);
  });

  test('duplicate keys are found at every level, each with both lines', () => {
    const result = parseYamlTree('a: 1\nb:\n  c: 1\n  c: 2\na: 3\n', 'c.yml');
    expect(result.problems.map((p) => [p.line, p.path, p.message])).toEqual([
      [4, 'b.c', 'YAML syntax error: duplicate key (also on line 3)'],
      [5, 'a', 'YAML syntax error: duplicate key (also on line 1)'],
    ]);
  });

  test('a key that looks like a secret is not echoed in the key path', () => {
    const result = parseYamlTree('dns:\n  c2VjcmV0VG9wU2VjcmV0MTIzNDU2Nzg5MA==: 1\n', 'c.yml');
    const node = result.tree?.entries.get('dns')?.node;
    expect(node?.kind === 'map' ? [...node.entries.values()][0]!.node.path : undefined).toBe('dns.(a key that is not a name, not shown)');
  });
});
