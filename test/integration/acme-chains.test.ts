/**
 * preferred_chain against a Pebble with PEBBLE_ALTERNATE_ROOTS=1 (two roots, two chains per
 * certificate, the alternate offered by Link: rel="alternate"), on its own ports beside the lab's.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startExtraPebble, type ExtraPebble } from './extra-pebble.js';
import { lab, labConfig, parseChain, runCli } from './helpers.js';

let pebble: ExtraPebble;
const commonName = (dn: string): string | undefined => /(?:^|\n)CN=([^\n]*)/.exec(dn)?.[1];

beforeAll(async () => {
  pebble = await startExtraPebble(inject('lab'), { name: 'alt-roots', acmePort: 14200, managementPort: 15200, env: { PEBBLE_ALTERNATE_ROOTS: '1' } });
});
afterAll(async () => {
  await pebble?.stop();
});

async function rootName(index: number): Promise<string> {
  const answer = await pebble.manage(`/roots/${index}`);
  expect(answer.status).toBe(200);
  const name = commonName(new X509Certificate(answer.body).subject);
  if (name === undefined) throw new Error('root without CN');
  return name;
}

describe('preferred_chain', () => {
  it('the alternate root\'s name gives the chain ending at that root; without it the default chain', async () => {
    const [defaultRoot, alternateRoot] = [await rootName(0), await rootName(1)];
    expect(alternateRoot).not.toBe(defaultRoot);
    const topIssuer = async (state: string): Promise<string | undefined> => {
      const chain = parseChain(await readFile(path.join(state, 'live', 'galaxy.example.org', 'fullchain.pem'), 'utf8'));
      expect(chain.length).toBeGreaterThanOrEqual(2);
      return commonName(chain.at(-1)!.issuer);
    };

    const { dir } = await labConfig();
    const preferred = await lab().writeConfig(path.join(dir, 'alt.yml'), { server: pebble.directoryUrl, state_dir: path.join(dir, 'alt'), preferred_chain: alternateRoot });
    const run = await runCli(['issue', '--config', preferred]);
    expect(run.code, run.stderr).toBe(0);
    expect(await topIssuer(path.join(dir, 'alt'))).toBe(alternateRoot);

    const plain = await lab().writeConfig(path.join(dir, 'default.yml'), { server: pebble.directoryUrl, state_dir: path.join(dir, 'default') });
    const second = await runCli(['issue', '--config', plain]);
    expect(second.code, second.stderr).toBe(0);
    expect(await topIssuer(path.join(dir, 'default'))).toBe(defaultRoot);

    // A name no chain has: the default chain, as certbot does.
    const unknown = await lab().writeConfig(path.join(dir, 'unknown.yml'), { server: pebble.directoryUrl, state_dir: path.join(dir, 'unknown'), certificates: [{ domains: ['galaxy.example.org'], preferred_chain: 'No Such Root' }] });
    const third = await runCli(['issue', '--config', unknown]);
    expect(third.code, third.stderr).toBe(0);
    expect(await topIssuer(path.join(dir, 'unknown'))).toBe(defaultRoot);
  });
});
