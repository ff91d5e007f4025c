/** The validated configuration every command works from. Produced only by config/load.ts. */
import type { NotifyConfig } from './notify.js';
import type { ProviderSettings } from './provider-section.js';

export type KeyType = 'ecdsa-p256' | 'ecdsa-p384' | 'rsa-2048' | 'rsa-3072' | 'rsa-4096';
export const KEY_TYPES: readonly KeyType[] = ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'];

export type TsigAlgorithm =
  | 'hmac-md5.sig-alg.reg.int'
  | 'hmac-sha1'
  | 'hmac-sha224'
  | 'hmac-sha256'
  | 'hmac-sha384'
  | 'hmac-sha512';

export interface TsigKey {
  /** Key name as a fully qualified domain name without the trailing dot, lower case. */
  name: string;
  algorithm: TsigAlgorithm;
  /** The decoded secret. Never logged, never put into an error message. */
  secret: Buffer;
}

/** host:port of a DNS server; host is an IP address or a hostname. */
export interface ServerAddress {
  host: string;
  port: number;
}

/** A DNSSEC trust anchor (dns.trust_anchors): a DS or DNSKEY record, its RDATA in wire form. */
export interface TrustAnchor {
  /** Lower case, no trailing dot ("" is the root). */
  owner: string;
  type: 'DS' | 'DNSKEY';
  rdata: Buffer;
  /** As written, for messages. */
  text: string;
}

/** The provider-independent part of the dns section. */
export interface DnsCommon {
  /** Servers used for lookups instead of the system resolver (NS sets, addresses, CNAMEs). */
  resolvers?: ServerAddress[];
  /** Milliseconds to wait until every authoritative nameserver serves every challenge value (the file says seconds). */
  propagationTimeoutMs: number;
  /** Milliseconds between propagation polls (the file says seconds). */
  propagationIntervalMs: number;
  /** Skip the authoritative propagation check (private zones the machine cannot query). */
  propagationCheck: boolean;
  /** Port the authoritative nameservers answer on (53 everywhere but in labs). */
  nameserverPort: number;
  /** check-dns: where names under each wildcard must lead (default: the certificate's first non-wildcard name). */
  expectTarget?: string;
  /** check-dns: DNSSEC trust anchors that replace the root's (private roots, labs). */
  trustAnchors?: TrustAnchor[];
}

export interface DnsConfig extends DnsCommon {
  /** The registered provider's name (src/dns/providers/registry.ts). */
  provider: string;
  /** Its validated section, opaque here: made and read only by the provider's descriptor. */
  settings: ProviderSettings;
}

export type EabAlgorithm = 'HS256' | 'HS384' | 'HS512';
export const EAB_ALGORITHMS: readonly EabAlgorithm[] = ['HS256', 'HS384', 'HS512'];

/** External Account Binding credentials from the CA (RFC 8555 §7.3.4). */
export interface EabConfig {
  /** The key identifier the CA gave out; accounts are kept per CA and per kid. */
  kid: string;
  algorithm: EabAlgorithm;
  /** The decoded HMAC key. Never logged, never put into an error message. */
  hmacKey: Buffer;
}

export interface CertificateConfig {
  /** Lineage name: directory under live/ and archive/. */
  name: string;
  /** Domains in the order given; the first is the certificate's common name. */
  domains: string[];
  keyType: KeyType;
  /** Per-certificate CA settings; absent: the top-level ones (see config/ca.ts). */
  server?: string;
  email?: string;
  eab?: EabConfig;
  caBundle?: string;
  /** Issuer common name of the chain's topmost certificate to prefer among the CA's chains (own, else top-level). */
  preferredChain?: string;
  /** Renewals keep the live private key (reuse_key: own, else top-level); a change of key type makes a new one. */
  reuseKey?: boolean;
  /** ACME profile asked for in newOrder (own, else top-level); part of the lineage. */
  profile?: string;
}

/** A hook: a string run by `/bin/sh -c`, or an argv list run without a shell. */
export type HookCommand = { shell: string } | { argv: string[] };

export interface HooksConfig {
  /** Before the first order of a run. */
  pre: HookCommand[];
  /** After each new certificate is live. */
  deploy: HookCommand[];
  /** After a run that placed orders, with the outcome in the environment. */
  post: HookCommand[];
  /** After each failed issuance or renewal. */
  onFailure: HookCommand[];
  /** Per hook, milliseconds; then the hook's process group is killed. */
  timeoutMs: number;
}

/** What every configuration has, a renewer's or a follower's. */
export interface ConfigBase {
  /** Where the configuration came from (for messages). */
  source: string;
  email?: string;
  /** ACME directory URL. */
  server: string;
  /** PEM file with extra CAs trusted for the ACME server's HTTPS. */
  caBundle?: string;
  /** The longest Retry-After of the CA waited for, ms (acme_retry_max_wait; absent: 60 s). */
  acmeRetryMaxWaitMs?: number;
  /** External Account Binding for registering the account (absent: none). */
  eab?: EabConfig;
  stateDir: string;
  keyType: KeyType;
  certificates: CertificateConfig[];
  /** Commands run around orders (absent: none). */
  hooks?: HooksConfig;
  /** Renew when fewer days than this remain (absent: a third of the lifetime; ARI decides where the CA offers it). */
  renewBeforeDays?: number;
  /** TLS servers that must serve a new certificate after the deploy hooks (absent: no check). */
  verifyServed?: ServerAddress[];
  /** check-dns: the CA's CAA issuer domain names, when its ACME directory does not announce them. */
  caaIdentities?: string[];
  /** Notifications about failures, renewals and expiring certificates (absent: none). */
  notify?: NotifyConfig;
  /** The PostgreSQL cluster store (absent: this machine keeps its certificates alone). */
  cluster?: ClusterConfig;
  /** Warnings found while loading (deprecated or ignored keys); printed by the CLI. */
  warnings: string[];
}

/**
 * A machine that places orders: one without `cluster:` (its own renewer), or a cluster node with
 * `renewer: true`. Its DNS provider is configured and its secrets are read.
 */
export interface RenewerConfig extends ConfigBase {
  dns: DnsConfig;
  cluster?: RenewerCluster;
}

/**
 * A cluster node with `renewer: false`: it never orders, it only follows the versions the renewers
 * commit, so it has no DNS settings. A `dns:` section in its file is checked (keys, types) and then
 * dropped; none of its secrets (TSIG key, AWS credentials, API tokens) is read.
 */
export interface FollowerConfig extends ConfigBase {
  dns?: undefined;
  cluster: FollowerCluster;
}

/** The validated configuration: `config.dns === undefined` tells a follower from a renewer. */
export type Config = RenewerConfig | FollowerConfig;

/** The `cluster:` section; secrets are file paths, read when the database is opened. */
export interface ClusterConfig {
  /** libpq URI without a password. */
  database: string;
  passwordFile?: string;
  /** This node's name in the cluster (default: the host name). */
  node: string;
  /** False: never order, only follow the versions others commit. */
  renewer: boolean;
  /** 32 bytes (base64 or hex) that encrypt the private keys stored in the database. */
  keyFile: string;
}

export interface RenewerCluster extends ClusterConfig {
  renewer: true;
}

export interface FollowerCluster extends ClusterConfig {
  renewer: false;
}

export const LETSENCRYPT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';
export const LETSENCRYPT_STAGING_DIRECTORY = 'https://acme-staging-v02.api.letsencrypt.org/directory';
