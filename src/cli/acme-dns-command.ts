/**
 * `gxit-cert acme-dns register`: registers every configured name (without "*.") that has no entry in
 * dns.acme_dns.credentials_file yet, writes the file (0600, atomically, lego's format) and prints
 * the CNAME record each name needs. Names already registered are kept and listed again.
 */
import { dirname } from 'node:path';
import { acmeDns } from '../dns/providers/acme-dns/descriptor.js';
import { GxitError } from '../errors.js';
import { ensureDir, nodeFs, writeFileAtomic } from '../store/fs.js';
import { loadCommandConfig, requireRenewer } from './command-context.js';
import type { CommonOptions } from './main.js';
import { EXIT_OK, reportCommandError } from './output.js';

export async function runAcmeDnsRegister(opts: CommonOptions): Promise<number> {
  const warnings: string[] = [];
  const out = process.stdout;
  const err = process.stderr;
  try {
    // The renewers use the registrations; a follower loads no DNS provider.
    const config = requireRenewer(await loadCommandConfig(opts.config, opts, warnings), 'acme-dns register');
    const settings = acmeDns.open(config.dns.settings);
    if (settings === undefined) {
      throw new GxitError('USAGE', `dns.provider is ${config.dns.provider}: acme-dns register needs dns.provider: acme-dns`, {
        subject: 'dns.provider',
        fix: 'set dns.provider: acme-dns with an acme_dns: section (api:, credentials_file:)',
      });
    }
    const [{ readCredentialsFile }, { domainKey, serializeCredentials, unregistered }, { register }] = await Promise.all([
      import('../dns/providers/acme-dns/credentials-file.js'),
      import('../dns/providers/acme-dns/credentials.js'),
      import('../dns/providers/acme-dns/client.js'),
    ]);
    const file = settings.credentialsFile;
    const credentials = readCredentialsFile(file, { missingOk: true });
    const domains = [...new Set(config.certificates.flatMap((c) => c.domains).map(domainKey))];
    const missing = unregistered(domains, credentials);
    const registered: string[] = [];
    let failure: unknown;
    // One after the other: a failure stops further registrations, and those made so far are kept.
    for (const domain of missing) {
      try {
        credentials.set(domain, await register(settings.api, { timeoutMs: settings.timeoutMs, ...(settings.allowFrom ? { allowFrom: settings.allowFrom } : {}) }));
        registered.push(domain);
      } catch (error) {
        failure = error;
        break;
      }
    }
    if (registered.length > 0) {
      await ensureDir(nodeFs, dirname(file));
      await writeFileAtomic(nodeFs, file, serializeCredentials(credentials), { mode: 0o600 });
    }
    if (failure !== undefined) throw failure;
    const records = domains.map((domain) => {
      const account = credentials.get(domain);
      return { domain, name: `_acme-challenge.${domain}`, cname: account?.fulldomain ?? '', registered: registered.includes(domain) };
    });
    if (opts.json) {
      out.write(`${JSON.stringify({ ok: true, credentialsFile: file, records, warnings }, null, 2)}\n`);
    } else {
      out.write(registered.length === 0 ? `every configured name is registered in ${file}\n` : `registered ${registered.join(', ')} in ${file}\n`);
      out.write('create these CNAME records (once; they stay for every renewal):\n');
      for (const r of records) out.write(`${r.name}. CNAME ${r.cname}.\n`);
    }
    return EXIT_OK;
  } catch (error) {
    return reportCommandError(error, opts, warnings, { out, err });
  }
}
