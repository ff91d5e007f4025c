import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { flow, map, renderYaml, scalar, seq, yamlString } from '../../../src/migrate/yaml-out.js';

describe('yamlString', () => {
  it.each(['plain', 'galaxy.example.org', '/etc/ssl/certs/x.pem', '--fullchain', 'certbot-training.', 'https://ca/dir', 'a:b'])('writes %s plain', (text) => {
    expect(yamlString(text)).toBe(text);
  });
  it.each(['', 'true', 'no', 'null', '~', '0644', '1.5', '-1', '*.ep.x', 'a: b', 'x:', '# c', 'echo "a" >> f', 'a, b', '- x', '[x]'])('quotes %j and YAML reads it back', (text) => {
    const out = yamlString(text);
    expect(out.startsWith('"')).toBe(true);
    expect(parse(`k: ${out}`)).toEqual({ k: text });
  });
});

describe('renderYaml', () => {
  it('writes comments, nested maps, sequences of maps and flow lists that read back as the same data', () => {
    const text = renderYaml(['header line', ''], [
      { key: 'email', value: scalar('a@b'), disabled: true, comment: 'set it' },
      { key: 'server', value: scalar('https://ca/dir'), comment: 'the CA' },
      { key: 'certificates', value: seq([{ value: map([{ key: 'name', value: scalar('g') }, { key: 'domains', value: flow(['g', '*.ep.g']) }]) }]) },
      { key: 'dns', above: ['note above'], value: map([{ key: 'rfc2136', value: map([{ key: 'port', value: scalar(53) }]) }]) },
      { key: 'hooks', value: map([{ key: 'deploy', value: seq([{ value: scalar('echo "x" # y'), comment: 'from z' }, { value: flow(['/bin/x', '--y', '0640']) }]) }]) },
      { key: 'off', value: map([{ key: 'a', value: scalar(true) }]), disabled: true },
    ]);
    expect(text).toBe(
      [
        '# header line',
        '#',
        '',
        '# email: a@b  # set it',
        'server: https://ca/dir  # the CA',
        'certificates:',
        '  - name: g',
        '    domains: [g, "*.ep.g"]',
        '# note above',
        'dns:',
        '  rfc2136:',
        '    port: 53',
        'hooks:',
        '  deploy:',
        '    - "echo \\"x\\" # y"  # from z',
        '    - [/bin/x, --y, "0640"]',
        '# off:',
        '#   a: true',
        '',
      ].join('\n'),
    );
    expect(parse(text)).toEqual({
      server: 'https://ca/dir',
      certificates: [{ name: 'g', domains: ['g', '*.ep.g'] }],
      dns: { rfc2136: { port: 53 } },
      hooks: { deploy: ['echo "x" # y', ['/bin/x', '--y', '0640']] },
    });
  });
});
