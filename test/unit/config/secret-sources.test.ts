// The three sections that name a secret inline, in a file or in a variable (eab, dns.rfc2136,
// dns.cloudflare) word the same mistakes the same way: a bad inline value, a bad variable name,
// more than one source. Each line is the whole problem as the user sees it.
import { describe, expect, test } from 'vitest';
import { evaluateConfigText } from '../../../src/config/load.js';
import { PROVIDERS } from '../../../src/dns/providers/registry.js';

const SOURCE = '/etc/gxit-cert/config.yml';
const HEAD = ['server: https://127.0.0.1:14000/dir', 'certificates:', '  - domains: [galaxy.example.org]', 'dns:'];
const RFC2136 = [...HEAD, '  provider: rfc2136', '  rfc2136:', '    server: 127.0.0.2', '    name: k'];
const CLOUDFLARE = [...HEAD, '  provider: cloudflare', '  cloudflare:', '    zone_id: 0123456789abcdef0123456789abcdef'];
const EAB = [...HEAD, '  provider: rfc2136', '  rfc2136:', '    server: 127.0.0.2', 'eab:', '  kid: kid-1'];
const HMAC = Buffer.from('eab-hmac-key-bytes-that-are-secret!!').toString('base64url');
const TSIG = 'c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1uZXZlci1sZWFr';
const TOKEN = 'cfToken_0123456789abcdefABCDEF';

function problems(lines: string[]): string[] {
  const result = evaluateConfigText(`${lines.join('\n')}\n`, SOURCE, {
    providers: PROVIDERS,
    env: {},
    readSecretFile: () => ({ data: `${TSIG}\n`, mode: 0o100600 }),
  });
  return result.problems.map((p) => `${p.line}: ${p.path}: ${p.message} (${p.fix ?? ''})`);
}

describe('secret sources', () => {
  test.each<[string, string[], string[]]>([
    ['eab: hmac_key not base64url', [...EAB, '  hmac_key: "not a key!"'], ['10: eab.hmac_key: is not a base64url HMAC key (write the HMAC key exactly as your CA shows it)']],
    ['eab: hmac_key_env not a name', [...EAB, '  hmac_key_env: "1-KEY"'], ['10: eab.hmac_key_env: "1-KEY" is not an environment variable name (write a name of letters, digits and "_", e.g. hmac_key_env: EAB_HMAC_KEY)']],
    [
      'eab: three sources',
      [...EAB, `  hmac_key: ${HMAC}`, '  hmac_key_file: /etc/gxit-cert/eab.key', '  hmac_key_env: EAB_KEY'],
      [
        '11: eab.hmac_key_file: is a second source for the EAB HMAC key (also eab.hmac_key) (keep only one of hmac_key, hmac_key_file and hmac_key_env)',
        '12: eab.hmac_key_env: is a second source for the EAB HMAC key (also eab.hmac_key) (keep only one of hmac_key, hmac_key_file and hmac_key_env)',
      ],
    ],
    ['rfc2136: secret not base64', [...RFC2136, '    secret: "<SECRET>"'], ["9: dns.rfc2136.secret: is not a base64 TSIG secret (write the secret exactly as in the server's key statement (base64, e.g. from tsig-keygen))"]],
    ['rfc2136: secret_env not a name', [...RFC2136, '    secret_env: "1-TSIG"'], ['9: dns.rfc2136.secret_env: "1-TSIG" is not an environment variable name (write a name of letters, digits and "_", e.g. secret_env: TSIG_SECRET)']],
    [
      'rfc2136: file and env',
      [...RFC2136, '    secret_file: /etc/gxit-cert/tsig.key', '    secret_env: TSIG'],
      ['10: dns.rfc2136.secret_env: is a second source for the TSIG secret (also dns.rfc2136.secret_file) (keep only one of secret, secret_file and secret_env)'],
    ],
    [
      'cloudflare: token with white space',
      [...CLOUDFLARE, '    api_token: "two words"'],
      ['8: dns.cloudflare.api_token: is not an API token (it contains white space) (write api_token_file: with the path of a file holding the API token (or api_token_env:, or set CLOUDFLARE_API_TOKEN))'],
    ],
    ['cloudflare: api_token_env not a name', [...CLOUDFLARE, '    api_token_env: "1-CF"'], ['8: dns.cloudflare.api_token_env: "1-CF" is not an environment variable name (write a name of letters, digits and "_", e.g. CLOUDFLARE_API_TOKEN)']],
    [
      'cloudflare: inline and file',
      [...CLOUDFLARE, `    api_token: ${TOKEN}`, '    api_token_file: /etc/gxit-cert/cf.token'],
      ['9: dns.cloudflare.api_token_file: is a second source for the API token (also dns.cloudflare.api_token) (keep only one of api_token, api_token_file and api_token_env)'],
    ],
  ])('%s', (_, lines, expected) => {
    expect(problems(lines)).toEqual(expected);
  });
});
