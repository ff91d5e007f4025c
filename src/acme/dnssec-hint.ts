/**
 * Since 2026-03-15 CAs validate DNSSEC on every validation lookup: a bogus answer reaches the client
 * only as the CA's "SERVFAIL" or "DNSSEC" problem detail. gxit-cert does not validate during issue
 * (the CA does); this turns such a detail into the pointer to the check that names the broken record.
 */

/**
 * What CAs write: Let's Encrypt (Boulder) "DNS problem: SERVFAIL looking up TXT for ..." and "DNSSEC: Bogus";
 * Pebble "... returned an unsuccessful response: '\x02'" (rcode 2, SERVFAIL, printed as a byte).
 */
const MENTION = /DNSSEC|SERVFAIL|unsuccessful response: '(?:\\)*x02'/i;

/** The fix for a CA error whose text mentions DNSSEC or SERVFAIL, else undefined. Pure. */
export function dnssecHint(text: string): string | undefined {
  if (!MENTION.test(text)) return undefined;
  // The problem detail of the failed challenge, when the text carries the authorization as JSON.
  const quoted = [...text.matchAll(/"detail"\s*:\s*"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] as string).find((d) => MENTION.test(d));
  // Else the text is the detail itself (a problem document's), unless it is JSON without one.
  let detail: string | undefined = quoted === undefined && !text.includes('{"') ? text : undefined;
  if (quoted !== undefined) {
    try {
      detail = JSON.parse(`"${quoted}"`) as string;
    } catch {
      detail = quoted;
    }
  }
  if (detail !== undefined) {
    // Nested quoting flattened, and Pebble's rcode byte spelled as the rcode.
    detail = detail.replace(/\\+"/g, '"').replace(/an unsuccessful response: '(?:\\)*x02'/, 'SERVFAIL');
    if (detail.length > 160) detail = `${detail.slice(0, 157)}...`;
  }
  const said = detail ? `the CA's lookup failed: ${detail};` : "the CA's DNS lookup failed,";
  return `${said} that is how a validating resolver answers a broken DNSSEC chain or an unsigned record in a signed zone: run \`gxit-cert check-dns\` to find the record, key tag and nameserver`;
}
