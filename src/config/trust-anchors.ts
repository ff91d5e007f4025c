/**
 * dns.trust_anchors: DNSSEC trust anchors that replace the built-in root anchors, each a DS or DNSKEY
 * record in presentation format, as `dnssec-dsfromkey` or `dig DNSKEY` print them:
 *
 *   dns:
 *     trust_anchors:
 *       - "example. IN DS 12345 13 2 0A1B...ZZ"
 *       - "example. 3600 IN DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0d..."
 *
 * Parsing is pure; the records are checked against the zone by check-dns.
 */
import type { TrustAnchor } from './types.js';
import { get, type MapNode } from './tree.js';
import type { Checker } from './combinators.js';
import { normalizeZone, showValue } from './values.js';

export const TRUST_ANCHOR_KEY = 'trust_anchors';

export type ParsedAnchor = { ok: true; value: TrustAnchor } | { ok: false; reason: string };

/** One record: owner [TTL] [IN] DS|DNSKEY fields... (the TTL and class may come in either order). */
export function parseTrustAnchor(text: string): ParsedAnchor {
  const fields = text.trim().replace(/[()]/g, ' ').split(/\s+/).filter((f) => f.length > 0);
  const ownerText = fields.shift();
  if (ownerText === undefined) return { ok: false, reason: 'is empty' };
  let owner: string;
  if (ownerText === '.') owner = '';
  else {
    const zone = normalizeZone(ownerText);
    if (!zone.ok) return { ok: false, reason: `has an owner name that ${zone.reason}` };
    owner = zone.value;
  }
  while (fields.length > 0 && (/^\d+$/.test(fields[0] as string) || /^(IN|CLASS1)$/i.test(fields[0] as string))) fields.shift();
  const type = (fields.shift() ?? '').toUpperCase();
  if (type === 'DS') {
    const [tag, alg, digestType, ...hex] = fields;
    const digest = hex.join('');
    if (!isUint(tag, 0xffff) || !isUint(alg, 255) || !isUint(digestType, 255) || !/^([0-9a-f]{2})+$/i.test(digest)) {
      return { ok: false, reason: 'is not a DS record: expected "<owner> DS <key tag> <algorithm> <digest type> <hex digest>"' };
    }
    const head = Buffer.alloc(4);
    head.writeUInt16BE(Number(tag), 0);
    head[2] = Number(alg);
    head[3] = Number(digestType);
    return { ok: true, value: { owner, type: 'DS', rdata: Buffer.concat([head, Buffer.from(digest, 'hex')]), text: text.trim() } };
  }
  if (type === 'DNSKEY') {
    const [flags, protocol, alg, ...b64] = fields;
    const key = b64.join('');
    if (!isUint(flags, 0xffff) || !isUint(protocol, 255) || !isUint(alg, 255) || !/^[A-Za-z0-9+/]+={0,2}$/.test(key)) {
      return { ok: false, reason: 'is not a DNSKEY record: expected "<owner> DNSKEY <flags> <protocol> <algorithm> <base64 key>"' };
    }
    const head = Buffer.alloc(4);
    head.writeUInt16BE(Number(flags), 0);
    head[2] = Number(protocol);
    head[3] = Number(alg);
    return { ok: true, value: { owner, type: 'DNSKEY', rdata: Buffer.concat([head, Buffer.from(key, 'base64')]), text: text.trim() } };
  }
  return { ok: false, reason: `has type ${showValue(type || '(none)')}; a trust anchor is a DS or a DNSKEY record` };
}

function isUint(text: string | undefined, max: number): boolean {
  return text !== undefined && /^\d+$/.test(text) && Number(text) <= max;
}

export function validateTrustAnchors(check: Checker, dns: MapNode): TrustAnchor[] | undefined {
  const fix = 'write trust_anchors: ["example. IN DS <key tag> <algorithm> <digest type> <digest>"] (output of dnssec-dsfromkey), or remove the key to use the root\'s';
  const node = get(dns, TRUST_ANCHOR_KEY);
  if (node === undefined) return undefined;
  const list = check.list(node, fix);
  if (list === undefined) return undefined;
  const anchors: TrustAnchor[] = [];
  for (const item of list.items) {
    const text = check.scalarString(item, fix);
    if (text === undefined) continue;
    const parsed = parseTrustAnchor(text);
    if (parsed.ok) anchors.push(parsed.value);
    else check.report(item, `${showValue(text)} ${parsed.reason}`, fix);
  }
  if (anchors.length === 0 && list.items.length === 0) {
    check.report(node, 'is an empty list: check-dns would have nothing to validate DNSSEC against', fix);
    return undefined;
  }
  return anchors.length === list.items.length ? anchors : undefined;
}
