/** Reading the acme-dns credentials file: it holds API keys, so it must not be readable by others. */
import { readFileSync, statSync } from 'node:fs';
import { GxitError, messageOf } from '../../../errors.js';
import { parseCredentials, type AcmeDnsCredentials } from './credentials.js';

/** The registrations in `path`; a missing file is none (the register command creates it). */
export function readCredentialsFile(path: string, opts: { missingOk?: boolean } = {}): AcmeDnsCredentials {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      if (opts.missingOk) return new Map();
      throw new GxitError('CONFIG_INVALID', `dns.acme_dns.credentials_file: ${path} does not exist`, {
        subject: 'dns.acme_dns.credentials_file',
        fix: 'run gxit-cert acme-dns register to register the configured names (or copy the file lego or certbot wrote)',
      });
    }
    throw unreadable(path, error);
  }
  if ((mode & 0o077) !== 0) {
    throw new GxitError('SECRET_UNAVAILABLE', `dns.acme_dns.credentials_file: ${path} is readable by others (mode ${(mode & 0o777).toString(8)}): it holds acme-dns API keys`, {
      subject: 'dns.acme_dns.credentials_file',
      fix: `chmod 600 ${path}`,
    });
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw unreadable(path, error);
  }
  return parseCredentials(text, path);
}

function unreadable(path: string, error: unknown): GxitError {
  return new GxitError('SECRET_UNAVAILABLE', `dns.acme_dns.credentials_file: cannot read ${path}: ${messageOf(error)}`, {
    subject: 'dns.acme_dns.credentials_file',
    fix: 'check the path and that gxit-cert runs as the file\'s owner',
    cause: error,
  });
}
