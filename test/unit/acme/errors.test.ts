import { describe, expect, it } from 'vitest';
import { AcmeError, acmeError, classifyAcmeProblem, classifyTransport, parseProblem, retryAfterSeconds } from '../../../src/acme/errors.js';

const P = 'urn:ietf:params:acme:error:';

describe('classifyAcmeProblem', () => {
  it.each([
    ['accountDoesNotExist', 'accountDoesNotExist'],
    ['alreadyReplaced', 'alreadyReplaced'],
    ['rateLimited', 'rateLimited'],
    ['badNonce', 'badNonce'],
    ['unauthorized', 'unauthorized'],
    ['somethingNew', 'other'],
  ])('%s -> %s', (name, kind) => {
    expect(classifyAcmeProblem({ type: `${P}${name}` })).toBe(kind);
  });

  it('looks at the type only, never at the detail text', () => {
    expect(classifyAcmeProblem({ type: 'about:blank' })).toBe('other');
    const problem = parseProblem(400, { type: `${P}malformed`, detail: 'accountDoesNotExist rateLimited' }, undefined);
    expect(problem && classifyAcmeProblem(problem)).toBe('malformed');
  });
});

describe('parseProblem', () => {
  it('keeps type, status, detail, subproblems and Retry-After', () => {
    const problem = parseProblem(
      429,
      {
        type: `${P}rateLimited`,
        detail: 'too many certificates',
        subproblems: [{ type: `${P}rejectedIdentifier`, detail: 'no', identifier: { type: 'dns', value: 'x.test' } }, 'junk'],
      },
      '120',
    );
    expect(problem).toEqual({
      type: `${P}rateLimited`,
      status: 429,
      detail: 'too many certificates',
      subproblems: [{ type: `${P}rejectedIdentifier`, detail: 'no', identifier: { type: 'dns', value: 'x.test' } }],
      retryAfterSeconds: 120,
    });
  });

  it('is undefined for a body that is no problem document', () => {
    expect(parseProblem(500, 'Internal error', undefined)).toBeUndefined();
    expect(parseProblem(404, { status: 'x' }, undefined)).toBeUndefined();
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-12-03T10:00:00Z');
    expect(retryAfterSeconds('30', now)).toBe(30);
    expect(retryAfterSeconds('Thu, 03 Dec 2026 10:01:00 GMT', now)).toBe(60);
    expect(retryAfterSeconds('soon', now)).toBeUndefined();
  });
});

describe('acmeError', () => {
  it('an untrusted server certificate says so and names ca_bundle', () => {
    const cause = Object.assign(new Error('unable to verify the first certificate'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    const error = acmeError('ACME_ACCOUNT', 'could not register an account at https://ca.test/dir', new TypeError("Cannot read properties of undefined (reading 'config')"), 'https://ca.test/dir', {
      transport: { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', message: cause.message, aborted: false, cause },
    });
    expect(error.message).toBe("could not register an account at https://ca.test/dir: the ACME server's certificate is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE)");
    expect(error.fix).toMatch(/set ca_bundle/);
    // The original error, not acme-client's TypeError, is the cause.
    expect(error.cause).toBe(cause);
  });

  it.each([
    ['ECONNREFUSED', 'refused', /refused \(ECONNREFUSED\)/],
    ['ENOTFOUND', 'not-found', /does not resolve \(ENOTFOUND\)/],
    ['ECONNABORTED', 'timeout', /did not answer in time/],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'untrusted-certificate', /not trusted/],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'untrusted-certificate', /not trusted/],
  ])('%s is a %s failure', (code, kind, text) => {
    const transport = { code, message: 'x', aborted: false };
    expect(classifyTransport(transport)).toBe(kind);
    expect(acmeError('ACME_ORDER', 'order', new Error('x'), 's', { transport }).message).toMatch(text);
  });

  it('a problem document gives the detail, the subproblems and a fix by type; the fields stay on the error', () => {
    const problem = {
      type: `${P}rateLimited`,
      status: 429,
      detail: 'too many new orders',
      retryAfterSeconds: 60,
      subproblems: [{ type: `${P}rateLimited`, detail: 'this name', identifier: { type: 'dns', value: 'a.test' } }],
    };
    const error = acmeError('ACME_ORDER', 'the CA refused the order for a.test', new Error('too many new orders'), 'a.test', { problem });
    expect(error).toBeInstanceOf(AcmeError);
    expect(error.message).toBe('the CA refused the order for a.test: too many new orders (a.test: this name)');
    expect(error.fix).toMatch(/retry in 60 s/);
    expect(error instanceof AcmeError && error.problemKind).toBe('rateLimited');
    expect(error instanceof AcmeError && error.problem).toEqual(problem);
  });

  it('an aborted call is INTERRUPTED', () => {
    expect(acmeError('ACME_ORDER', 'order', new Error('canceled'), 's', { aborted: true }).code).toBe('INTERRUPTED');
  });
});
