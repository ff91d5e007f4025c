/**
 * exec: a site's own script writes the TXT records (lego's exec contract or certbot's manual hooks).
 * The implementation loads only in load().
 */
import { defineProvider } from '../descriptor.js';
import type { ExecSettings } from './settings.js';
import { EXEC_DEFAULTS, EXEC_KEYS, EXEC_MISSING_FIX, validateExec } from './section.js';

export const exec = defineProvider<ExecSettings, ExecSettings>({
  name: 'exec',
  summary: 'a script of your own: lego style (command present or cleanup FQDN. VALUE) or certbot style (auth_hook and cleanup_hook)',
  keys: EXEC_KEYS,
  defaults: EXEC_DEFAULTS,
  missingFix: EXEC_MISSING_FIX,
  validate: (check, section) => (section === undefined ? undefined : validateExec(check, section)),
  // No secrets: the script brings its own.
  resolve: (draft) => draft,
  async load(settings) {
    const { createExecProvider } = await import('./provider.js');
    return createExecProvider(settings);
  },
});
