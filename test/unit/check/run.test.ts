import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChecks, type CheckDeps } from '../../../src/check/run.js';
import { summarize } from '../../../src/check/types.js';
import type { Config } from '../../../src/config/types.js';
import { RRType } from '../../../src/dns/message.js';
import type { DnsProvider, ProbeOptions } from '../../../src/dns/provider.js';
import { rfc2136 } from '../../../src/dns/providers/rfc2136/descriptor.js';
import { renderText } from '../../../src/cli/check-command.js';
import { FakeDns, galaxyZone, type Rec } from './fake-zone.js';

let server: http.Server;
let directoryUrl: string;
beforeAll(async () => {
  server = http.createServer((_req, res) =>
    res.end(JSON.stringify({ newNonce: 'n', newAccount: 'a', newOrder: 'o', meta: { caaIdentities: ['ca.example.net'] } })),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  directoryUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dir`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function setup(extra: Rec[] = []) {
  const dns = new FakeDns([galaxyZone(extra)]);
  const probed: string[] = [];
  // A provider that really writes into the fake zone: what the reads see if they ran during the probe.
  const provider: DnsProvider = {
    name: 'fake',
    present: async () => undefined,
    cleanup: async () => undefined,
    async probe(fqdn: string, opts?: ProbeOptions) {
      probed.push(fqdn);
      const record = { fqdn, value: 'gxit-cert-probe-0000' };
      dns.add({ name: fqdn, type: RRType.TXT, data: [record.value] });
      try {
        await opts?.whilePresent?.(record);
      } finally {
        dns.remove((r) => r.name === fqdn && r.type === RRType.TXT);
      }
      return { ok: true, detail: `added and removed TXT at ${fqdn}` };
    },
  };
  const config: Config = {
    source: 'test',
    server: directoryUrl,
    stateDir: '/nonexistent',
    keyType: 'ecdsa-p256',
    certificates: [{ name: 'galaxy.example.org', domains: ['galaxy.example.org', '*.ep.interactivetool.galaxy.example.org'], keyType: 'ecdsa-p256' }],
    dns: {
      provider: 'rfc2136',
      resolvers: [{ host: '192.0.2.53', port: 53 }],
      propagationTimeoutMs: 30_000,
      propagationIntervalMs: 50,
      propagationCheck: true,
      nameserverPort: 53,
      settings: rfc2136.seal({ servers: [{ host: '192.0.2.53', port: 53 }], tcp: false, ttl: 60, timeoutMs: 500, retries: 1 }),
    },
    warnings: [],
  };
  let n = 0;
  const deps: CheckDeps = {
    config,
    query: dns.query,
    ask: async (_server, name, type) => dns.answer(name, type),
    // The DNSSEC questions (DO bit): answered as an unsigned zone would answer them (NOERROR, no DNSKEY,
    // no DS, no SOA with its RRSIG).
    exchange: async (_server, request) => {
      const opt = request.subarray(request.length - 11);
      if (opt.readUInt16BE(1) !== RRType.OPT || (opt.readUInt32BE(5) & 0x8000) === 0) throw new Error('only DNSSEC questions come this way');
      const reply = Buffer.from(request.subarray(0, request.length - 11));
      reply[2] = 0x84 | ((request[2] as number) & 0x01);
      reply[3] = 0;
      reply.writeUInt16BE(0, 10);
      return reply;
    },
    // The rfc2136 descriptor's own check, as check-command binds it: nothing to sign without a key.
    providerChecks: (targets) =>
      rfc2136.checks!(config.dns.settings, {
        targets,
        exchange: async () => {
          throw new Error('no signed query without a key');
        },
        now: Date.now,
        signal: new AbortController().signal,
      }),
    loadProvider: async () => provider,
    account: { readAccount: async () => undefined, loadAcme: async () => { throw new Error('not needed'); }, http: { timeoutMs: 1000 } },
    accountDir: '/nonexistent/accounts/ca',
    random: () => `r${++n}`,
    now: Date.now,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  };
  return { dns, deps, probed };
}

describe('runChecks', () => {
  it('checks the good Galaxy zone: everything passes, the wildcard-covered challenge name too', async () => {
    const { deps, probed } = setup();
    const results = await runChecks(deps);
    expect(results.map((r) => `${r.status} ${r.check} ${r.subject}`)).toEqual([
      'ok wildcard *.ep.interactivetool.galaxy.example.org',
      'ok host galaxy.example.org',
      'ok zone zone example.org',
      'ok nameserver ns1.example.org (192.0.2.1:53)',
      'ok nameserver ns2.example.org (192.0.2.2:53)',
      'ok dnssec zone example.org',
      'ok challenge _acme-challenge.galaxy.example.org',
      // Seen before the probe wrote there: the reads come first.
      'ok challenge _acme-challenge.ep.interactivetool.galaxy.example.org',
      'ok caa galaxy.example.org',
      'ok caa *.ep.interactivetool.galaxy.example.org',
      'ok write _acme-challenge.galaxy.example.org',
      'ok write _acme-challenge.ep.interactivetool.galaxy.example.org',
      `ok acme ${directoryUrl}`,
      `ok account ${directoryUrl}`,
    ]);
    expect(probed.sort()).toEqual(['_acme-challenge.ep.interactivetool.galaxy.example.org', '_acme-challenge.galaxy.example.org']);
    expect(results.find((r) => r.check === 'dnssec')?.message).toBe('not signed (no DNSKEY at the zone, no DS for it)');
    expect(summarize(results)).toEqual({ ok: 14, warn: 0, fail: 0 });
  });

  it('takes the CA\'s CAA identities from its directory', async () => {
    const { deps } = setup([{ name: 'galaxy.example.org', type: RRType.CAA, data: { flags: 0, tag: 'issue', value: 'other.example' } }]);
    const caa = (await runChecks(deps)).filter((r) => r.check === 'caa');
    expect(caa.map((r) => r.status)).toEqual(['fail', 'fail']);
    expect(caa[0]?.message).toContain('not this CA (ca.example.net from the ACME directory)');
  });

  it('prefers caa_identities from the configuration', async () => {
    const { deps } = setup([{ name: 'galaxy.example.org', type: RRType.CAA, data: { flags: 0, tag: 'issue', value: 'other.example' } }]);
    deps.config.caaIdentities = ['other.example'];
    const caa = (await runChecks(deps)).filter((r) => r.check === 'caa');
    expect(caa.map((r) => r.status)).toEqual(['ok', 'ok']);
  });

  it('does not probe after an interrupt during the lookups', async () => {
    const { deps, probed } = setup();
    const controller = new AbortController();
    controller.abort();
    const results = await runChecks({ ...deps, signal: controller.signal });
    expect(probed).toEqual([]);
    expect(results.some((r) => r.check === 'write')).toBe(false);
  });

  it('reports a provider that cannot be set up', async () => {
    const { deps } = setup();
    const { GxitError } = await import('../../../src/errors.js');
    const results = await runChecks({ ...deps, loadProvider: async () => { throw new GxitError('CONFIG_INVALID', 'dns.route53: no region', { fix: 'set dns.route53.region' }); } });
    expect(results.find((r) => r.check === 'write')).toMatchObject({ status: 'fail', subject: 'rfc2136', fix: 'set dns.route53.region' });
  });
});

describe('renderText', () => {
  it('prints a line per check, the fix under ! and ✗, details only with --verbose, and a summary', () => {
    const results = [
      { check: 'host' as const, status: 'ok' as const, subject: 'galaxy.example.org', message: 'galaxy.example.org → A 192.0.2.10', details: ['more'] },
      { check: 'wildcard' as const, status: 'fail' as const, subject: '*.x.example.org', message: 'missing', fix: 'add it' },
      { check: 'challenge' as const, status: 'warn' as const, subject: '_acme-challenge.x.example.org', message: 'covered', fix: 'nothing' },
      { check: 'challenge' as const, status: 'ok' as const, subject: '_acme-challenge.y.example.org', message: 'literal', note: 'others differ' },
    ];
    expect(renderText(results, { verbose: false, elapsedMs: 420 })).toBe(
      [
        '✗ wildcard   *.x.example.org: missing',
        '             fix: add it',
        '✓ host       galaxy.example.org: galaxy.example.org → A 192.0.2.10',
        '! challenge  _acme-challenge.x.example.org: covered',
        '             fix: nothing',
        '✓ challenge  _acme-challenge.y.example.org: literal',
        '             note: others differ',
        'check-dns: 2 ok, 1 warning, 1 problem (0.42 s)',
        '',
      ].join('\n'),
    );
    expect(renderText(results, { verbose: true, elapsedMs: 0 })).toContain('galaxy.example.org → A 192.0.2.10\n             more\n');
  });
});
