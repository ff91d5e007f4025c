/**
 * `gxit-cert revoke NAME [--reason R] [--delete]`: revokes the live certificate of a lineage at the
 * CA that issued it (with the account key, or the certificate's own key for keyCompromise), records
 * the revocation in the lineage state (status: REVOKED, exit 1; the next renew of a configured
 * lineage orders a new certificate), or with --delete removes the lineage afterwards.
 */
import { X509Certificate } from 'node:crypto';
import { caOf } from '../config/ca.js';
import { GxitError } from '../errors.js';
import { GLOBAL_SCOPE, REVOCATION_REASONS, type RevocationReason } from '../store/contract.js';
import { loadCommandConfig, withStoreLock } from './command-context.js';
import type { CommonOptions } from './main.js';
import { EXIT_OK, reportCommandError } from './output.js';

export interface RevokeOptions extends CommonOptions {
  reason?: string;
  delete?: boolean;
}

export const REVOKE_REASONS = Object.keys(REVOCATION_REASONS) as RevocationReason[];

function parseReason(text: string | undefined): RevocationReason {
  if (text === undefined) return 'unspecified';
  const reason = REVOKE_REASONS.find((r) => r.toLowerCase() === text.toLowerCase());
  if (reason === undefined) {
    throw new GxitError('USAGE', `--reason ${JSON.stringify(text)} is not a revocation reason`, { subject: '--reason', fix: `write one of ${REVOKE_REASONS.join(', ')}` });
  }
  return reason;
}

export async function runRevoke(name: string, opts: RevokeOptions): Promise<number> {
  const warnings: string[] = [];
  const out = process.stdout;
  const err = process.stderr;
  try {
    const reason = parseReason(opts.reason);
    const config = await loadCommandConfig(opts.config, opts, warnings);
    return await withStoreLock(config, GLOBAL_SCOPE, async ({ store, lock, signal }) => {
      const lineage = await store.readLineage(name);
      const live = lineage === undefined ? undefined : await store.readLive(name);
      if (lineage === undefined || live === undefined) {
        throw new GxitError('USAGE', `no live certificate for lineage ${JSON.stringify(name)} in ${config.stateDir}`, { subject: name, fix: 'run gxit-cert status to see the lineages' });
      }
      const cert = new X509Certificate(live.certPem);
      const already = lineage.state.revoked !== undefined && lineage.state.revoked.version === lineage.liveVersion;
      const configured = config.certificates.find((c) => c.name === name);
      // The CA that issued it; a certificate's own eab only when it still names that CA.
      const ca = caOf(config, { ...(configured ?? { name, domains: lineage.state.domains, keyType: lineage.state.keyType }), server: lineage.state.server });
      if (!already) {
        const acme = await (await import('./acme-context.js')).loadAcme(config);
        const revoke = await import('../acme/revoke.js');
        const common = { reasonCode: REVOCATION_REASONS[reason], subject: name, directoryUrl: ca.server, signal };
        try {
          if (reason === 'keyCompromise') await revoke.revokeWithCertificateKey(acme, live.privkeyPem, live.certPem, common);
          else {
            const { openCaAccount } = await import('./acme-context.js');
            const client = await openCaAccount(acme, store, ca, { fence: lock.lost, signal });
            await revoke.revokeWithAccount(client, live.certPem, common);
          }
        } catch (error) {
          const { problemKindOf } = await import('../acme/errors.js');
          if (problemKindOf(error) !== 'alreadyRevoked') throw error;
        }
        await store.writeLineageState(
          { ...lineage.state, revoked: { at: new Date().toISOString(), serial: cert.serialNumber, reason, version: lineage.liveVersion ?? lineage.state.version } },
          { fence: lock.lost },
        );
      }
      const removed = opts.delete ? await store.removeLineage(name, { fence: lock.lost }) : undefined;
      const data = { ok: true, name, serial: cert.serialNumber, reason, server: ca.server, alreadyRevoked: already, ...(removed === undefined ? {} : { deleted: removed.backup }), warnings };
      if (opts.json) out.write(`${JSON.stringify(data, null, 2)}\n`);
      else {
        err.write(`${name}: ${already ? 'already revoked' : `revoked serial ${cert.serialNumber} (${reason})`} at ${ca.server}\n`);
        if (removed !== undefined) err.write(`${name}: lineage removed; backup ${removed.backup}\n`);
        else if (configured !== undefined) err.write(`${name}: still configured: the next renew${config.dns === undefined ? ' on a renewer node' : ''} orders a new certificate\n`);
      }
      return EXIT_OK;
    });
  } catch (error) {
    return reportCommandError(error, opts, warnings, { out, err });
  }
}
