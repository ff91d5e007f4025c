/**
 * What an earlier, killed run left in the DNS journal: status lists it (without touching DNS),
 * check-dns removes exactly those values through the configured provider (foreign values at the same
 * name stay), and an entry written through another provider is kept and named.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lab, labConfig, nsupdate, runCli } from './helpers.js';

const NAME = '_acme-challenge.sweep.example.org';

/** The pid of a process that has exited: its entries are no live run's. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

async function writeEntry(stateDir: string, id: string, provider: string, value: string): Promise<void> {
  const dir = path.join(stateDir, 'dns-journal');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const entry = {
    id, provider, identity: provider === 'rfc2136' ? `servers ${lab().dnsIp}:53, key certbot-training` : 'hosted zone Z1',
    records: [{ fqdn: NAME, value }], command: 'issue', pid: deadPid(), hostname: (await import('node:os')).hostname(), createdAt: new Date().toISOString(),
  };
  await writeFile(path.join(dir, `${id}.json`), `${JSON.stringify(entry)}\n`, { mode: 0o600 });
}

describe('leftovers in the DNS journal', () => {
  it('status lists them, check-dns removes exactly them, an entry of another provider is kept', async () => {
    const { config, dir } = await labConfig({ certificates: [{ name: 'sweep.example.org', domains: ['sweep.example.org'] }] });
    const state = path.join(dir, 'state');
    await nsupdate([`update add ${NAME} 60 TXT "left-1"`, `update add ${NAME} 60 TXT "foreign"`]);
    await writeEntry(state, 'a-left', 'rfc2136', 'left-1');
    await writeEntry(state, 'b-moved', 'route53', 'left-2');

    const status = await runCli(['status', '--config', config, '--json']);
    expect(status.code, status.stderr).toBe(0);
    const doc = JSON.parse(status.stdout);
    expect(doc.dnsLeftovers.map((l: { provider: string; removable: boolean }) => [l.provider, l.removable])).toEqual([['rfc2136', true], ['route53', false]]);
    expect((await runCli(['status', '--config', config])).stdout).toMatch(/warning: TXT values left behind: 1 TXT value\(s\) at _acme-challenge.sweep.example.org .* via route53 .*dns.provider is now rfc2136/);
    // status does not touch DNS.
    expect((await lab().txt(NAME)).sort()).toEqual(['foreign', 'left-1']);

    const check = await runCli(['check-dns', '--config', config, '--json']);
    const results = JSON.parse(check.stdout).results as { status: string; message: string }[];
    expect(results.filter((r) => /left by an earlier run/.test(r.message)).map((r) => r.status)).toEqual(['ok']);
    expect(results.filter((r) => /^left over: .*via route53/.test(r.message)).map((r) => r.status)).toEqual(['warn']);
    expect(await lab().txt(NAME)).toEqual(['foreign']);
    expect(await readdir(path.join(state, 'dns-journal'))).toEqual(['b-moved.json']);
    await nsupdate([`update delete ${NAME} TXT "foreign"`]);
  });
});
