import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { looksLikeRoleHook, recognizeRoleHook } from '../../../src/migrate/role-hook.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/certbot');
const script = readFileSync(path.join(fixtures, 'ansible.sh'), 'utf8');

describe('recognizeRoleHook', () => {
  it('turns the rendered role script into install-files arguments and its "# Other" commands', () => {
    expect(recognizeRoleHook(script)).toEqual({
      ok: true,
      hook: {
        installFilesArgs: [
          '--fullchain', '/etc/ssl/certs/fullchain.pem',
          '--cert', '/etc/ssl/certs/cert.pem',
          '--key', '/etc/ssl/private/privkey.pem',
          '--owner', 'root', '--group', 'ssl-cert',
          '--cert-mode', '0644', '--key-mode', '0640',
          '--user', 'nginx', '--user', 'rabbitmq',
        ],
        otherCommands: ['systemctl restart nginx || true', 'systemctl restart rabbitmq-server || true'],
        notes: [],
      },
    });
  });

  it('reads "chown root:" (no certbot_ssl_group) as group root, and a custom per-user directory', () => {
    const variant = script.replaceAll('root:ssl-cert', 'root:').replaceAll('/etc/ssl/user', '/srv/keys');
    const result = recognizeRoleHook(variant);
    expect(result.ok && result.hook.installFilesArgs).toEqual([
      '--fullchain', '/etc/ssl/certs/fullchain.pem', '--cert', '/etc/ssl/certs/cert.pem', '--key', '/etc/ssl/private/privkey.pem',
      '--owner', 'root', '--group', 'root', '--cert-mode', '0644', '--key-mode', '0640',
      '--user', 'nginx', '--user', 'rabbitmq', '--user-dir', '/srv/keys',
    ]);
  });

  it('notes what install-files does differently (one mode for fullchain and cert)', () => {
    const variant = script.replace('chmod 644           /etc/ssl/certs/cert.pem', 'chmod 600 /etc/ssl/certs/cert.pem');
    const result = recognizeRoleHook(variant);
    expect(result.ok && result.hook.notes).toEqual(['fullchain had mode 0644 and cert 0600; install-files gives both 0644']);
  });

  it.each([
    ['an edited copy line', script.replace('cp /etc/letsencrypt/live/galaxy.example.org/cert.pem', 'cp /elsewhere/key.pem'), 'the "cert" part copies /elsewhere/key.pem, not cert.pem'],
    ['an extra command among the copies', script.replace('# Cert\n', '# Cert\nrm -rf /tmp/x\n'), 'unexpected line in the "cert" part: rm -rf /tmp/x'],
    ['another script', '#!/bin/sh\nsystemctl reload nginx\n', 'it lacks the role\'s "# Chai", "# Cert", "# Privkey" and "# Other" markers'],
  ])('gives up on %s', (_what, text, reason) => {
    expect(recognizeRoleHook(text)).toEqual({ ok: false, reason });
  });

  it('needs all four markers in order', () => {
    expect(looksLikeRoleHook(script)).toBe(true);
    expect(looksLikeRoleHook(script.replace('# Other', '# Misc'))).toBe(false);
  });
});
