/** The dns.acme_dns section: the API's URL, the credentials file (lego/certbot format), a timeout. */
import { quote, type Checker } from '../../../config/combinators.js';
import { checkDuration } from '../../../config/durations.js';
import { get, kindName, type TreeNode } from '../../../config/tree.js';
import { parseServiceUrl } from '../../../config/values.js';
import type { AcmeDnsSettings } from './settings.js';

export const ACME_DNS_KEYS = ['api', 'credentials_file', 'timeout', 'allow_from'] as const;
export const ACME_DNS_DEFAULTS = { timeout: 10 } as const;
export const ACME_DNS_MISSING_FIX = 'add an acme_dns: section with api: (the acme-dns server\'s URL) and credentials_file: (e.g. /etc/gxit-cert/acme-dns.json)';

const URL_FIX = 'write the acme-dns server\'s URL, e.g. https://auth.example.org (http only for localhost/127.x)';
const CIDR = /^([0-9.]+|[0-9a-f:]+)\/\d{1,3}$/i;

export function validateAcmeDns(check: Checker, node: TreeNode): AcmeDnsSettings | undefined {
  const map = check.map(node, ACME_DNS_KEYS, 'write acme_dns: as a mapping with api: and credentials_file:');
  if (map === undefined) return undefined;
  const before = check.problems.length;
  let api: string | undefined;
  const apiText = check.string(map, 'api', URL_FIX);
  if (apiText !== undefined) {
    const parsed = parseServiceUrl(apiText.value);
    if (parsed.ok) api = parsed.value.replace(/\/+$/, '');
    else check.report(apiText.node, `${quote(apiText.value)} ${parsed.reason}`, URL_FIX);
  } else if (get(map, 'api') === undefined) {
    check.missing(map, 'api', URL_FIX);
  }
  const credentialsFile = check.path(map, 'credentials_file', 'write the path of the credentials file, e.g. /etc/gxit-cert/acme-dns.json');
  if (get(map, 'credentials_file') === undefined) check.missing(map, 'credentials_file', 'write credentials_file: /etc/gxit-cert/acme-dns.json (gxit-cert acme-dns register creates it; lego\'s and certbot\'s files work as they are)');
  const timeout = checkDuration(check, map, 'timeout', 'dns.acme_dns.timeout');
  let allowFrom: string[] | undefined;
  const allowNode = get(map, 'allow_from');
  if (allowNode !== undefined) {
    const fix = 'write a list of networks, e.g. ["192.0.2.0/24"]';
    if (allowNode.kind !== 'seq') check.report(allowNode, `must be a list, not ${kindName(allowNode)}`, fix);
    else {
      allowFrom = [];
      for (const item of allowNode.items) {
        const text = check.scalarString(item, fix);
        if (text === undefined) continue;
        if (!CIDR.test(text.trim())) check.report(item, `${quote(text)} is not a network in CIDR notation`, fix);
        else allowFrom.push(text.trim());
      }
    }
  }
  if (check.problems.length > before || api === undefined || credentialsFile === undefined || timeout === undefined) return undefined;
  return { api, credentialsFile, timeoutMs: timeout.ms, ...(allowFrom === undefined ? {} : { allowFrom }) };
}
