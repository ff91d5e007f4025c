import { describe, expect, it } from 'vitest';
import type { ServerAddress } from '../../../src/config/types.js';
import { RRType } from '../../../src/dns/message.js';
import type { DnsProvider, ProbeOptions, ProbeResult, TxtRecord } from '../../../src/dns/provider.js';
import type { QueryFn } from '../../../src/dns/resolver.js';
import { GxitError } from '../../../src/errors.js';
import { evaluateProbe, gatherProbe, type ProbeDeps, type ProbeFacts } from '../../../src/check/credentials.js';
import { FakeDns, galaxyZone, message } from './fake-zone.js';

const SERVER: ServerAddress = { host: '192.0.2.53', port: 53 };

/** Two nameservers of example.org; `served` says which server serves which TXT values at which name. */
function nameservers(served: (host: string, name: string) => string[]): QueryFn {
  const dns = new FakeDns([galaxyZone()]);
  return async (server, name, type, opts) => {
    if (type !== RRType.TXT) return dns.query(server, name, type, opts);
    return message(served(server.host, name).map((v) => ({ name, type: RRType.TXT, data: [v] })));
  };
}

/** A provider whose probe behaves as the contract says: add, whilePresent, remove. */
function provider(zone: Map<string, Set<string>>, opts: { fail?: GxitError; keep?: boolean; noCallback?: boolean } = {}): DnsProvider {
  return {
    name: 'fake',
    present: async () => undefined,
    cleanup: async () => undefined,
    async probe(fqdn: string, o?: ProbeOptions): Promise<ProbeResult> {
      if (opts.fail) return { ok: false, detail: opts.fail.message, ...(opts.fail.fix ? { fix: opts.fail.fix } : {}) };
      const record: TxtRecord = { fqdn, value: 'gxit-cert-probe-0123456789abcdef' };
      zone.set(fqdn, new Set([record.value]));
      try {
        if (!opts.noCallback) await o?.whilePresent?.(record);
      } finally {
        if (!opts.keep) zone.delete(fqdn);
      }
      return { ok: true, detail: `added and removed TXT "${record.value}" at ${fqdn}` };
    },
  };
}

function probeDeps(query: QueryFn, extra: Partial<ProbeDeps> = {}): ProbeDeps {
  return { query, resolvers: [SERVER], nameserverPort: 53, verify: true, visibleWithinMs: 150, goneWithinMs: 100, now: Date.now, ...extra };
}

const FQDN = '_acme-challenge.galaxy.example.org';

describe('write probe', () => {
  it('passes when every authoritative nameserver serves the value, and nothing stays', async () => {
    const zone = new Map<string, Set<string>>();
    const q = nameservers((_host, name) => [...(zone.get(name) ?? [])]);
    const facts = await gatherProbe(probeDeps(q), provider(zone), FQDN);
    expect(facts.visible).toMatchObject({ ms: expect.any(Number) });
    expect(facts.leftover).toEqual([]);
    const r = evaluateProbe(facts);
    expect(r).toMatchObject({ check: 'write', status: 'ok', subject: FQDN });
    expect(r.message).toMatch(/every authoritative nameserver served it within \d+ ms/);
  });

  it('warns and names the nameserver that never served it', async () => {
    const zone = new Map<string, Set<string>>();
    const q = nameservers((host, name) => (host === '192.0.2.2' ? [] : [...(zone.get(name) ?? [])]));
    const r = evaluateProbe(await gatherProbe(probeDeps(q), provider(zone), FQDN));
    expect(r.status).toBe('warn');
    expect(r.message).toContain('but ns2.example.org at 192.0.2.2:53 did not serve it in time');
  });

  it('fails when a nameserver still serves the value after the removal', async () => {
    const zone = new Map<string, Set<string>>();
    const q = nameservers((_host, name) => [...(zone.get(name) ?? [])]);
    const r = evaluateProbe(await gatherProbe(probeDeps(q), provider(zone, { keep: true }), FQDN));
    expect(r.status).toBe('fail');
    expect(r.message).toContain('ns1.example.org (192.0.2.1:53), ns2.example.org (192.0.2.2:53) still serve the probe value');
  });

  it('reports the provider\'s failure with its fix', async () => {
    const zone = new Map<string, Set<string>>();
    const refused = new GxitError('DNS_RCODE', 'server 192.0.2.53:53 refused the update (REFUSED)', { fix: 'check the update-policy' });
    const r = evaluateProbe(await gatherProbe(probeDeps(nameservers(() => [])), provider(zone, { fail: refused }), FQDN));
    expect(r).toMatchObject({ status: 'fail', message: refused.message, fix: 'check the update-policy' });
  });

  it('stops waiting when interrupted; the provider still removes the value', async () => {
    const zone = new Map<string, Set<string>>();
    const controller = new AbortController();
    const q = nameservers(() => []); // never visible: the wait would last visibleWithinMs
    const started = Date.now();
    const pending = gatherProbe(probeDeps(q, { signal: controller.signal, visibleWithinMs: 60_000, onPresent: () => setTimeout(() => controller.abort(), 20) }), provider(zone), FQDN);
    const facts = await pending;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(facts.interrupted).toBe(true);
    expect(zone.size).toBe(0);
    expect(evaluateProbe(facts)).toMatchObject({ status: 'fail', message: expect.stringMatching(/^interrupted; added and removed/) });
  });

  it('does not ask the nameservers when dns.propagation_check is off', async () => {
    const zone = new Map<string, Set<string>>();
    const asked: string[] = [];
    const q: QueryFn = async (s, n, t) => {
      asked.push(n);
      return message([]);
    };
    const facts = await gatherProbe(probeDeps(q, { verify: false }), provider(zone), FQDN);
    expect(asked).toEqual([]);
    expect(evaluateProbe(facts)).toMatchObject({ status: 'ok' });
  });

  it('warns when the provider has no probe', () => {
    const facts: ProbeFacts = { fqdn: FQDN, provider: 'manual' };
    expect(evaluateProbe(facts)).toMatchObject({ status: 'warn', message: expect.stringContaining('cannot probe') });
  });
});
