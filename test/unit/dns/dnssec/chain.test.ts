import { describe, expect, it } from 'vitest';
import type { TrustAnchor } from '../../../../src/config/types.js';
import { validateChain } from '../../../../src/dns/dnssec/chain.js';
import type { SignedAsk, SignedRecord, SignedReply } from '../../../../src/dns/dnssec/wire.js';
import { RRType } from '../../../../src/dns/message.js';

const resolver = { host: '192.0.2.53', port: 53 };
const key = (owner: string): SignedRecord => ({ name: owner, type: RRType.DNSKEY, class: 1, ttl: 60, rdata: Buffer.concat([Buffer.from([1, 1, 3, 13]), Buffer.alloc(64, 7)]) });
const ds: TrustAnchor = { owner: '', type: 'DS', rdata: Buffer.from('4f660802' + 'e0'.repeat(32), 'hex'), text: '. DS ...' };

/** A resolver that answers from a table of name/type -> answers, NOERROR and empty otherwise. */
function resolverWith(table: Record<string, SignedRecord[]>): SignedAsk {
  return async (_server, name, type): Promise<SignedReply> => ({ rcode: 0, aa: false, ad: false, answers: table[`${name} ${type}`] ?? [], authorities: [] });
}

describe('validateChain', () => {
  it('calls a zone without DNSKEY and DS not signed, without walking the chain', async () => {
    const asked: string[] = [];
    const ask: SignedAsk = async (server, name, type, opts) => {
      asked.push(`${name} ${type}`);
      return resolverWith({})(server, name, type, opts);
    };
    expect(await validateChain({ ask, resolvers: [resolver], anchors: [ds], now: Date.now }, 'example.org')).toEqual({
      status: 'insecure', zone: 'example.org', reason: 'no DNSKEY at the zone, no DS for it', hasDnskey: false,
    });
    expect(asked.sort()).toEqual(['example.org 43', 'example.org 48']);
  });

  it('gives up (no verdict) when the resolver strips the RRSIGs, instead of calling the zone bogus', async () => {
    // The root's DNSKEY set (name ""), but no RRSIG with it.
    const ask = resolverWith({ 'example.org 48': [key('example.org')], ' 48': [key('')] });
    expect(await validateChain({ ask, resolvers: [resolver], anchors: [ds], now: Date.now }, 'example.org')).toMatchObject({
      status: 'error',
      message: '192.0.2.53:53 gave the DNSKEY set of the root (the trust anchor) without its RRSIG: it does not pass DNSSEC records on',
    });
  });

  it('gives up when the resolver does not answer for the trust anchor (an authoritative-only server)', async () => {
    const refusing: SignedAsk = async (_s, name, type) => ({ rcode: name === '' ? 5 : 0, aa: true, ad: false, answers: name === 'example.org' && type === RRType.DNSKEY ? [key('example.org')] : [], authorities: [] });
    expect(await validateChain({ ask: refusing, resolvers: [resolver], anchors: [ds], now: Date.now }, 'example.org')).toMatchObject({
      status: 'error',
      message: '192.0.2.53:53 did not give the DNSKEY set of the root (the trust anchor; it answered REFUSED): the chain to example.org cannot be followed',
    });
  });

  it('calls a signed zone below no configured anchor not signed for validators', async () => {
    const ask = resolverWith({ 'example.org 48': [key('example.org')] });
    const other: TrustAnchor = { ...ds, owner: 'example.net' };
    expect(await validateChain({ ask, resolvers: [resolver], anchors: [other], now: Date.now }, 'example.org')).toEqual({
      status: 'insecure', zone: 'example.org', reason: 'the zone is not below any configured trust anchor', hasDnskey: true,
    });
  });

  it('reports the lookup failure of every resolver', async () => {
    const failing: SignedAsk = async () => {
      throw new Error('no reply from DNS server 192.0.2.53:53 over UDP');
    };
    expect(await validateChain({ ask: failing, resolvers: [resolver], anchors: [ds], now: Date.now }, 'example.org')).toMatchObject({
      status: 'error', message: 'no reply from DNS server 192.0.2.53:53 over UDP',
    });
  });
});
