/**
 * The built-in trust anchors: the root zone's KSK-2017 (key tag 20326) and KSK-2024 (key tag 38696),
 * as IANA publishes them in root-anchors.xml. dns.trust_anchors replaces them.
 */
import type { TrustAnchor } from '../../config/types.js';

function ds(tag: number, algorithm: number, digestType: number, hex: string): TrustAnchor {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(tag, 0);
  head[2] = algorithm;
  head[3] = digestType;
  return { owner: '', type: 'DS', rdata: Buffer.concat([head, Buffer.from(hex, 'hex')]), text: `. IN DS ${tag} ${algorithm} ${digestType} ${hex}` };
}

export const ROOT_TRUST_ANCHORS: readonly TrustAnchor[] = [
  ds(20326, 8, 2, 'E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D'),
  ds(38696, 8, 2, '683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16'),
];
