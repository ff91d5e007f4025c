/**
 * The post-renewal script of the Galaxy certbot role (usegalaxy_eu.certbot, tasks/post-renewal.yml),
 * rendered to renewal-hooks/post/ansible.sh:
 *
 *   #!/bin/bash
 *   mkdir -p  /etc/ssl/private/
 *   chmod 750 /etc/ssl/private/                    (only with certbot_ssl_group)
 *   chown root:ssl-cert /etc/ssl/private/          (only with certbot_ssl_group)
 *   # Chai
 *   cp /etc/letsencrypt/live/<name>/fullchain.pem /etc/ssl/certs/fullchain.pem
 *   chmod 644           /etc/ssl/certs/fullchain.pem
 *   chown root:ssl-cert /etc/ssl/certs/fullchain.pem
 *   # Cert             ... cert.pem, the same three lines
 *   # Privkey          ... privkey.pem, chmod 640
 *   # For each user, create custom version
 *   mkdir -p /etc/ssl/user ...
 *   cp /etc/ssl/private/privkey.pem /etc/ssl/user/privkey-nginx.pem
 *   chown nginx /etc/ssl/user/privkey-nginx.pem
 *   # Other
 *   systemctl restart nginx || true               (certbot_post_renewal, verbatim)
 *
 * recognizeRoleHook turns it into the arguments of the shipped install-files hook plus the commands
 * after "# Other". Anything it does not understand makes it give up (the script is then kept as it is).
 */

export interface RoleHook {
  /** Arguments of hooks/install-files (without the program). */
  installFilesArgs: string[];
  /** The lines after "# Other" (certbot_post_renewal), blank lines dropped. */
  otherCommands: string[];
  /** Things that install-files does differently, for a warning. */
  notes: string[];
}

export type RoleHookResult = { ok: true; hook: RoleHook } | { ok: false; reason: string };

const MARKERS = ['# Chai', '# Cert', '# Privkey', '# Other'] as const;

/** Whether the script looks like the role's (all four markers, in order). */
export function looksLikeRoleHook(text: string): boolean {
  let from = 0;
  for (const marker of MARKERS) {
    const at = text.indexOf(`\n${marker}\n`, from);
    if (at < 0) return false;
    from = at + 1;
  }
  return true;
}

interface Target {
  dest: string;
  mode?: string;
  owner?: string;
  group?: string;
}

type Part = 'head' | 'fullchain' | 'cert' | 'privkey' | 'users' | 'other';

const PART_OF: Record<string, Part> = {
  '# Chai': 'fullchain',
  '# Cert': 'cert',
  '# Privkey': 'privkey',
  '# For each user, create custom version': 'users',
  '# Other': 'other',
};

export function recognizeRoleHook(text: string): RoleHookResult {
  if (!looksLikeRoleHook(text)) return { ok: false, reason: 'it lacks the role\'s "# Chai", "# Cert", "# Privkey" and "# Other" markers' };
  const targets: Partial<Record<'fullchain' | 'cert' | 'privkey', Target>> = {};
  const users: string[] = [];
  let userDir: string | undefined;
  const other: string[] = [];
  let part: Part = 'head';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (PART_OF[line] !== undefined) {
      part = PART_OF[line];
      continue;
    }
    if (part === 'other') {
      if (line !== '') other.push(raw.replace(/^ {0,8}/, ''));
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const words = line.split(/\s+/);
    const [cmd, a, b] = words;
    if (part === 'head') {
      if (cmd === 'mkdir' || cmd === 'chmod' || cmd === 'chown') continue; // /etc/ssl/private/, made by install-files too
      return { ok: false, reason: `unexpected line before "# Chai": ${line}` };
    }
    if (part === 'users') {
      if (cmd === 'mkdir' && a === '-p' && b !== undefined) {
        userDir = b.replace(/\/+$/, '');
        continue;
      }
      if (cmd === 'chmod' || (cmd === 'chown' && b === userDir)) continue;
      if (cmd === 'cp' && b !== undefined) {
        const m = /^(.*)\/privkey-([^/]+)\.pem$/.exec(b);
        if (!m) return { ok: false, reason: `unexpected copy in the per-user part: ${line}` };
        userDir = m[1];
        users.push(m[2]!);
        continue;
      }
      if (cmd === 'chown') continue; // chown <user> <dir>/privkey-<user>.pem
      return { ok: false, reason: `unexpected line in the per-user part: ${line}` };
    }
    const target = (targets[part] ??= { dest: '' });
    if (cmd === 'cp' && words.length === 3 && b !== undefined) {
      const expected = part === 'fullchain' ? 'fullchain.pem' : part === 'cert' ? 'cert.pem' : 'privkey.pem';
      if (!a!.endsWith(`/${expected}`)) return { ok: false, reason: `the "${part}" part copies ${a}, not ${expected}` };
      target.dest = b;
    } else if (cmd === 'chmod' && words.length === 3 && b === target.dest) {
      target.mode = a!.padStart(4, '0');
    } else if (cmd === 'chown' && words.length === 3 && b === target.dest) {
      const [owner, group] = a!.split(':');
      target.owner = owner!;
      // "chown root:" (no certbot_ssl_group) gives the owner's login group: root for root.
      target.group = group === undefined || group === '' ? owner! : group;
    } else {
      return { ok: false, reason: `unexpected line in the "${part}" part: ${line}` };
    }
  }
  const { fullchain, cert, privkey } = targets;
  if (!fullchain?.dest || !cert?.dest || !privkey?.dest) return { ok: false, reason: 'a cp line of fullchain, cert or privkey is missing' };
  const notes: string[] = [];
  const owners = new Set([fullchain.owner, cert.owner, privkey.owner].filter((o) => o !== undefined));
  const groups = new Set([fullchain.group, cert.group, privkey.group].filter((g) => g !== undefined));
  if (owners.size > 1 || groups.size > 1) notes.push('the files had different owners or groups; install-files gives all three the same');
  if (fullchain.mode !== cert.mode) notes.push(`fullchain had mode ${fullchain.mode ?? '?'} and cert ${cert.mode ?? '?'}; install-files gives both ${fullchain.mode ?? '0644'}`);
  const args = ['--fullchain', fullchain.dest, '--cert', cert.dest, '--key', privkey.dest];
  const owner = [...owners][0];
  const group = [...groups][0];
  if (owner !== undefined) args.push('--owner', owner);
  if (group !== undefined) args.push('--group', group);
  if (fullchain.mode !== undefined) args.push('--cert-mode', fullchain.mode);
  if (privkey.mode !== undefined) args.push('--key-mode', privkey.mode);
  for (const user of users) args.push('--user', user);
  if (users.length > 0 && userDir !== undefined && userDir !== '/etc/ssl/user') args.push('--user-dir', userDir);
  return { ok: true, hook: { installFilesArgs: args, otherCommands: other, notes } };
}
