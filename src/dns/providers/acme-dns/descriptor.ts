/**
 * acme-dns: the challenge names are CNAMEs to an acme-dns server's names, updated over its HTTP API.
 * The credentials file is read when the provider is loaded; the implementation loads only then.
 */
import { defineProvider } from '../descriptor.js';
import { ACME_DNS_DEFAULTS, ACME_DNS_KEYS, ACME_DNS_MISSING_FIX, validateAcmeDns } from './section.js';
import type { AcmeDnsSettings } from './settings.js';

export const acmeDns = defineProvider<AcmeDnsSettings, AcmeDnsSettings>({
  name: 'acme-dns',
  // A YAML key as the issue and lego's docs write it; `acme-dns:` was read before and still is.
  section: 'acme_dns',
  deprecatedSections: ['acme-dns'],
  summary: 'an acme-dns server (HTTP API) that each challenge name is delegated to by CNAME',
  keys: ACME_DNS_KEYS,
  defaults: ACME_DNS_DEFAULTS,
  missingFix: ACME_DNS_MISSING_FIX,
  validate: (check, section) => (section === undefined ? undefined : validateAcmeDns(check, section)),
  // The API keys are in the credentials file, read by the provider (the register command writes it).
  resolve: (draft) => draft,
  async load(settings) {
    const [{ createAcmeDnsProvider }, { readCredentialsFile }] = await Promise.all([import('./provider.js'), import('./credentials-file.js')]);
    return createAcmeDnsProvider(settings, readCredentialsFile(settings.credentialsFile));
  },
  async checks(settings, input) {
    const { cnameChecks } = await import('./check.js');
    return cnameChecks(settings, input);
  },
});
