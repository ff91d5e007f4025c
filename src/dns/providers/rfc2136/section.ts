/**
 * The dns.rfc2136 section: validation (with the config combinators) and secret resolution. The TSIG
 * secret comes from exactly one of `secret:` (inline), `secret_file:`, `secret_env:` or, when the file
 * names a key but no secret, the environment variable GXIT_CERT_TSIG_SECRET. No secret value ever
 * appears in a problem or warning.
 */
import { MAX_TTL, quote, reportSecondSources, secretSources, type Checker, type Place, type SecretKeys, type SecretRef } from '../../../config/combinators.js';
import { checkDuration } from '../../../config/durations.js';
import type { SecretContext } from '../../../config/provider-section.js';
import { get, locate, type MapNode, type ScalarNode, type TreeNode } from '../../../config/tree.js';
import type { ServerAddress, TsigAlgorithm } from '../../../config/types.js';
import {
  TSIG_ALGORITHM_SPELLINGS,
  decodeBase64Secret,
  normalizeKeyName,
  normalizeZone,
  parseServerAddress,
  parseTsigAlgorithm,
} from '../../../config/values.js';
import { parseKeyFile, type KeyFileEntry } from './key-file.js';
import type { Rfc2136Config } from './settings.js';

/** Environment variable holding the TSIG secret when the file names a key but no secret. */
export const TSIG_SECRET_ENV = 'GXIT_CERT_TSIG_SECRET';

export const RFC2136_KEYS = ['server', 'port', 'name', 'secret', 'secret_file', 'secret_env', 'algorithm', 'zone', 'tcp', 'ttl', 'timeout', 'retries'] as const;

export const RFC2136_DEFAULTS = {
  port: 53,
  algorithm: 'hmac-sha512',
  tcp: false,
  ttl: 60,
  timeout: 2,
  retries: 3,
} as const;

export interface TsigDraft {
  /** Undefined only with a secret file, which may name the key itself (a BIND key file). */
  name?: string;
  nameAt: Place;
  algorithm: TsigAlgorithm;
  /** Written in the file (not the default): a key file's algorithm must then agree with it. */
  algorithmExplicit: boolean;
  algorithmAt: Place;
  secret: SecretRef;
}

export interface Rfc2136Draft extends Omit<Rfc2136Config, 'tsig'> {
  tsig?: TsigDraft;
  /** The section (for messages about keys that are not there). */
  at: Place;
}

export function validateRfc2136(check: Checker, node: TreeNode): Rfc2136Draft | undefined {
  const sectionFix = 'write rfc2136: as a mapping with server:, and name:, secret_file:, algorithm: for TSIG';
  const map = check.map(node, RFC2136_KEYS, sectionFix);
  if (map === undefined) return undefined;

  const port = check.number(map, 'port', { min: 1, max: 65535, integer: true, what: 'the port of the DNS server' });
  const serverFix = 'write the IP address or host name of the primary DNS server, or a list of them, e.g. server: [ns1.example.org, 192.0.2.53]';
  const servers = validateServers(check, map, port, serverFix);

  const tsig = validateTsig(check, map);
  const zoneText = check.string(map, 'zone', 'write the zone name, e.g. zone: example.org');
  let zone: string | undefined;
  if (zoneText !== undefined) {
    const parsed = normalizeZone(zoneText.value);
    if (parsed.ok) zone = parsed.value;
    else check.report(zoneText.node, `${quote(zoneText.value)} ${parsed.reason}`, 'write the zone name, e.g. zone: example.org');
  }
  const tcp = check.bool(map, 'tcp');
  const ttl = check.number(map, 'ttl', { min: 0, max: MAX_TTL, integer: true, what: 'seconds' });
  const timeout = checkDuration(check, map, 'timeout', 'dns.rfc2136.timeout');
  const retries = check.number(map, 'retries', { min: 1, max: 100, integer: true, what: 'attempts per message' });

  if (servers === undefined || tsig === null || tcp === undefined || ttl === undefined || timeout === undefined || retries === undefined) {
    return undefined;
  }
  return {
    servers,
    ...(tsig === undefined ? {} : { tsig }),
    ...(zone === undefined ? {} : { zone }),
    tcp,
    ttl: ttl.value,
    timeoutMs: timeout.ms,
    retries: retries.value,
    at: check.place(map),
  };
}

/** `server:` as one address or a list, each an IP address or a host name, with an optional :port. */
function validateServers(
  check: Checker,
  map: MapNode,
  port: { value: number; node: ScalarNode } | undefined,
  fix: string,
): ServerAddress[] | undefined {
  const node = get(map, 'server');
  if (node === undefined) return check.missing(map, 'server', fix);
  const items = node.kind === 'seq' ? check.list(node, fix)?.items : [node];
  if (items === undefined || port === undefined) return undefined;
  const servers: ServerAddress[] = [];
  let failed = false;
  for (const item of items) {
    const text = check.scalarString(item, fix);
    if (text === undefined || text.trim() === '') {
      if (text !== undefined) check.report(item, 'is empty', fix);
      failed = true;
      continue;
    }
    const parsed = parseServerAddress(text, port.value, false);
    if (!parsed.ok) {
      check.report(item, `${quote(text)} ${parsed.reason}`, fix);
      failed = true;
    } else if (parsed.value.portGiven && !port.node.defaulted && parsed.value.port !== port.value) {
      check.report(item, `names port ${parsed.value.port} but port: says ${port.value}`, 'write the port in one place only');
      failed = true;
    } else {
      servers.push({ host: parsed.value.host, port: parsed.value.port });
    }
  }
  return failed ? undefined : servers;
}

/** The TSIG key (undefined: unsigned updates; null: a problem was reported). */
function validateTsig(check: Checker, map: MapNode): TsigDraft | undefined | null {
  const nameFix = 'write the TSIG key name as in the server\'s key statement, e.g. name: certbot-training.';
  const secretFix = `write the base64 secret of the TSIG key (better: keep it in a file and use secret_file:, or set ${TSIG_SECRET_ENV})`;
  const algorithmFix = `write one of ${TSIG_ALGORITHM_SPELLINGS} (any case, trailing dot optional)`;
  let failed = false;

  let name: string | undefined;
  const nameText = check.string(map, 'name', nameFix);
  if (nameText !== undefined) {
    const parsed = normalizeKeyName(nameText.value);
    if (parsed.ok) name = parsed.value;
    else {
      check.report(nameText.node, `${quote(nameText.value)} ${parsed.reason}`, nameFix);
      failed = true;
    }
  } else if (get(map, 'name') !== undefined) {
    failed = true;
  }

  let algorithm: TsigAlgorithm | undefined;
  const algorithmNode = get(map, 'algorithm');
  const algorithmText = check.string(map, 'algorithm', algorithmFix);
  if (algorithmText !== undefined) {
    algorithm = parseTsigAlgorithm(algorithmText.value);
    if (algorithm === undefined) {
      check.report(algorithmText.node, `${quote(algorithmText.value)} is not a TSIG algorithm`, algorithmFix);
      failed = true;
    }
  } else if (algorithmNode !== undefined) {
    failed = true;
  }

  const secretKeys: SecretKeys = {
    inline: 'secret',
    file: 'secret_file',
    env: 'secret_env',
    inlineFix: secretFix,
    fileFix: 'write the path of a file holding the secret (or a BIND key file)',
    envFix: 'write the name of an environment variable, e.g. secret_env: TSIG_SECRET',
    envNameFix: 'write a name of letters, digits and "_", e.g. secret_env: TSIG_SECRET',
    checkInline: (text) =>
      decodeBase64Secret(text) === undefined
        ? { message: 'is not a base64 TSIG secret', fix: 'write the secret exactly as in the server\'s key statement (base64, e.g. from tsig-keygen)' }
        : { value: text },
  };
  const { sources, failed: secretFailed } = secretSources(check, map, secretKeys);
  if (secretFailed) failed = true;
  if (reportSecondSources(check, sources, 'the TSIG secret', secretKeys)) return null;
  if (failed || algorithm === undefined) return null;
  const secret = sources[0];
  const nameAt = check.place(locate(map, 'name'));
  const algorithmAt = check.place(locate(map, 'algorithm'));
  const algorithmExplicit = !(algorithmNode?.kind === 'scalar' && algorithmNode.defaulted === true);

  if (name === undefined && secret === undefined) return undefined;
  if (name === undefined && secret !== undefined && secret.kind !== 'file') {
    check.report(secret.at, 'is a TSIG secret without a key name', `add ${nameAt.path}: with the key name from the server's key statement (e.g. certbot-training.)`);
    return null;
  }
  return {
    ...(name === undefined ? {} : { name }),
    nameAt,
    algorithm,
    algorithmExplicit,
    algorithmAt,
    secret: secret ?? { kind: 'env', variable: TSIG_SECRET_ENV, at: nameAt, implicit: true },
  };
}

export function resolveRfc2136(draft: Rfc2136Draft, context: SecretContext): Rfc2136Config | undefined {
  const { at, tsig, ...rest } = draft;
  const envSecret = context.env[TSIG_SECRET_ENV];
  if (tsig === undefined) {
    if (envSecret !== undefined && envSecret !== '') {
      return context.report(
        { ...at, path: `${at.path}.name` },
        'CONFIG_INVALID',
        `${TSIG_SECRET_ENV} is set but no TSIG key name is configured`,
        `add name: with the TSIG key name under ${at.path}, or unset ${TSIG_SECRET_ENV} for unsigned updates`,
      );
    }
    return rest;
  }
  const ref = tsig.secret;
  if (ref.kind !== 'env' || !ref.implicit) {
    if (envSecret !== undefined && envSecret !== '') context.warn(ref.at, `takes precedence: ${TSIG_SECRET_ENV} is set but not used`);
  }

  let name = tsig.name;
  let algorithm: TsigAlgorithm = tsig.algorithm;
  let secretText: string | undefined;

  if (ref.kind === 'inline') {
    secretText = ref.value;
  } else if (ref.kind === 'env') {
    const value = context.env[ref.variable];
    if (value === undefined || value.trim() === '') {
      return ref.implicit
        ? context.report(
            ref.at,
            'SECRET_UNAVAILABLE',
            `the TSIG key ${JSON.stringify(name)} has no secret: none is written and ${TSIG_SECRET_ENV} is not set`,
            `add secret_file: with the path of the key file (or secret_env:), or set ${TSIG_SECRET_ENV}`,
          )
        : context.report(ref.at, 'SECRET_UNAVAILABLE', `environment variable ${ref.variable} is not set`, `export ${ref.variable} with the base64 TSIG secret, or use secret_file:`);
    }
    secretText = value;
  } else {
    const file = context.readFile(ref);
    if (file === undefined) return undefined;
    const parsed = parseKeyFile(file);
    if ('error' in parsed) return context.report(ref.at, 'CONFIG_INVALID', `${ref.file} ${parsed.error}`, 'write the base64 secret alone, or a BIND key statement from tsig-keygen');
    const chosen = chooseKey(parsed.keys, name, ref, context);
    if (chosen === undefined) return undefined;
    if (chosen.name !== undefined) {
      const fileName = normalizeKeyName(chosen.name);
      if (!fileName.ok) return context.report(ref.at, 'CONFIG_INVALID', `the key name in ${ref.file} ${fileName.reason}`, 'correct the key name in the key file');
      if (name === undefined) name = fileName.value;
      else if (fileName.value !== name) {
        return context.report(tsig.nameAt, 'CONFIG_INVALID', `is ${JSON.stringify(name)} but ${ref.file} holds the key ${JSON.stringify(fileName.value)}`, `write name: ${fileName.value}, or point secret_file at the key file for ${name}`);
      }
    }
    if (chosen.algorithm !== undefined) {
      const fileAlgorithm = parseTsigAlgorithm(chosen.algorithm);
      if (fileAlgorithm === undefined) {
        return context.report(ref.at, 'CONFIG_INVALID', `${ref.file} names the unknown TSIG algorithm ${JSON.stringify(chosen.algorithm)}`, `use one of ${TSIG_ALGORITHM_SPELLINGS}`);
      }
      if (!tsig.algorithmExplicit) algorithm = fileAlgorithm;
      else if (fileAlgorithm !== algorithm) {
        return context.report(tsig.algorithmAt, 'CONFIG_INVALID', `is ${algorithm} but ${ref.file} says ${fileAlgorithm}`, `write algorithm: ${fileAlgorithm} (or remove it to use the key file's)`);
      }
    }
    if (chosen.secret === undefined) return context.report(ref.at, 'CONFIG_INVALID', `${ref.file} has no secret for the key`, 'add the secret to the key file');
    secretText = chosen.secret;
  }

  if (name === undefined) {
    return context.report(tsig.nameAt, 'CONFIG_INVALID', 'is missing: the TSIG secret needs its key name', `add name: with the key name from the server's key statement (e.g. certbot-training.)`);
  }
  const secret = decodeBase64Secret(secretText);
  if (secret === undefined) {
    const from = ref.kind === 'file' ? `the secret in ${ref.file}` : ref.kind === 'env' ? `environment variable ${ref.variable}` : 'the secret';
    return context.report(ref.at, 'CONFIG_INVALID', `${from} is not base64`, 'use the base64 secret exactly as in the server\'s key statement (e.g. from tsig-keygen)');
  }
  return { ...rest, tsig: { name, algorithm, secret } };
}

function chooseKey(keys: KeyFileEntry[], name: string | undefined, ref: SecretRef & { kind: 'file' }, context: SecretContext): KeyFileEntry | undefined {
  if (keys.length === 0) return context.report(ref.at, 'CONFIG_INVALID', `${ref.file} holds no key statement`, 'write a key "name" { algorithm ...; secret "..."; }; statement, or the base64 secret alone');
  if (keys.length === 1) return keys[0];
  const names = keys.map((key) => (key.name === undefined ? undefined : normalizeKeyName(key.name))).map((parsed) => (parsed?.ok ? parsed.value : undefined));
  if (name === undefined) {
    return context.report(ref.at, 'CONFIG_INVALID', `${ref.file} holds ${keys.length} keys (${names.filter(Boolean).join(', ')})`, 'add name: to choose one of them');
  }
  const index = names.indexOf(name);
  if (index < 0) return context.report(ref.at, 'CONFIG_INVALID', `${ref.file} has no key named ${JSON.stringify(name)} (it has ${names.filter(Boolean).join(', ')})`, 'correct name:, or point secret_file at the right key file');
  return keys[index];
}
