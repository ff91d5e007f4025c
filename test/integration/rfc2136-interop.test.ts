import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTsigAlgorithm } from '../../src/config/values.js';
import type { TsigKey } from '../../src/config/types.js';
import { resolveChallengeTarget } from '../../src/dns/challenge-name.js';
import { waitForPropagation } from '../../src/dns/propagation.js';
import { createRfc2136Provider } from '../../src/dns/providers/rfc2136/provider.js';
import { query } from '../../src/dns/query.js';
import { startKnot, startPowerDns, type RunningServer } from '../lab/other-servers.js';

/** A signal that never fires: the run is not interrupted. */
const NEVER = new AbortController().signal;

const execFileP = promisify(execFile);

/** TXT values at a name on a server, by dig (the reference client), CNAME lines dropped. */
async function dig(server: RunningServer, name: string): Promise<string[]> {
  const { stdout } = await execFileP('dig', ['+short', '+norecurse', `@${server.host}`, '-p', String(server.port), name, 'TXT']);
  return stdout.split('\n').filter((l) => l.startsWith('"')).map((l) => l.replace(/"/g, '')).sort();
}

function tsigOf(server: RunningServer, secret = server.key.secret): TsigKey {
  const algorithm = parseTsigAlgorithm(server.key.algorithm);
  if (!algorithm) throw new Error(`algorithm ${server.key.algorithm}`);
  return { name: server.key.name.replace(/\.$/, ''), algorithm, secret: Buffer.from(secret, 'base64') };
}

describe.each([
  ['Knot DNS', startKnot],
  ['PowerDNS', startPowerDns],
] as const)('RFC 2136 provider against %s', (_label, start) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await start();
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
  });

  const provider = (secret?: string) =>
    createRfc2136Provider({
      servers: [{ host: server.host, port: server.port }],
      tsig: tsigOf(server, secret),
      tcp: false,
      ttl: 60,
      timeoutMs: 2000,
      retries: 2,
    });

  it('adds base and wildcard values at one name in one update, keeps a foreign value, removes exactly its own', async () => {
    const name = `_acme-challenge.galaxy.${server.zone}`;
    const foreign = { fqdn: name, value: 'foreign-value' };
    const ours = [
      { fqdn: name, value: 'challenge-base-value' },
      { fqdn: name, value: 'challenge-wildcard-value' },
    ];
    const other = provider();
    await other.present([foreign], NEVER);
    const p = provider();
    await p.present(ours, NEVER);
    const resolvers = [{ host: server.host, port: server.port }];
    await waitForPropagation(ours, { query, resolvers, nameserverPort: server.port, timeoutMs: 5000, intervalMs: 20 });
    expect(await dig(server, name)).toEqual(['challenge-base-value', 'challenge-wildcard-value', 'foreign-value']);
    await p.cleanup(ours, NEVER);
    expect(await dig(server, name)).toEqual(['foreign-value']);
    await other.cleanup([foreign], NEVER);
    expect(await dig(server, name)).toEqual([]);
  });

  it('writes at the literal challenge name under the GxIT wildcard CNAME', async () => {
    const resolvers = [{ host: server.host, port: server.port }];
    const target = await resolveChallengeTarget(query, resolvers, `*.ep.interactivetool.galaxy.${server.zone}`);
    expect(target).toMatchObject({ fqdn: `_acme-challenge.ep.interactivetool.galaxy.${server.zone}`, wildcardCovered: true });
    const record = { fqdn: target.fqdn, value: 'wildcard-challenge' };
    const p = provider();
    await p.present([record], NEVER);
    expect(await dig(server, target.fqdn)).toEqual(['wildcard-challenge']);
    await p.cleanup([record], NEVER);
    expect(await dig(server, target.fqdn)).toEqual([]);
  });

  it('reports a wrong secret as a TSIG failure naming the key, never the secret', async () => {
    const wrong = Buffer.from('not-the-right-secret-not-the-right').toString('base64');
    const error = await provider(wrong).present([{ fqdn: `_acme-challenge.galaxy.${server.zone}`, value: 'x' }], NEVER).then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string },
    );
    expect(error?.code).toMatch(/DNS_TSIG|DNS_RCODE/);
    expect(error?.message).toContain(server.key.name.replace(/\.$/, ''));
    expect(error?.message).not.toContain(wrong);
    expect(error?.message).not.toContain(server.key.secret);
  });
});
