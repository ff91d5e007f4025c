/**
 * Outbound HTTP(S) through the proxy the environment names, as curl reads it: `https_proxy` /
 * `HTTPS_PROXY` for https URLs, `http_proxy` / `HTTP_PROXY` for http URLs (the lower-case name wins
 * when both are set), `no_proxy` / `NO_PROXY` listing destinations reached directly. This is the only
 * module that reads these variables: ACME (acme-client's axios), ARI, check-dns and Route53 (the AWS
 * SDK) take their agents from here, so one rule decides for every request. The proxy is asked with
 * CONNECT (https-proxy-agent), also for http destinations, so it sees host and port only.
 */
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP } from 'node:net';
import { checkServerIdentity } from 'node:tls';
import { Agent as AgentBase, type AgentConnectOpts } from 'agent-base';
import { HttpsProxyAgent } from 'https-proxy-agent';

/** One NO_PROXY entry. */
export type NoProxyRule =
  | { kind: 'all' }
  /** The host and every name below it (`example.org`, `.example.org` and `*.example.org` alike); an IP address only itself. */
  | { kind: 'host'; host: string; port?: number }
  | { kind: 'subnet'; text: string; list: BlockList };

export interface ProxySettings {
  /** Proxy URL for https destinations. */
  https?: string;
  /** Proxy URL for http destinations. */
  http?: string;
  noProxy: NoProxyRule[];
}

/** A proxy value from the environment as a URL; `proxy:3128` means `http://proxy:3128`. */
function proxyUrl(value: string | undefined): string | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
}

const pick = (env: NodeJS.ProcessEnv, name: string): string | undefined => {
  const lower = env[name.toLowerCase()];
  return lower !== undefined && lower.trim() !== '' ? lower : env[name.toUpperCase()];
};

/** Host names are compared in lower case, without brackets (IPv6) and without a trailing dot. */
const normalizeHost = (host: string): string => host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');

export function parseNoProxy(text: string | undefined): NoProxyRule[] {
  const rules: NoProxyRule[] = [];
  for (const raw of (text ?? '').split(/[\s,]+/)) {
    const entry = raw.trim();
    if (entry === '') continue;
    if (entry === '*') {
      rules.push({ kind: 'all' });
      continue;
    }
    const subnet = /^([0-9a-f:.]+)\/([0-9]{1,3})$/i.exec(entry);
    const family = subnet ? isIP(subnet[1] ?? '') : 0;
    if (subnet && family !== 0) {
      const list = new BlockList();
      try {
        list.addSubnet(subnet[1] ?? '', Number(subnet[2]), family === 6 ? 'ipv6' : 'ipv4');
        rules.push({ kind: 'subnet', text: entry, list });
      } catch {
        // A prefix longer than the address: not a subnet anyone means; ignore it like curl does.
      }
      continue;
    }
    // host, .host, *.host, host:port, [v6]:port, a bare IPv6 address
    const withPort = /^(\[[^\]]+\]|[^:]+):([0-9]+)$/.exec(entry);
    const host = normalizeHost((withPort ? withPort[1] : entry) ?? '').replace(/^\*?\./, '');
    if (host === '') continue;
    rules.push(withPort ? { kind: 'host', host, port: Number(withPort[2]) } : { kind: 'host', host });
  }
  return rules;
}

export function parseProxyEnv(env: NodeJS.ProcessEnv): ProxySettings {
  const httpsProxy = proxyUrl(pick(env, 'https_proxy'));
  const httpProxy = proxyUrl(pick(env, 'http_proxy'));
  return {
    ...(httpsProxy === undefined ? {} : { https: httpsProxy }),
    ...(httpProxy === undefined ? {} : { http: httpProxy }),
    noProxy: parseNoProxy(pick(env, 'no_proxy')),
  };
}

function exempt(rules: readonly NoProxyRule[], host: string, port: number): boolean {
  const family = isIP(host);
  return rules.some((rule) => {
    switch (rule.kind) {
      case 'all':
        return true;
      case 'subnet':
        return family !== 0 && rule.list.check(host, family === 6 ? 'ipv6' : 'ipv4');
      case 'host':
        if (rule.port !== undefined && rule.port !== port) return false;
        return host === rule.host || (family === 0 && host.endsWith(`.${rule.host}`));
    }
  });
}

/** The proxy URL for a request to `url`, or undefined for a direct connection. */
export function proxyFor(url: string | URL, settings: ProxySettings): string | undefined {
  const target = typeof url === 'string' ? new URL(url) : url;
  const proxy = target.protocol === 'https:' ? settings.https : target.protocol === 'http:' ? settings.http : undefined;
  if (proxy === undefined) return undefined;
  const port = target.port === '' ? (target.protocol === 'https:' ? 443 : 80) : Number(target.port);
  return exempt(settings.noProxy, normalizeHost(target.hostname), port) ? undefined : proxy;
}

/** A proxy URL for messages: user and password left out. */
export function describeProxy(proxy: string): string {
  try {
    const url = new URL(proxy);
    return `${url.protocol}//${url.host}`;
  } catch {
    return 'the configured proxy';
  }
}

export interface AgentOptions {
  /** CA certificates (PEM) trusted for the destinations' TLS; default Node's roots. */
  ca?: string[];
  keepAlive?: boolean;
  /** TCP_NODELAY on direct connections. */
  noDelay?: boolean;
}

/**
 * Decides per connection: a CONNECT tunnel through the proxy for the destination, or the plain
 * agent. A direct connection keeps Node's own agent (and its keep-alive pool) unchanged.
 */
class EnvironmentAgent extends AgentBase {
  private readonly direct: { http: http.Agent; https: https.Agent };
  private readonly tunnels = new Map<string, HttpsProxyAgent<string>>();

  constructor(
    private readonly settings: ProxySettings,
    private readonly agentOptions: AgentOptions,
  ) {
    // Options given here are merged into every request's, so the CA reaches the TLS inside the tunnel;
    // keepAlive here keeps the requests from asking for `Connection: close`.
    const tls: https.AgentOptions = { keepAlive: agentOptions.keepAlive ?? false, ...(agentOptions.ca === undefined ? {} : { ca: agentOptions.ca }) };
    super(tls);
    const keepAlive = agentOptions.keepAlive ?? false;
    const noDelay = agentOptions.noDelay ?? false;
    this.direct = {
      http: new http.Agent({ keepAlive, noDelay }),
      https: new https.Agent({ keepAlive, noDelay, ...(agentOptions.ca === undefined ? {} : { ca: agentOptions.ca }) }),
    };
  }

  connect(_request: http.ClientRequest, options: AgentConnectOpts): http.Agent {
    const host = options.host ?? 'localhost';
    const scheme = options.secureEndpoint ? 'https' : 'http';
    const proxy = proxyFor(`${scheme}://${isIP(host) === 6 ? `[${host}]` : host}:${options.port}`, this.settings);
    if (proxy === undefined) return options.secureEndpoint ? this.direct.https : this.direct.http;
    if (options.secureEndpoint && isIP(host) !== 0) {
      // https-proxy-agent 7 starts the TLS inside the tunnel without the host, so Node would check an
      // IP address certificate against "localhost": check it against the address asked for.
      options.checkServerIdentity = (_name, cert) => checkServerIdentity(host, cert);
    }
    let tunnel = this.tunnels.get(proxy);
    if (tunnel === undefined) {
      tunnel = new HttpsProxyAgent(proxy, {
        keepAlive: this.agentOptions.keepAlive ?? false,
        ...(this.agentOptions.ca === undefined ? {} : { ca: this.agentOptions.ca }),
      });
      this.tunnels.set(proxy, tunnel);
    }
    return tunnel;
  }
}

const parsed = new WeakMap<NodeJS.ProcessEnv, ProxySettings>();

/** The environment's proxy settings, parsed once per environment object. */
export function proxySettings(env: NodeJS.ProcessEnv = process.env): ProxySettings {
  let settings = parsed.get(env);
  if (settings === undefined) {
    settings = parseProxyEnv(env);
    parsed.set(env, settings);
  }
  return settings;
}

export function proxyConfigured(settings: ProxySettings): boolean {
  return settings.https !== undefined || settings.http !== undefined;
}

/**
 * The agent for HTTPS requests (and HTTP requests: it serves both): Node's plain https.Agent when
 * the environment names no proxy, else one that tunnels through the proxy unless NO_PROXY exempts
 * the destination.
 */
export function outboundAgent(options: AgentOptions = {}, env: NodeJS.ProcessEnv = process.env): http.Agent {
  const settings = proxySettings(env);
  if (!proxyConfigured(settings)) {
    return new https.Agent({ keepAlive: options.keepAlive ?? false, noDelay: options.noDelay ?? false, ...(options.ca === undefined ? {} : { ca: options.ca }) });
  }
  return new EnvironmentAgent(settings, options);
}

/** For an http: request: undefined (Node's global agent) when no proxy is configured. */
export function outboundHttpAgent(env: NodeJS.ProcessEnv = process.env): http.Agent | undefined {
  const settings = proxySettings(env);
  return proxyConfigured(settings) ? new EnvironmentAgent(settings, {}) : undefined;
}

/** The AWS SDK's request handler agents: none (the SDK's defaults) without a proxy. */
export function sdkAgents(options: AgentOptions = {}, env: NodeJS.ProcessEnv = process.env): { httpAgent?: http.Agent; httpsAgent?: http.Agent } {
  const settings = proxySettings(env);
  if (!proxyConfigured(settings)) return {};
  const agent = new EnvironmentAgent(settings, { keepAlive: true, ...options });
  return { httpAgent: agent, httpsAgent: agent };
}

/** The proxy variables by the names the environment uses, for a scheduled job to run with. */
export const PROXY_VARIABLES = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY', 'no_proxy', 'NO_PROXY'] as const;

/**
 * The proxy variables set in `env`, to be written into a timer or cron entry so that scheduled runs
 * use the same proxy; those holding a user or password are left out (the files are world-readable).
 */
export function proxyVariables(env: NodeJS.ProcessEnv): { variables: [string, string][]; withCredentials: string[] } {
  const variables: [string, string][] = [];
  const withCredentials: string[] = [];
  for (const name of PROXY_VARIABLES) {
    const value = env[name]?.trim();
    if (!value) continue;
    let credentials = false;
    if (!name.toLowerCase().startsWith('no_')) {
      try {
        const url = new URL(proxyUrl(value) ?? value);
        credentials = url.username !== '' || url.password !== '';
      } catch {
        credentials = value.includes('@');
      }
    }
    if (credentials) withCredentials.push(name);
    else variables.push([name, value]);
  }
  return { variables, withCredentials };
}
