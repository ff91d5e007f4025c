/**
 * What acme-client loses: the RFC 8555 problem document of an error response (it keeps only the
 * detail text) and the transport error behind a failed request (after its retries it throws
 * `TypeError ... reading 'config'` instead). Interceptors on its axios instance record both into the
 * slot of the call in progress (AsyncLocalStorage, so concurrent calls never see each other's), and
 * attach the call's AbortSignal to every request, so an interrupt stops a request in flight.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { AxiosAdapter, AxiosInstance, AxiosResponse, InternalAxiosRequestConfig } from 'axios';
import type { ErrorCode, GxitError } from '../errors.js';
import { acmeError, isUntrustedCertificate, parseProblem, type AcmeProblem, type TransportFailure } from './errors.js';

export interface CallSlot {
  signal?: AbortSignal;
  problem?: AcmeProblem;
  transport?: TransportFailure;
}

const calls = new AsyncLocalStorage<CallSlot>();

export interface CallContext {
  code: ErrorCode;
  /** "the CA refused the order for x" */
  what: string;
  subject: string;
  signal?: AbortSignal;
}

/**
 * Run acme-client calls with their own slot. A failure becomes an AcmeError carrying the problem
 * document or the transport error the interceptors recorded.
 */
export async function callAcme<T>(context: CallContext, work: () => Promise<T>): Promise<T> {
  const slot: CallSlot = context.signal === undefined ? {} : { signal: context.signal };
  try {
    return await calls.run(slot, work);
  } catch (error) {
    throw failureOf(context, error, slot);
  }
}

function failureOf(context: CallContext, error: unknown, slot: CallSlot): GxitError {
  return acmeError(context.code, context.what, error, context.subject, {
    ...(slot.problem === undefined ? {} : { problem: slot.problem }),
    ...(slot.transport === undefined ? {} : { transport: slot.transport }),
    aborted: context.signal?.aborted === true,
  });
}

/** The slot of the call in progress (for code running inside `captured`). */
export function currentSlot(): CallSlot | undefined {
  return calls.getStore();
}

/** acme-client's axios instance (axios is its dependency; ours only for the types and the adapter). */
export type CapturableAxios = Pick<AxiosInstance, 'defaults' | 'interceptors'>;
const installed = new WeakSet<object>();

/**
 * Install the capture on acme-client's axios instance once. `httpAdapter` is axios's own Node
 * adapter (axios.getAdapter('http')); wrapping it is the only place a transport error is still the
 * original one.
 */
export function installCapture(axios: CapturableAxios, httpAdapter: AxiosAdapter): void {
  if (installed.has(axios)) return;
  installed.add(axios);
  axios.interceptors.request.use((config: InternalAxiosRequestConfig) => {
    const slot = calls.getStore();
    if (slot?.signal !== undefined) config.signal = slot.signal;
    return config;
  });
  axios.interceptors.response.use((response: AxiosResponse) => {
    const slot = calls.getStore();
    if (slot !== undefined && response.status >= 400) {
      const problem = parseProblem(response.status, response.data, response.headers['retry-after']);
      if (problem !== undefined) slot.problem = problem;
    } else if (slot !== undefined) {
      // A later request of the call succeeded (acme-client retried a badNonce or a dropped connection):
      // that failure is not why the call failed, if it fails (an invalid authorization, say).
      delete slot.problem;
      delete slot.transport;
    }
    return response;
  });
  axios.defaults.adapter = async (config: InternalAxiosRequestConfig): Promise<AxiosResponse> => {
    try {
      return await httpAdapter(config);
    } catch (error) {
      const slot = calls.getStore();
      const failure = transportOf(error, slot?.signal);
      if (slot !== undefined) slot.transport = failure;
      // acme-client retries anything without a response, except ECONNABORTED. An interrupt or an
      // untrusted certificate does not get better by retrying: say ECONNABORTED so it stops at once.
      if (failure.aborted || isUntrustedCertificate(failure.code)) throw Object.assign(new Error(failure.message), { code: 'ECONNABORTED' });
      throw error;
    }
  };
}

function transportOf(error: unknown, signal: AbortSignal | undefined): TransportFailure {
  const code = codeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  return { code: code ?? 'UNKNOWN', message, aborted: signal?.aborted === true, cause: error };
}

/** The errno-like code of a transport error, looking through axios's wrapper to the socket's error. */
function codeOf(error: unknown): string | undefined {
  let current: unknown = error;
  let found: string | undefined;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = 'code' in current ? current.code : undefined;
    // axios's own codes (ERR_BAD_REQUEST, ECONNABORTED for its timeout) are kept unless a cause is more precise.
    if (typeof code === 'string') found = found === undefined || found.startsWith('ERR_') ? code : found;
    current = 'cause' in current ? current.cause : undefined;
  }
  return found;
}
