/**
 * `gxit-cert account show|rollover|deactivate [--server URL]`: the ACME account of the configured CA
 * (or --server; the top-level eab applies to the top-level server only).
 * - show: account URL, contact, status, and the key's JWK thumbprint (RFC 7638).
 * - rollover: a new account key via keyChange (RFC 8555 §7.3.5); the old key stays as a 0600 backup
 *   until the CA confirmed, and the account keeps its URL (and so its orders and authorizations).
 * - deactivate (--yes): the CA refuses the account from then on; the local files stay for the record.
 */
import { createHash } from 'node:crypto';
import type { CaSettings } from '../config/ca.js';
import { parseAcmeServer } from '../config/values.js';
import { GxitError } from '../errors.js';
import { GLOBAL_SCOPE } from '../store/contract.js';
import { loadCommandConfig, withStoreLock } from './command-context.js';
import type { CommonOptions } from './main.js';
import { EXIT_OK, reportCommandError } from './output.js';

export type AccountAction = 'show' | 'rollover' | 'deactivate';
export interface AccountOptions extends CommonOptions {
  server?: string;
  yes?: boolean;
}

/** RFC 7638 thumbprint of a public JWK (EC or RSA), base64url SHA-256. */
export function jwkThumbprint(jwk: { kty: string; crv?: string; x?: string; y?: string; e?: string; n?: string }): string {
  const members: [string, string | undefined][] = jwk.kty === 'EC' ? [['crv', jwk.crv], ['kty', jwk.kty], ['x', jwk.x], ['y', jwk.y]] : [['e', jwk.e], ['kty', jwk.kty], ['n', jwk.n]];
  const canonical = `{${members.map(([m, value]) => `${JSON.stringify(m)}:${JSON.stringify(value)}`).join(',')}}`;
  return createHash('sha256').update(canonical).digest('base64url');
}

export async function runAccount(action: string, opts: AccountOptions): Promise<number> {
  const warnings: string[] = [];
  const out = process.stdout;
  const err = process.stderr;
  try {
    if (action !== 'show' && action !== 'rollover' && action !== 'deactivate') {
      throw new GxitError('USAGE', `account ${JSON.stringify(action)} is not an account action`, { subject: 'account', fix: 'write gxit-cert account show, rollover or deactivate' });
    }
    if (action === 'deactivate' && !opts.yes) {
      throw new GxitError('USAGE', 'account deactivate: the CA refuses a deactivated account for good', { subject: 'account', fix: 'run gxit-cert account deactivate --yes to confirm' });
    }
    const config = await loadCommandConfig(opts.config, opts, warnings);
    let ca: CaSettings = { server: config.server, ...(config.email === undefined ? {} : { email: config.email }), ...(config.eab === undefined ? {} : { eab: config.eab }) };
    if (opts.server !== undefined) {
      const parsed = parseAcmeServer(opts.server);
      if (!parsed.ok) throw new GxitError('USAGE', `--server ${JSON.stringify(opts.server)} ${parsed.reason}`, { subject: '--server', fix: 'write letsencrypt, letsencrypt-staging or a directory URL' });
      const own = config.certificates.find((c) => c.server === parsed.value);
      if (parsed.value !== config.server) ca = { server: parsed.value, ...(ca.email === undefined ? {} : { email: ca.email }), ...(own?.eab === undefined ? {} : { eab: own.eab }) };
    }
    return await withStoreLock(config, GLOBAL_SCOPE, async ({ store, lock, signal }) => {
      const kid = ca.eab?.kid;
      const stored = await store.readAccount(ca.server, kid);
      if (stored?.meta === undefined) {
        throw new GxitError('USAGE', `no account for ${ca.server} is stored in ${store.accountLocation(ca.server, kid)}`, { subject: ca.server, fix: 'run gxit-cert issue to register one' });
      }
      const { loadAcme, openCaAccount } = await import('./acme-context.js');
      const acme = await loadAcme(config);
      const client = await openCaAccount(acme, store, ca, { fence: lock.lost, signal });
      const { callAcme } = await import('../acme/capture.js');
      const call = <T>(what: string, work: () => Promise<T>): Promise<T> => callAcme({ code: 'ACME_ACCOUNT', what, subject: ca.server, signal }, work);
      let keyPem = stored.keyPem;
      if (action === 'rollover') {
        const next = (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
        await store.stageAccountKey(ca.server, next, { fence: lock.lost, ...(kid === undefined ? {} : { eabKid: kid }) });
        await call(`could not roll over the account key at ${ca.server}`, () => client.updateAccountKey(next));
        // The CA switched keys: this must be recorded even if the lock was lost meanwhile.
        await store.promoteAccountKey(ca.server, kid === undefined ? {} : { eabKid: kid });
        keyPem = next;
      }
      if (action === 'deactivate') await call(`could not deactivate the account at ${ca.server}`, () => client.updateAccount({ status: 'deactivated' }));
      const account = action === 'deactivate' ? { status: 'deactivated' } : await call(`could not read the account at ${ca.server}`, () => client.updateAccount({}));
      const thumbprint = jwkThumbprint(acme.crypto.getJwk(keyPem));
      const contact = 'contact' in account && Array.isArray(account.contact) ? account.contact.map(String) : [];
      const status = typeof account.status === 'string' ? account.status : 'unknown';
      const data = { ok: true, action, server: ca.server, url: client.getAccountUrl(), status, contact, thumbprint, ...(kid === undefined ? {} : { eabKid: kid }), location: store.accountLocation(ca.server, kid), warnings };
      if (opts.json) out.write(`${JSON.stringify(data, null, 2)}\n`);
      else {
        if (action === 'rollover') err.write(`account key rolled over at ${ca.server}\n`);
        if (action === 'deactivate') err.write(`account deactivated at ${ca.server}; remove ${data.location} to register a new one with the next issue\n`);
        out.write(`server      ${data.server}\nurl         ${data.url}\nstatus      ${status}\ncontact     ${contact.join(', ') || '(none)'}\nthumbprint  ${thumbprint}\n${kid === undefined ? '' : `eab kid     ${kid}\n`}location    ${data.location}\n`);
      }
      return EXIT_OK;
    });
  } catch (error) {
    return reportCommandError(error, opts, warnings, { out, err });
  }
}
