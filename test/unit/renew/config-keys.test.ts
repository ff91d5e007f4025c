import { describe, expect, it } from 'vitest';
import { evaluateConfigText, parseConfigText } from '../../../src/config/load.js';
import { PROVIDERS } from '../../../src/dns/providers/registry.js';

const BASE = `email: admin@example.org
server: https://127.0.0.1:14000/dir
state_dir: /tmp/state
certificates:
  - domains: [rnw.example.org]
dns:
  provider: rfc2136
  rfc2136:
    server: 127.0.0.2
`;

function problems(extra: string): string[] {
  return evaluateConfigText(BASE + extra, '/etc/gxit-cert/config.yml', { providers: PROVIDERS }).problems.map((p) => `${p.line} ${p.path}: ${p.message}`);
}

describe('renewal keys of the configuration', () => {
  it('leaves hooks, renew_before_days and verify_served out when absent', () => {
    const config = parseConfigText(BASE, '/c.yml', { providers: PROVIDERS });
    expect(config.hooks).toBeUndefined();
    expect(config.renewBeforeDays).toBeUndefined();
    expect(config.verifyServed).toBeUndefined();
  });

  it('reads hooks as shell strings and argv lists, with the default timeout', () => {
    const config = parseConfigText(
      `${BASE}hooks:
  pre: "systemctl stop thing"
  deploy:
    - /usr/lib/gxit-cert/hooks/reload-nginx
    - [/usr/lib/gxit-cert/hooks/install-files, --user, galaxy]
  post: []
renew_before_days: 30
verify_served: ["127.0.0.1:443", "[::1]:8443", localhost]
`,
      '/c.yml', { providers: PROVIDERS }
    );
    expect(config.hooks).toEqual({
      pre: [{ shell: 'systemctl stop thing' }],
      deploy: [{ shell: '/usr/lib/gxit-cert/hooks/reload-nginx' }, { argv: ['/usr/lib/gxit-cert/hooks/install-files', '--user', 'galaxy'] }],
      post: [],
      onFailure: [],
      timeoutMs: 120_000,
    });
    expect(config.renewBeforeDays).toBe(30);
    expect(config.verifyServed).toEqual([
      { host: '127.0.0.1', port: 443 },
      { host: '::1', port: 8443 },
      { host: 'localhost', port: 443 },
    ]);
  });

  it('takes a fractional timeout in seconds', () => {
    expect(parseConfigText(`${BASE}hooks:\n  timeout: 0.5\n`, '/c.yml', { providers: PROVIDERS }).hooks?.timeoutMs).toBe(500);
  });

  it.each<[string, string, RegExp]>([
    ['unknown hook phase', 'hooks:\n  deplyo: [x]\n', /hooks\.deplyo: unknown key; did you mean deploy\?/],
    ['hook that is a number', 'hooks:\n  deploy: [42]\n', /hooks\.deploy\[0\]: must be a command string or an argv list, not a number/],
    ['empty argv', 'hooks:\n  deploy: [[]]\n', /hooks\.deploy\[0\]: is an empty argv list/],
    ['argv with a number', 'hooks:\n  deploy: [[reload, 3]]\n', /hooks\.deploy\[0\]\[1\]: must be a string/],
    ['empty command', 'hooks:\n  post: "  "\n', /hooks\.post: is an empty command/],
    ['hooks as a list', 'hooks: [a]\n', /hooks: must be a mapping/],
    ['zero timeout', 'hooks:\n  timeout: 0\n', /hooks\.timeout: 0 is not from 0.001 to 86400/],
    ['timeout as a string', 'hooks:\n  timeout: "2m"\n', /hooks\.timeout: must be a number/],
    ['negative renew_before_days', 'renew_before_days: -3\n', /renew_before_days: -3 is not from 0.001 to 365/],
    ['verify_served with a bad port', 'verify_served: ["127.0.0.1:99999"]\n', /verify_served\[0\]: "127\.0\.0\.1:99999" has an invalid port/],
    ['verify_served as a mapping', 'verify_served: {a: 1}\n', /verify_served: must be a list of addresses/],
  ])('reports %s with its line and key', (_label, extra, expected) => {
    const found = problems(extra);
    expect(found.length).toBeGreaterThan(0);
    expect(found.join('\n')).toMatch(expected);
    expect(found[0]).toMatch(/^1[0-9] /);
  });

  it('keeps the renewal keys in a file written with the Ansible role vocabulary', () => {
    const config = parseConfigText(
      `certbot_domains: [rnw.example.org]
certbot_admin_email: admin@example.org
certbot_dns_provider: rfc2136
certbot_dns_credentials:
  server: 127.0.0.2
hooks:
  deploy: [/usr/lib/gxit-cert/hooks/reload-nginx]
renew_before_days: 20
`,
      '/c.yml', { providers: PROVIDERS }
    );
    expect(config.hooks?.deploy).toEqual([{ shell: '/usr/lib/gxit-cert/hooks/reload-nginx' }]);
    expect(config.renewBeforeDays).toBe(20);
  });
});
