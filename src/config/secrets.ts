/**
 * Step 5 of the configuration pipeline: secret references -> secrets. The generic parts live here
 * (reading a secret file safely, the context a provider's section resolves its secrets with); each
 * provider's descriptor knows its own secrets (src/dns/providers/<name>/section.ts).
 *
 * File access and the environment are passed in. No secret value ever appears in a problem or warning.
 * A follower's draft has no DNS part: none of the DNS provider's secrets is read for it.
 */
import { isFileReadError, readBoundedFileSync } from '../files/read.js';
import type { Place, SecretRef } from './combinators.js';
import type { ConfigProblem } from './problems.js';
import { formatProblem } from './problems.js';
import { resolveEab } from './eab.js';
import type { SecretContext } from './provider-section.js';
import type { CertificateConfig, Config, DnsConfig } from './types.js';
import type { ConfigDraft, DnsDraft } from './validate.js';

export interface SecretFile {
  data: Buffer | string;
  /** st_mode (permission bits at least), when known. */
  mode?: number;
}

/** Reads a secret file; throws errors with a Node `code` (ENOENT, EACCES, ...) like node:fs. */
export type SecretFileReader = (path: string) => SecretFile;

export interface SecretSources {
  env: NodeJS.ProcessEnv;
  readSecretFile: SecretFileReader;
}

/** Largest secret file read (a key file is a few hundred bytes; this keeps /dev/zero and logs out). */
export const MAX_SECRET_FILE_BYTES = 64 * 1024;

/** Reads a regular file of at most MAX_SECRET_FILE_BYTES, returning its content and mode (files/read.ts). */
export function readSecretFileSync(path: string): SecretFile {
  const file = readBoundedFileSync(path, { kind: 'secret', maxBytes: MAX_SECRET_FILE_BYTES });
  return { data: file.data, mode: file.mode };
}

// ---------------------------------------------------------------------------------------- resolve

export interface SecretsResult {
  config?: Config;
  problems: ConfigProblem[];
  warnings: string[];
}

/** Reads every secret the draft refers to and returns the final Config (its warnings included). */
export function resolveSecrets(draft: ConfigDraft, sources: SecretSources): SecretsResult {
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  const report = (at: Place, code: ConfigProblem['code'], message: string, fix: string): undefined => {
    problems.push({ code, source: at.source, line: at.line, path: at.path, message, fix });
    return undefined;
  };
  const warn = (at: Place, message: string): void => {
    warnings.push(formatProblem({ code: 'CONFIG_INVALID', ...at, message }));
  };
  const context: SecretContext = {
    env: sources.env,
    readFile: (ref) => readFileRef(ref, sources, report, warn),
    report,
    warn,
  };

  const eab = draft.eab === undefined ? undefined : resolveEab(draft.eab, context);
  const certificates = draft.certificates.map(({ eab: certificateEab, ...certificate }): CertificateConfig => {
    const resolved = certificateEab === undefined ? undefined : resolveEab(certificateEab, context);
    return { ...certificate, ...(resolved === undefined ? {} : { eab: resolved }) };
  });
  // A follower's draft has no dns: nothing of DNS is read for it.
  const dns = draft.dns === undefined ? undefined : resolveDns(draft.dns, context);
  if (problems.length > 0) return { problems, warnings };
  const resolved = { certificates, ...(eab === undefined ? {} : { eab }), warnings: [...draft.warnings, ...warnings] };
  if (draft.dns === undefined) {
    const { eab: _eab, certificates: _certificates, dns: _dns, ...rest } = draft;
    return { config: { ...rest, ...resolved }, problems, warnings };
  }
  // An unresolved section has reported its problem; this keeps a missed one from ending without a message.
  if (dns === undefined) return { problems: [unresolved(draft.source)], warnings };
  const { eab: _eab, certificates: _certificates, dns: _dns, ...rest } = draft;
  return { config: { ...rest, ...resolved, dns }, problems, warnings };
}

function unresolved(source: string): ConfigProblem {
  return { code: 'SECRET_UNAVAILABLE', source, line: 0, path: 'dns', message: 'the DNS provider settings are incomplete', fix: 'see the configuration reference' };
}

/** The provider's section with its secrets read; undefined after reporting. */
function resolveDns(draft: DnsDraft, context: SecretContext): DnsConfig | undefined {
  const { section, ...common } = draft;
  const settings = section.resolve(context);
  return settings === undefined ? undefined : { ...common, settings };
}

/** Reads a secret file as text; warns when every user may read it. */
function readFileRef(
  ref: SecretRef & { kind: 'file' },
  sources: SecretSources,
  report: SecretContext['report'],
  warn: SecretContext['warn'],
): string | undefined {
  let file: SecretFile;
  try {
    file = sources.readSecretFile(ref.file);
  } catch (error) {
    const code = isFileReadError(error) ? error.errno : (error as NodeJS.ErrnoException | undefined)?.code;
    if (isFileReadError(error) && (error.problem === 'not-regular' || error.problem === 'too-large' || error.problem === 'symlink')) {
      return report(ref.at, 'SECRET_UNAVAILABLE', `${ref.file} ${error.reason}`, error.fix ?? 'point it at a regular file holding the secret');
    }
    const reason =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EACCES' || code === 'EPERM'
          ? 'cannot be read (permission denied)'
          : code === 'EISDIR' || code === 'ENOTFILE'
            ? 'is not a regular file'
            : code === 'ETOOBIG'
              ? `is larger than ${MAX_SECRET_FILE_BYTES} bytes, too large for a key file`
              : `cannot be read (${code ?? 'error'})`;
    const fix =
      code === 'EACCES' || code === 'EPERM'
        ? 'run gxit-cert as a user that may read it (root), or give that user read access'
        : 'correct the path, or create the file with the secret (mode 0600)';
    return report(ref.at, 'SECRET_UNAVAILABLE', `${ref.file} ${reason}`, fix);
  }
  if (file.mode !== undefined && (file.mode & 0o004) !== 0) {
    warn(ref.at, `${ref.file} is readable by every user (mode ${(file.mode & 0o777).toString(8).padStart(4, '0')}); run chmod 600 ${ref.file}`);
  }
  const text = typeof file.data === 'string' ? file.data : file.data.toString('utf8');
  if (text.trim() === '') return report(ref.at, 'SECRET_UNAVAILABLE', `${ref.file} is empty`, 'write the secret into the file');
  return text;
}
