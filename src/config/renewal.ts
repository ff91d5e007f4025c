/**
 * The renewal keys of a configuration (part of step 4, validation): `hooks`, `renew_before_days` and
 * `verify_served`. validateTree calls validateRenewalKeys with its Checker, so problems carry the same
 * line, key path and fix as every other key. Each key is optional; absent keys stay absent in Config.
 *
 *   hooks:
 *     pre: ["..."]          # a string runs with /bin/sh -c; a list item that is a list is an argv
 *     deploy: [[/usr/local/lib/node_modules/gxit-cert/hooks/reload-nginx, --conf, /etc/nginx/nginx.conf]]
 *     post: "..."           # a single string is one hook
 *     on_failure: []
 *     timeout: 120          # seconds per hook
 *   renew_before_days: 30
 *   verify_served: ["127.0.0.1:443"]
 */
import { get, kindName, type MapNode, type TreeNode } from './tree.js';
import type { HookCommand, HooksConfig, ServerAddress } from './types.js';
import type { Checker } from './combinators.js';
import { parseServerAddress, showValue } from './values.js';
import { checkDuration } from './durations.js';

export const RENEWAL_KEYS = ['hooks', 'renew_before_days', 'verify_served'] as const;
export const HOOK_PHASE_KEYS = ['pre', 'deploy', 'post', 'on_failure'] as const;
export const HOOK_KEYS = [...HOOK_PHASE_KEYS, 'timeout'] as const;

/** Seconds a hook may run when hooks.timeout is not written. */
export const DEFAULT_HOOK_TIMEOUT_SECONDS = 120;

export interface RenewalSettings {
  hooks?: HooksConfig;
  renewBeforeDays?: number;
  verifyServed?: ServerAddress[];
}

const HOOK_FIX =
  'write a command string (run by /bin/sh -c), or a list of them; a list item that is itself a list is run as argv without a shell, e.g. deploy: [[/usr/local/lib/node_modules/gxit-cert/hooks/reload-nginx]]';

export function validateRenewalKeys(check: Checker, root: MapNode): RenewalSettings {
  const settings: RenewalSettings = {};
  const hooksNode = get(root, 'hooks');
  if (hooksNode !== undefined) {
    const hooks = validateHooks(check, hooksNode);
    if (hooks !== undefined) settings.hooks = hooks;
  }
  const days = checkDuration(check, root, 'renew_before_days', 'renew_before_days');
  if (days !== undefined) settings.renewBeforeDays = days.value;
  const served = validateVerifyServed(check, root);
  if (served !== undefined) settings.verifyServed = served;
  return settings;
}

function validateHooks(check: Checker, node: TreeNode): HooksConfig | undefined {
  const map = check.map(node, HOOK_KEYS, 'write hooks: as a mapping with pre:, deploy:, post:, on_failure: and timeout:');
  if (map === undefined) return undefined;
  const before = check.problems.length;
  const phase = (key: (typeof HOOK_PHASE_KEYS)[number]): HookCommand[] => {
    const value = get(map, key);
    return value === undefined ? [] : hookList(check, value);
  };
  const pre = phase('pre');
  const deploy = phase('deploy');
  const post = phase('post');
  const onFailure = phase('on_failure');
  const timeout = checkDuration(check, map, 'timeout', 'hooks.timeout');
  if (check.problems.length > before) return undefined;
  return { pre, deploy, post, onFailure, timeoutMs: timeout?.ms ?? DEFAULT_HOOK_TIMEOUT_SECONDS * 1000 };
}

/** One phase: a string (one shell hook) or a list of strings (shell) and lists of strings (argv). */
function hookList(check: Checker, node: TreeNode): HookCommand[] {
  if (node.kind === 'scalar') {
    const hook = shellHook(check, node);
    return hook === undefined ? [] : [hook];
  }
  if (node.kind !== 'seq') {
    check.report(node, `must be a command or a list of commands, not ${kindName(node)}`, HOOK_FIX);
    return [];
  }
  const hooks: HookCommand[] = [];
  for (const item of node.items) {
    if (item.kind === 'seq') {
      const argv: string[] = [];
      for (const word of item.items) {
        const text = check.scalarString(word, 'write each argument as a string');
        if (text !== undefined) argv.push(text);
      }
      if (item.items.length === 0) check.report(item, 'is an empty argv list', HOOK_FIX);
      else if (argv[0] === '') check.report(item, 'has an empty program name', HOOK_FIX);
      else if (argv.length === item.items.length) hooks.push({ argv });
      continue;
    }
    const hook = shellHook(check, item);
    if (hook !== undefined) hooks.push(hook);
  }
  return hooks;
}

function shellHook(check: Checker, node: TreeNode): HookCommand | undefined {
  if (node.kind !== 'scalar' || typeof node.value !== 'string') {
    return check.report(node, `must be a command string or an argv list, not ${kindName(node)}`, HOOK_FIX);
  }
  const text = check.scalarString(node, HOOK_FIX);
  if (text === undefined) return undefined;
  if (text.trim() === '') return check.report(node, 'is an empty command', HOOK_FIX);
  return { shell: text };
}

function validateVerifyServed(check: Checker, root: MapNode): ServerAddress[] | undefined {
  const fix = 'write verify_served: ["127.0.0.1:443"] (address or host name of the TLS server, port 443 by default)';
  const node = get(root, 'verify_served');
  if (node === undefined) return undefined;
  const items = node.kind === 'scalar' ? [node] : node.kind === 'seq' ? node.items : undefined;
  if (items === undefined) return check.report(node, `must be a list of addresses, not ${kindName(node)}`, fix);
  const addresses: ServerAddress[] = [];
  for (const item of items) {
    const text = check.scalarString(item, fix);
    if (text === undefined) continue;
    const parsed = parseServerAddress(text, 443, false);
    if (!parsed.ok) check.report(item, `${showValue(text)} ${parsed.reason}`, fix);
    else addresses.push({ host: parsed.value.host, port: parsed.value.port });
  }
  return addresses;
}
