/** The validated dns.exec section (made by ./descriptor.ts). */

/** A program: a string run by `/bin/sh -c`, or an argv list run without a shell. */
export type ExecCommand = { shell: string } | { argv: string[] };

/** lego style (`command`) or certbot style (`auth_hook` / `cleanup_hook`); timeoutMs per call. */
export type ExecSettings =
  | { style: 'lego'; command: ExecCommand; timeoutMs: number; parallel: boolean }
  | { style: 'certbot'; authHook: ExecCommand; cleanupHook?: ExecCommand; timeoutMs: number; parallel: boolean };
