import https from 'node:https';
import { describe, expect, it } from 'vitest';
import { describeProxy, outboundAgent, outboundHttpAgent, parseProxyEnv, proxyFor, proxyVariables, sdkAgents } from '../../../src/net/proxy.js';

describe('which proxy the environment names', () => {
  it('reads HTTPS_PROXY for https and HTTP_PROXY for http, lower case first, a bare host:port as http://', () => {
    const settings = parseProxyEnv({ HTTPS_PROXY: 'http://upper:3128', https_proxy: 'proxy.example.org:8080', HTTP_PROXY: 'http://plain:3128' });
    expect(proxyFor('https://acme-v02.api.letsencrypt.org/directory', settings)).toBe('http://proxy.example.org:8080');
    expect(proxyFor('http://route53.example:80/', settings)).toBe('http://plain:3128');
    expect(parseProxyEnv({ https_proxy: '  ', HTTPS_PROXY: 'http://upper:3128' }).https).toBe('http://upper:3128');
  });

  it('uses no proxy without the variables, and none for a scheme without its variable', () => {
    expect(proxyFor('https://ca.example/dir', parseProxyEnv({}))).toBeUndefined();
    expect(proxyFor('https://ca.example/dir', parseProxyEnv({ HTTP_PROXY: 'http://p:1' }))).toBeUndefined();
    expect(proxyFor('http://ca.example/dir', parseProxyEnv({ HTTPS_PROXY: 'http://p:1' }))).toBeUndefined();
  });

  const settings = (noProxy: string) => parseProxyEnv({ HTTPS_PROXY: 'http://p:3128', HTTP_PROXY: 'http://p:3128', no_proxy: noProxy });
  it.each<[string, string, boolean]>([
    ['example.org', 'https://example.org/', false],
    ['example.org', 'https://acme.example.org/', false],
    ['.example.org', 'https://acme.example.org/', false],
    ['*.example.org', 'https://example.org/', false],
    ['example.org', 'https://badexample.org/', true],
    ['example.org', 'https://example.org.evil.test/', true],
    ['EXAMPLE.org.', 'https://Acme.Example.ORG/', false],
    ['example.org:8443', 'https://example.org:8443/', false],
    ['example.org:8443', 'https://example.org/', true],
    ['localhost, 127.0.0.1 ::1', 'https://127.0.0.1:14000/dir', false],
    ['localhost,127.0.0.1,::1', 'https://[::1]:14000/dir', false],
    ['[::1]:14000', 'https://[::1]:14000/dir', false],
    ['10.0.0.0/8', 'https://10.20.30.40/', false],
    ['10.0.0.0/8', 'https://11.0.0.1/', true],
    ['10.0.0.0/8', 'https://ten.example/', true],
    ['fd00::/8', 'https://[fd12::1]/', false],
    ['0.0.0.1', 'https://10.0.0.1/', true],
    ['*', 'https://anything.example/', false],
    ['', 'https://anything.example/', true],
    ['169.254.169.254', 'http://169.254.169.254/latest/meta-data', false],
  ])('NO_PROXY=%j, %s -> through the proxy: %s', (noProxy, url, proxied) => {
    expect(proxyFor(url, settings(noProxy)) !== undefined).toBe(proxied);
  });

  it('hands the variables to scheduled jobs, except those with a user or password', () => {
    const env = { HTTPS_PROXY: 'http://u:secret@proxy:3128', http_proxy: 'proxy:3128', NO_PROXY: 'localhost', https_proxy: '' };
    expect(proxyVariables(env)).toEqual({ variables: [['http_proxy', 'proxy:3128'], ['NO_PROXY', 'localhost']], withCredentials: ['HTTPS_PROXY'] });
    expect(proxyVariables({})).toEqual({ variables: [], withCredentials: [] });
  });

  it('names a proxy without its credentials', () => {
    expect(describeProxy('http://user:secret@proxy.example.org:3128')).toBe('http://proxy.example.org:3128');
  });
});

describe('agents', () => {
  it('without a proxy: the plain https.Agent with the CA, the global http agent, the SDK defaults', () => {
    const agent = outboundAgent({ ca: ['PEM'], keepAlive: true }, {});
    expect(agent).toBeInstanceOf(https.Agent);
    expect(outboundHttpAgent({})).toBeUndefined();
    expect(sdkAgents({}, {})).toEqual({});
  });

  it('with a proxy: one deciding agent for both protocols', () => {
    const env = { HTTPS_PROXY: 'http://127.0.0.1:3128' };
    const agent = outboundAgent({}, env);
    expect(agent).not.toBeInstanceOf(https.Agent);
    expect(outboundHttpAgent(env)).toBeDefined();
    const sdk = sdkAgents({}, env);
    expect(sdk.httpsAgent).toBe(sdk.httpAgent);
  });
});
