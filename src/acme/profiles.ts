/**
 * ACME profiles (draft-aaron-acme-profiles): the directory's meta.profiles names the profiles a CA
 * offers (name -> description); newOrder carries `profile`. Asking for one the CA does not offer is
 * refused here, naming the offered ones, instead of a CA's generic malformed error.
 */
import { GxitError } from '../errors.js';

/** The profile names in a directory document; [] when it offers none. */
export function offeredProfiles(directory: unknown): string[] {
  if (typeof directory !== 'object' || directory === null) return [];
  const meta: unknown = Reflect.get(directory, 'meta');
  if (typeof meta !== 'object' || meta === null) return [];
  const profiles: unknown = Reflect.get(meta, 'profiles');
  if (typeof profiles !== 'object' || profiles === null || Array.isArray(profiles)) return [];
  return Object.keys(profiles).sort();
}

export function checkProfile(profile: string, offered: readonly string[], server: string, subject: string): void {
  if (offered.includes(profile)) return;
  throw new GxitError('CONFIG_INVALID', `profile: the CA at ${server} does not offer the profile ${JSON.stringify(profile)} (${offered.length === 0 ? 'it offers no profiles' : `it offers ${offered.join(', ')}`})`, {
    subject,
    fix: offered.length === 0 ? 'remove profile: for this CA' : `set profile: to one of ${offered.join(', ')}`,
  });
}
