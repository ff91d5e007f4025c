/**
 * The ARI certificate identifier (RFC 9773 §4.1): base64url(AKI keyIdentifier) "." base64url(serial),
 * where the serial is the DER INTEGER's content octets exactly as encoded, a leading 00 included.
 * node:crypto's serialNumber drops that 00 for serials with the high bit set, so the certificate's
 * DER is read directly.
 */
import { DerError, TAG_OCTET_STRING, TAG_OID, TAG_SEQUENCE, childrenOf, contentOf, expectTag, readTlv, TAG_INTEGER } from './der.js';

/** 2.5.29.35, id-ce-authorityKeyIdentifier, as DER OID content octets. */
const AKI_OID = Uint8Array.from([0x55, 0x1d, 0x23]);
/** [0] IMPLICIT keyIdentifier inside AuthorityKeyIdentifier. */
const KEY_IDENTIFIER_TAG = 0x80;
/** [3] EXPLICIT extensions inside TBSCertificate. */
const EXTENSIONS_TAG = 0xa3;
/** [0] EXPLICIT version inside TBSCertificate. */
const VERSION_TAG = 0xa0;

export interface CertIdParts {
  keyIdentifier: Uint8Array;
  serial: Uint8Array;
}

/** Serial and AKI keyIdentifier of a DER certificate. keyIdentifier is undefined when the certificate has none. */
export function certIdParts(der: Uint8Array): { serial: Uint8Array; keyIdentifier: Uint8Array | undefined } {
  const certificate = expectTag(readTlv(der, 0), TAG_SEQUENCE, 'Certificate');
  const tbs = expectTag(childrenOf(der, certificate)[0], TAG_SEQUENCE, 'TBSCertificate');
  const fields = childrenOf(der, tbs);
  let index = fields[0]?.tag === VERSION_TAG ? 1 : 0;
  const serial = contentOf(der, expectTag(fields[index], TAG_INTEGER, 'serialNumber'));
  index += 1;
  const extensions = fields.slice(index).find((field) => field.tag === EXTENSIONS_TAG);
  if (extensions === undefined) return { serial, keyIdentifier: undefined };
  const list = expectTag(childrenOf(der, extensions)[0], TAG_SEQUENCE, 'Extensions');
  for (const extension of childrenOf(der, list)) {
    const parts = childrenOf(der, expectTag(extension, TAG_SEQUENCE, 'Extension'));
    const oid = contentOf(der, expectTag(parts[0], TAG_OID, 'extnID'));
    if (!sameBytes(oid, AKI_OID)) continue;
    const value = expectTag(parts.at(-1), TAG_OCTET_STRING, 'extnValue');
    const aki = readTlv(der, value.contentStart, value.end);
    expectTag(aki, TAG_SEQUENCE, 'AuthorityKeyIdentifier');
    const keyId = childrenOf(der, aki).find((field) => field.tag === KEY_IDENTIFIER_TAG);
    return { serial, keyIdentifier: keyId === undefined ? undefined : contentOf(der, keyId) };
  }
  return { serial, keyIdentifier: undefined };
}

/** The ARI identifier from its two parts. */
export function formatCertId(parts: CertIdParts): string {
  return `${Buffer.from(parts.keyIdentifier).toString('base64url')}.${Buffer.from(parts.serial).toString('base64url')}`;
}

/**
 * The ARI identifier of a DER certificate, or undefined when it has no AKI keyIdentifier (a
 * self-signed certificate, which no CA issues) or cannot be read.
 */
export function ariCertId(der: Uint8Array): string | undefined {
  try {
    const { serial, keyIdentifier } = certIdParts(der);
    return keyIdentifier === undefined ? undefined : formatCertId({ keyIdentifier, serial });
  } catch (error) {
    if (error instanceof DerError) return undefined;
    throw error;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
