/**
 * The `notify:` section: where to tell people about failures, renewals and expiring certificates.
 *
 *   notify:
 *     webhook: https://chat.example.org/hooks/abc   # JSON POST with a Slack/Mattermost "text" field
 *     email: [admin@example.org]                    # via the local sendmail (sendmail -t)
 *     on: [failure]                                 # failure (default) | renewal | expiry
 *     sendmail: /usr/sbin/sendmail                  # where sendmail is (default)
 *
 * A webhook URL often is a secret (Slack's and Mattermost's carry their token in the path): messages
 * name its host only.
 */
import { quote, type Checker } from './combinators.js';
import { get, type MapNode, type TreeNode } from './tree.js';
import { checkEmail, parseServiceUrl } from './values.js';

export type NotifyEvent = 'failure' | 'renewal' | 'expiry';
export const NOTIFY_EVENTS: readonly NotifyEvent[] = ['failure', 'renewal', 'expiry'];
export const NOTIFY_KEYS = ['webhook', 'email', 'on', 'sendmail'] as const;
export const DEFAULT_SENDMAIL = '/usr/sbin/sendmail';

export interface NotifyConfig {
  webhook?: string;
  email: string[];
  on: NotifyEvent[];
  sendmail: string;
}

export function validateNotify(check: Checker, node: TreeNode | undefined): NotifyConfig | undefined {
  if (node === undefined) return undefined;
  const map = check.map(node, NOTIFY_KEYS, 'write notify: as a mapping with webhook: and/or email:');
  if (map === undefined) return undefined;
  const webhookFix = 'write the https:// URL of an incoming webhook (Slack, Mattermost, or any JSON receiver)';
  const webhookText = check.string(map, 'webhook', webhookFix, true);
  let webhook: string | undefined;
  if (webhookText !== undefined) {
    const parsed = parseServiceUrl(webhookText.value);
    if (parsed.ok) webhook = parsed.value;
    else check.report(webhookText.node, `the webhook URL ${parsed.reason}`, webhookFix);
  }
  const email = strings(check, map, 'email', 'write email: [admin@example.org]').flatMap((item) => {
    const parsed = checkEmail(item.value);
    if (parsed.ok) return [parsed.value];
    check.report(item.node, `${quote(item.value)} ${parsed.reason}`, 'write an e-mail address such as admin@example.org');
    return [];
  });
  const onItems = get(map, 'on') === undefined ? [] : strings(check, map, 'on', `write on: [failure] (any of ${NOTIFY_EVENTS.join(', ')})`);
  const on: NotifyEvent[] = [];
  for (const item of onItems) {
    const event = NOTIFY_EVENTS.find((e) => e === item.value.trim().toLowerCase());
    if (event === undefined) check.report(item.node, `${quote(item.value)} is not a notification event`, `write any of ${NOTIFY_EVENTS.join(', ')}`);
    else if (!on.includes(event)) on.push(event);
  }
  const sendmail = check.path(map, 'sendmail', 'write the absolute path of sendmail') ?? DEFAULT_SENDMAIL;
  if (webhook === undefined && email.length === 0 && get(map, 'webhook') === undefined && get(map, 'email') === undefined) {
    check.report(map, 'names no receiver', 'add webhook: or email: (or remove notify:)');
  }
  return { ...(webhook === undefined ? {} : { webhook }), email, on: on.length === 0 ? ['failure'] : on, sendmail };
}

function strings(check: Checker, map: MapNode, key: string, fix: string): { value: string; node: TreeNode }[] {
  const node = get(map, key);
  if (node === undefined) return [];
  const items = node.kind === 'seq' ? node.items : [node];
  const out: { value: string; node: TreeNode }[] = [];
  for (const item of items) {
    const value = check.scalarString(item, fix);
    if (value !== undefined) out.push({ value, node: item });
  }
  return out;
}
