/**
 * notify: a renewal that fails posts one JSON document to the webhook (a loopback HTTP server that
 * records it) and hands one mail to sendmail (a fake recording its input); a receiver that cannot
 * be reached is a warning and leaves the exit code alone.
 */
import { chmod, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lab, labConfig, runCli } from './helpers.js';

const posts: { headers: http.IncomingHttpHeaders; body: string }[] = [];
let server: http.Server;
let webhook: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      posts.push({ headers: req.headers, body });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  webhook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/secret-token`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

/** The lab config with a TSIG key that may not update the challenge names: every order fails. */
function failingDns(): Record<string, unknown> {
  const key = lab().keys.limited;
  const dns = lab().configObject().dns as Record<string, unknown>;
  return { ...dns, rfc2136: { ...(dns.rfc2136 as Record<string, unknown>), name: key.name, secret_file: key.secretFile, algorithm: key.algorithm } };
}

describe('notify', () => {
  it('a failed renewal: one JSON document to the webhook and one mail; a renewal is not announced under on: [failure]', async () => {
    const { dir, config } = await labConfig();
    const mailLog = path.join(dir, 'mail.txt');
    const sendmail = path.join(dir, 'sendmail');
    await writeFile(sendmail, `#!/bin/sh\necho "ARGS: $*" >> ${mailLog}\ncat >> ${mailLog}\n`);
    await chmod(sendmail, 0o755);
    const notify = { webhook, email: ['ops@example.org'], sendmail };
    const state = path.join(dir, 'state');
    await lab().writeConfig(config, { state_dir: state, notify });
    expect((await runCli(['issue', '--config', config])).code).toBe(0);
    expect((await runCli(['renew', '--config', config, '--force'])).code).toBe(0);
    expect(posts).toHaveLength(0);

    await lab().writeConfig(config, { state_dir: state, notify, dns: failingDns() });
    const failed = await runCli(['renew', '--config', config, '--force']);
    expect(failed.code).toBe(1);
    expect(posts).toHaveLength(1);
    expect(posts[0]!.headers['content-type']).toBe('application/json');
    const doc = JSON.parse(posts[0]!.body) as Record<string, unknown>;
    expect(doc).toMatchObject({ event: 'failure', lineage: 'galaxy.example.org', failed: 'renewal', domains: ['galaxy.example.org', '*.ep.interactivetool.galaxy.example.org'] });
    expect(doc.text).toMatch(/renewal of galaxy\.example\.org .* failed: /);
    expect(typeof doc.error).toBe('string');
    expect(Date.parse(String(doc.expiry))).toBeGreaterThan(Date.now());
    const mail = await readFile(mailLog, 'utf8');
    expect(mail).toMatch(/^ARGS: -t$/m);
    expect(mail).toMatch(/^To: ops@example.org$/m);
    expect(mail).toMatch(/^Subject: gxit-cert: failure of galaxy\.example\.org/m);
    expect(failed.stderr + failed.stdout).not.toContain('secret-token');
  });

  it('on: [renewal] announces a renewal; an unreachable webhook and a failing sendmail are warnings, the exit code stays 0', async () => {
    const { dir, config } = await labConfig();
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await lab().writeConfig(config, { state_dir: path.join(dir, 'state'), notify: { webhook: `http://127.0.0.1:${port}/x`, email: ['ops@example.org'], sendmail: '/bin/false', on: ['renewal'] } });
    const run = await runCli(['issue', '--config', config]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/notification \(renewal, galaxy\.example\.org\) not sent: the webhook at 127\.0\.0\.1:\d+ could not be reached/);
    expect(run.stderr).toMatch(/notification e-mail \(renewal, galaxy\.example\.org\) not sent: \/bin\/false -t exited with 1/);

    const before = posts.length;
    await lab().writeConfig(config, { state_dir: path.join(dir, 'state'), notify: { webhook, on: ['renewal', 'failure'] } });
    expect((await runCli(['renew', '--config', config, '--force'])).code).toBe(0);
    expect(posts.slice(before).map((p) => (JSON.parse(p.body) as { event: string }).event)).toEqual(['renewal']);
  });
});
