/** Reading hand-made certbot trees: version selection, broken versions, mismatched keys, accounts, hook scripts. */
import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listCertbotLineages, parseRfc2136Ini, readCertbotAccount, readCertbotLineage, readHookScripts } from '../../../src/migrate/certbot-tree.js';
import { makeCertificate } from '../renew/certs.js';

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const NAME = 'galaxy.example.org';
const SANS = ['galaxy.example.org', '*.ep.interactivetool.galaxy.example.org'];

async function tree(versions: Record<number, { serialHex: string; brokenKey?: boolean; missing?: string }>, live: Record<string, number>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gxit-cbtree-'));
  dirs.push(dir);
  const archive = path.join(dir, 'archive', NAME);
  await mkdir(archive, { recursive: true });
  await mkdir(path.join(dir, 'live', NAME), { recursive: true });
  await mkdir(path.join(dir, 'renewal'), { recursive: true });
  for (const [n, v] of Object.entries(versions)) {
    const { certPem, keyPem } = makeCertificate({ serialHex: v.serialHex, commonName: NAME, sans: SANS });
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const files: Record<string, string> = { cert: certPem, chain: certPem, fullchain: certPem + certPem, privkey: v.brokenKey ? other : keyPem };
    for (const [kind, text] of Object.entries(files)) if (v.missing !== kind) await writeFile(path.join(archive, `${kind}${n}.pem`), text);
  }
  for (const [kind, n] of Object.entries(live)) await symlink(`../../archive/${NAME}/${kind}${n}.pem`, path.join(dir, 'live', NAME, `${kind}.pem`));
  await writeFile(path.join(dir, 'renewal', `${NAME}.conf`), `version = 1.21.0\n[renewalparams]\naccount = abc\nauthenticator = dns-route53\nserver = https://ca.test/dir\n`);
  return dir;
}

const all = (n: number) => ({ cert: n, chain: n, fullchain: n, privkey: n });

describe('readCertbotLineage', () => {
  it('reads every complete version up to the live one, with the names in certbot\'s order', async () => {
    const dir = await tree({ 1: { serialHex: '01' }, 2: { serialHex: '02' }, 3: { serialHex: '03', missing: 'chain' } }, all(2));
    expect(await listCertbotLineages(dir)).toEqual([NAME]);
    const read = await readCertbotLineage(dir, NAME);
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.lineage.versions.map((v) => [v.number, v.facts.serial])).toEqual([[1, '01'], [2, '02']]);
    expect(read.lineage.live.facts).toMatchObject({ domains: SANS, serial: '02', keyType: 'rsa-2048' });
    expect(read.lineage.warnings).toEqual([`${NAME}: archive version 3 is incomplete and is not imported`]);
  });

  it('skips a broken older version with a warning (numbers shift), and refuses a broken live one', async () => {
    const dir = await tree({ 1: { serialHex: '01', brokenKey: true }, 2: { serialHex: '02' } }, all(2));
    const read = await readCertbotLineage(dir, NAME);
    expect(read.ok && read.lineage.versions.map((v) => v.number)).toEqual([2]);
    expect(read.ok && read.lineage.warnings).toEqual([
      `${NAME}: archive version 1: privkey does not belong to cert; not imported`,
      `${NAME}: 1 of 2 versions are importable, so the numbers in the new archive/ differ from certbot's`,
    ]);
    const broken = await tree({ 1: { serialHex: '01', brokenKey: true } }, all(1));
    expect(await readCertbotLineage(broken, NAME)).toEqual({ ok: false, name: NAME, reason: 'live version 1: privkey does not belong to cert' });
  });

  it('takes the newest complete version when the links are mixed, and refuses missing links', async () => {
    const dir = await tree({ 1: { serialHex: '01' }, 2: { serialHex: '02' } }, { cert: 2, privkey: 2, chain: 1, fullchain: 1 });
    const read = await readCertbotLineage(dir, NAME);
    expect(read.ok && read.lineage.live.number).toBe(2);
    expect(read.ok && read.lineage.warnings).toEqual([`${NAME}: the live/ links point to different versions (an interrupted certbot run); version 2 is taken`]);
    const nolinks = await tree({ 1: { serialHex: '01' } }, { cert: 1 });
    expect(await readCertbotLineage(nolinks, NAME)).toEqual({ ok: false, name: NAME, reason: `live/${NAME}/privkey.pem is missing or not a symbolic link` });
  });

  it('reports an unreadable renewal conf with its line', async () => {
    const dir = await tree({ 1: { serialHex: '01' } }, all(1));
    await writeFile(path.join(dir, 'renewal', `${NAME}.conf`), '[renewalparams]\nserver = "open\n');
    expect(await readCertbotLineage(dir, NAME)).toEqual({ ok: false, name: NAME, reason: `${path.join(dir, 'renewal', `${NAME}.conf`)}:2: server: the " quote is not closed` });
  });

  it('says when a directory is not certbot\'s', async () => {
    await expect(listCertbotLineages('/nonexistent-certbot-dir')).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});

describe('accounts, hook scripts, credentials', () => {
  it('reads certbot\'s account by server path and id', async () => {
    const dir = await tree({ 1: { serialHex: '01' } }, all(1));
    const accountDir = path.join(dir, 'accounts', 'ca.test', 'dir', 'abc');
    await mkdir(accountDir, { recursive: true });
    const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
    await writeFile(path.join(accountDir, 'private_key.json'), JSON.stringify(jwk));
    await writeFile(path.join(accountDir, 'regr.json'), '{"body": {}, "uri": "https://ca.test/acct/7"}');
    const read = await readCertbotAccount(dir, 'https://ca.test/dir', 'abc');
    expect(read.ok && read.account).toMatchObject({ id: 'abc', url: 'https://ca.test/acct/7', dir: accountDir });
    expect(await readCertbotAccount(dir, 'https://ca.test/dir', '../x')).toEqual({ ok: false, reason: 'account ../x of https://ca.test/dir has no account directory' });
  });

  it('lists the executable hook scripts in certbot\'s order and skips the others', async () => {
    const dir = await tree({ 1: { serialHex: '01' } }, all(1));
    const post = path.join(dir, 'renewal-hooks', 'post');
    await mkdir(post, { recursive: true });
    await writeFile(path.join(post, 'b.sh'), '#!/bin/sh\n', { mode: 0o755 });
    await writeFile(path.join(post, 'a.sh'), '#!/bin/sh\n', { mode: 0o755 });
    await writeFile(path.join(post, 'notes.txt'), 'x');
    await chmod(path.join(post, 'notes.txt'), 0o644);
    const { scripts, skipped } = await readHookScripts(dir);
    expect(scripts.map((s) => [s.phase, path.basename(s.path)])).toEqual([['post', 'a.sh'], ['post', 'b.sh']]);
    expect(skipped).toEqual([path.join(post, 'notes.txt')]);
  });

  it('reads the non-secret settings of a dns-rfc2136 credentials file', () => {
    expect(parseRfc2136Ini('# c\ndns_rfc2136_server = 192.0.2.53\ndns_rfc2136_port=5353\ndns_rfc2136_name = k.\ndns_rfc2136_secret = abc\ndns_rfc2136_algorithm = HMAC-SHA256\n')).toEqual({
      server: '192.0.2.53', port: '5353', name: 'k.', algorithm: 'HMAC-SHA256', hasSecret: true,
    });
    expect(parseRfc2136Ini('dns_rfc2136_secret =\n').hasSecret).toBe(false);
  });
});
