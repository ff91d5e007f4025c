import { expect } from 'vitest';
import { GxitError } from '../../../src/errors.js';
import { parseMessage } from '../../../src/dns/message.js';

/** The GxitError a promise rejects with; fails the test when it resolves or throws something else. */
export async function rejection(promise: Promise<unknown>): Promise<GxitError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(GxitError);
    return error as GxitError;
  }
  throw new Error('expected a rejection');
}

/** Rewrites the (last) TSIG record with an empty MAC, as BIND sends BADSIG and BADKEY. */
export function emptyMac(signed: Buffer): Buffer {
  const tsig = parseMessage(signed).tsig!;
  const macEnd = signed.length - 6;
  const macStart = macEnd - tsig.mac.length;
  const out = Buffer.concat([signed.subarray(0, macStart), signed.subarray(macEnd)]);
  out.writeUInt16BE(0, macStart - 2);
  const rdlenAt = tsig.offset + tsig.keyName.length + 2 + 8;
  out.writeUInt16BE(out.readUInt16BE(rdlenAt) - tsig.mac.length, rdlenAt);
  return out;
}
