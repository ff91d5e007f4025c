/**
 * The dns.exec section: lego style (`command`) or certbot style (`auth_hook`, `cleanup_hook`), a
 * timeout per call and whether the calls may run at once. A command is a string (run by /bin/sh -c)
 * or a list of strings (run without a shell).
 */
import type { Checker } from '../../../config/combinators.js';
import { checkDuration } from '../../../config/durations.js';
import { get, kindName, locate, type TreeNode } from '../../../config/tree.js';
import type { ExecCommand, ExecSettings } from './settings.js';

export const EXEC_KEYS = ['command', 'auth_hook', 'cleanup_hook', 'timeout', 'parallel'] as const;
export const EXEC_DEFAULTS = { timeout: 60, parallel: true } as const;

const COMMAND_FIX = 'write the path of the script (a string is run by /bin/sh -c), or a list such as ["/usr/local/bin/dns-hook", "--zone", "example.org"]';
export const EXEC_MISSING_FIX = 'add an exec: section with command: (lego style: command present|cleanup FQDN. VALUE) or auth_hook: and cleanup_hook: (certbot style)';

function command(check: Checker, node: TreeNode | undefined): ExecCommand | undefined {
  if (node === undefined) return undefined;
  if (node.kind === 'scalar') {
    const text = check.scalarString(node, COMMAND_FIX);
    if (text === undefined) return undefined;
    if (text.trim() === '') return check.report(node, 'is an empty command', COMMAND_FIX);
    return { shell: text };
  }
  if (node.kind !== 'seq') return check.report(node, `must be a command string or a list of strings, not ${kindName(node)}`, COMMAND_FIX);
  const argv: string[] = [];
  for (const word of node.items) {
    const text = check.scalarString(word, 'write each argument as a string');
    if (text !== undefined) argv.push(text);
  }
  if (node.items.length === 0) return check.report(node, 'is an empty list', COMMAND_FIX);
  if (argv.length !== node.items.length) return undefined;
  if ((argv[0] ?? '').trim() === '') return check.report(node, 'has an empty program name', COMMAND_FIX);
  return { argv };
}

export function validateExec(check: Checker, node: TreeNode): ExecSettings | undefined {
  const map = check.map(node, EXEC_KEYS, 'write exec: as a mapping with command: (or auth_hook: and cleanup_hook:), timeout:, parallel:');
  if (map === undefined) return undefined;
  const before = check.problems.length;
  const lego = command(check, get(map, 'command'));
  const auth = command(check, get(map, 'auth_hook'));
  const cleanupHook = command(check, get(map, 'cleanup_hook'));
  const timeout = checkDuration(check, map, 'timeout', 'dns.exec.timeout');
  const parallel = check.bool(map, 'parallel');
  const has = (key: string): boolean => get(map, key) !== undefined;
  if (has('command') && (has('auth_hook') || has('cleanup_hook'))) {
    check.report(locate(map, has('auth_hook') ? 'auth_hook' : 'cleanup_hook'), 'is certbot style, but command: (lego style) is set too', 'keep either command: or auth_hook: with cleanup_hook:');
  } else if (!has('command') && !has('auth_hook')) {
    if (has('cleanup_hook')) check.report(locate(map, 'cleanup_hook'), 'needs an auth_hook: that adds the record', 'add auth_hook: (certbot\'s --manual-auth-hook script)');
    else check.missing(map, 'command', EXEC_MISSING_FIX);
  } else if (has('auth_hook') && !has('cleanup_hook')) {
    // certbot allows it, but then every record we add stays: refuse, as every TXT record must go again.
    check.report(locate(map, 'auth_hook'), 'has no cleanup_hook: the records it adds would stay', 'add cleanup_hook: (certbot\'s --manual-cleanup-hook script)');
  }
  if (check.problems.length > before || timeout === undefined || parallel === undefined) return undefined;
  const timeoutMs = timeout.ms;
  if (lego !== undefined) return { style: 'lego', command: lego, timeoutMs, parallel };
  if (auth === undefined) return undefined;
  return { style: 'certbot', authHook: auth, ...(cleanupHook === undefined ? {} : { cleanupHook }), timeoutMs, parallel };
}
