/**
 * The CA settings one certificate is ordered with: its own server, email, eab and ca_bundle where
 * written, the top-level ones otherwise. A certificate's server does not inherit the top-level eab
 * (EAB credentials belong to one CA); its email and ca_bundle are inherited.
 */
import type { CertificateConfig, Config, EabConfig, RenewerConfig } from './types.js';

export interface CaSettings {
  server: string;
  email?: string;
  eab?: EabConfig;
  caBundle?: string;
}

export function caOf(config: Pick<Config, 'server' | 'email' | 'eab' | 'caBundle'>, certificate: CertificateConfig): CaSettings {
  const ownServer = certificate.server !== undefined && certificate.server !== config.server;
  const server = certificate.server ?? config.server;
  const email = certificate.email ?? config.email;
  const eab = certificate.eab ?? (ownServer ? undefined : config.eab);
  const caBundle = certificate.caBundle ?? config.caBundle;
  return {
    server,
    ...(email === undefined ? {} : { email }),
    ...(eab === undefined ? {} : { eab }),
    ...(caBundle === undefined ? {} : { caBundle }),
  };
}

/** One key per account: the CA and the EAB kid (ordering sessions are shared by this key). */
export function accountKeyOf(ca: CaSettings): string {
  return ca.eab === undefined ? ca.server : `${ca.server}\n${ca.eab.kid}`;
}

/** Every ca_bundle the configuration names (the ACME HTTP client trusts all of them, besides the system's). */
export function caBundlesOf(config: Pick<Config, 'caBundle' | 'certificates'>): string[] {
  return [...new Set([config.caBundle, ...config.certificates.map((c) => c.caBundle)].filter((p): p is string => p !== undefined))];
}

/** The configuration with the CA settings of one certificate in place of the top-level ones (for its order). */
export function withCa(config: RenewerConfig, ca: CaSettings): RenewerConfig {
  const { email: _email, eab: _eab, caBundle: _caBundle, ...rest } = config;
  return { ...rest, ...ca };
}
