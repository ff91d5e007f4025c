import { Command, CommanderError, Option } from 'commander';
import { DEFAULT_CONFIG_PATH } from '../config/defaults.js';
import { PROVIDERS } from '../dns/providers/registry.js';
import { GxitError } from '../errors.js';
import { providersHelp } from './providers-help.js';
import { EXIT_USAGE, exitCodeFor, formatError, formatVerbose } from './output.js';


export interface CommonOptions {
  config: string;
  json?: boolean;
  verbose?: boolean;
}

function program(): Command {
  const cli = new Command('gxit-cert')
    .description('Wildcard TLS certificates for Galaxy servers over ACME DNS-01 (RFC 2136/TSIG, Route53, Cloudflare, acme-dns or your own script)')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', providersHelp(PROVIDERS))
    .exitOverride();

  const withCommon = (command: Command): Command =>
    command
      .addOption(new Option('-c, --config <file>', 'configuration file (YAML)').default(DEFAULT_CONFIG_PATH))
      .option('--json', 'print one JSON document with the result on stdout')
      .option('-v, --verbose', 'show every step and, on errors, the stack trace');

  withCommon(cli.command('issue'))
    .description('issue each configured certificate that has no lineage yet or whose names changed')
    .option('--force', 'issue again even when the certificate is current')
    // certbot's one-shot flags, laid over the configuration (docs/migrate-from-certbot.md).
    .option('-d, --domain <name>', 'certbot-style: a name of the one certificate to issue (repeat, or a,b)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('-m, --email <address>', 'certbot-style: contact address for the CA')
    .option('--server <url>', 'certbot-style: ACME directory URL')
    .option('--staging', "certbot-style: Let's Encrypt's staging CA")
    .option('--cert-name <name>', 'certbot-style: lineage name (with -d), or the one configured certificate to issue')
    .option('--dns-rfc2136-credentials <file>', "certbot-style: certbot's dns-rfc2136 credentials file (server, key and secret)")
    .action(async (opts: CommonOptions & { force?: boolean; domain: string[]; email?: string; server?: string; staging?: boolean; certName?: string; dnsRfc2136Credentials?: string }, command: Command) => {
      const { runIssue } = await import('./issue-command.js');
      const certbot = {
        domains: opts.domain,
        ...(opts.email === undefined ? {} : { email: opts.email }),
        ...(opts.server === undefined ? {} : { server: opts.server }),
        ...(opts.staging === true ? { staging: true } : {}),
        ...(opts.certName === undefined ? {} : { certName: opts.certName }),
        ...(opts.dnsRfc2136Credentials === undefined ? {} : { dnsRfc2136Credentials: opts.dnsRfc2136Credentials }),
      };
      process.exitCode = await runIssue({ ...opts, certbot, configExplicit: command.getOptionValueSource('config') !== 'default' });
    });

  withCommon(cli.command('check-dns'))
    .description('check DNS, CAA, credentials and the ACME server before issuing: one line per check with the fix')
    .action(async (opts: CommonOptions) => {
      const { runCheckDns } = await import('./check-command.js');
      process.exitCode = await runCheckDns(opts);
    });

  withCommon(cli.command('renew'))
    .description('renew each certificate that is due (ACME renewal information, else a third of its lifetime left), with the hooks')
    .option('--force', 'renew every configured certificate, due or not')
    .option('--dry-run', 'order every certificate and discard it: live/ and the state stay unchanged')
    .option('--run-deploy-hooks', 'with --dry-run: run the deploy hooks too (against the unchanged live files)')
    .option('-q, --quiet', 'print nothing unless something fails (for cron)')
    .action(async (opts: CommonOptions & { force?: boolean; dryRun?: boolean; runDeployHooks?: boolean; quiet?: boolean }) => {
      const { runRenew } = await import('./renew-command.js');
      process.exitCode = await runRenew(opts);
    });

  withCommon(cli.command('status'))
    .description('show each certificate: serial, issuer, expiry, whether it is due and the last run; exit 1 when one is expired or failed')
    .option('--prometheus <file>', 'also write a node-exporter textfile (atomically)')
    .action(async (opts: CommonOptions & { prometheus?: string }) => {
      const { runStatus } = await import('./status-command.js');
      process.exitCode = await runStatus(opts);
    });

  withCommon(cli.command('sync'))
    .description('cluster: write every newer version from the cluster database into state_dir, then run the deploy hooks and the served check')
    .option('-q, --quiet', 'print nothing unless something fails (for cron)')
    .option('--dry-run', 'say which versions a sync would write; write nothing, run no hook')
    .action(async (opts: CommonOptions & { quiet?: boolean; dryRun?: boolean }) => {
      const { runSync } = await import('./sync-command.js');
      process.exitCode = await runSync(opts);
    });

  cli
    .command('watch')
    .description('cluster: keep running and sync each new version as soon as it is committed (for a systemd service); stops on SIGTERM')
    .addOption(new Option('-c, --config <file>', 'configuration file (YAML)').default(DEFAULT_CONFIG_PATH))
    .option('-v, --verbose', 'also log lineages that were already current')
    .addOption(new Option('--reconcile-interval <seconds>', 'seconds between full reconciles (default 600)').hideHelp())
    .action(async (opts: { config: string; verbose?: boolean; reconcileInterval?: string }) => {
      const { runWatch } = await import('./watch-command.js');
      process.exitCode = await runWatch(opts);
    });

  cli
    .command('schedule')
    .description('keep running and renew on a cron schedule (for a systemd service or a container); stops on SIGTERM')
    .addOption(new Option('-c, --config <file>', 'configuration file (YAML)').default(DEFAULT_CONFIG_PATH))
    .option('--cron <expression>', 'when to run renew (5 fields, or 6 with seconds); default: daily at a time derived from the host name')
    .option('--random-delay <seconds>', 'wait up to this long before each run (default: 3600 with the default schedule, 0 with --cron)')
    .option('-v, --verbose', 'pass --verbose to each renew run')
    .action(async (opts: { config: string; cron?: string; randomDelay?: string; verbose?: boolean }) => {
      const { runSchedule } = await import('./schedule-command.js');
      process.exitCode = await runSchedule(opts);
    });

  cli
    .command('install-timer')
    .description('install a daily renewal: a systemd service + timer, or an /etc/cron.d entry')
    .addOption(new Option('-c, --config <file>', 'configuration file (YAML)').default(DEFAULT_CONFIG_PATH))
    .option('--systemd', 'write gxit-cert-renew.service and .timer (default where systemd runs)')
    .option('--cron', 'write /etc/cron.d/gxit-cert (default elsewhere)')
    .option('--service', 'instead of a timer: gxit-cert-schedule.service, a systemd service running gxit-cert schedule')
    .option('--at <HH:MM>', 'daily time of the renewal check (default: derived from the host name, so a fleet spreads out)')
    .option('--print', 'print the files instead of writing them')
    .addOption(new Option('--root <dir>', 'prefix for every system path (packaging, tests)').hideHelp())
    .action(async (opts: { config: string; systemd?: boolean; cron?: boolean; service?: boolean; at?: string; print?: boolean; root?: string }) => {
      const { runInstallTimer } = await import('./schedule-command.js');
      process.exitCode = await runInstallTimer(opts);
    });

  cli
    .command('hooks-dir')
    .description('print the directory of the shipped hooks (reload-nginx, install-files, restart-gx-it-proxy)')
    .action(async () => {
      const { hooksDir } = await import('./installation.js');
      process.stdout.write(`${await hooksDir()}\n`);
    });

  withCommon(cli.command('revoke').argument('<name>', 'lineage name'))
    .description('revoke the live certificate of a lineage; the next renew replaces it (or --delete removes the lineage)')
    .option('--reason <reason>', 'unspecified (default), keyCompromise (signed with the certificate key), superseded, cessationOfOperation')
    .option('--delete', 'remove the lineage after revoking (a backup is kept under state_dir/deleted/)')
    .action(async (name: string, opts: CommonOptions & { reason?: string; delete?: boolean }) => {
      const { runRevoke } = await import('./revoke-command.js');
      process.exitCode = await runRevoke(name, opts);
    });

  withCommon(cli.command('account').argument('<action>', 'show, rollover or deactivate'))
    .description("show the ACME account (URL, contact, status, key thumbprint), roll its key over, or deactivate it")
    .option('--server <url>', 'the CA whose account (default: the configured server)')
    .option('--yes', 'confirm deactivate')
    .action(async (action: string, opts: CommonOptions & { server?: string; yes?: boolean }) => {
      const { runAccount } = await import('./account-command.js');
      process.exitCode = await runAccount(action, opts);
    });

  withCommon(cli.command('delete').argument('<name>', 'lineage name'))
    .description('remove a lineage that is no longer configured (live/, archive/, renewal/), keeping a 0600 backup in state_dir/deleted/')
    .option('--yes', 'confirm the removal')
    .option('--force', 'also remove a lineage that is still configured')
    .action(async (name: string, opts: CommonOptions & { yes?: boolean; force?: boolean }) => {
      const { runDelete } = await import('./delete-command.js');
      process.exitCode = await runDelete(name, opts);
    });

  cli
    .command('import-certbot')
    .description("take over certbot's lineages, account and hooks without a new order, and write a configuration")
    .option('--certbot-dir <dir>', "certbot's configuration directory", '/etc/letsencrypt')
    .requiredOption('--state-dir <dir>', "gxit-cert's state directory to import into (not certbot's)")
    .requiredOption('--write-config <file>', 'configuration file to write (must not exist)')
    .option('--lineage <name...>', 'import only these lineages (renewal/<name>.conf)')
    .option('--dry-run', 'show what would be imported; change nothing')
    .option('--disable-certbot', "set autorenew = False in the imported renewal/*.conf (a .bak kept) and list certbot's schedulers")
    .option('--yes', "with --disable-certbot: also disable certbot's timer and cron entries")
    .option('--ca-bundle <file>', "write ca_bundle: the extra CA for the ACME server's HTTPS (test CAs)")
    .option('--json', 'print one JSON document with the result')
    .option('-v, --verbose', 'also list the settings that needed no carrying over')
    .addOption(new Option('--root <dir>', 'prefix for system paths (tests)').hideHelp())
    .action(async (opts: import('./import-certbot-command.js').ImportCertbotOptions) => {
      const { runImportCertbot } = await import('./import-certbot-command.js');
      process.exitCode = await runImportCertbot(opts);
    });

  cli
    .command('init')
    .description('write a first configuration from galaxy.yml, the certbot role\'s group_vars or certbot\'s directory, then run check-dns on it')
    .option('--galaxy-config <file>', 'galaxy.yml: the host of galaxy_infrastructure_url and interactivetools_prefix')
    .option('--group-vars <file>', "the Galaxy certbot role's group_vars (certbot_domains, certbot_admin_email, certbot_dns_*)")
    .option('--certbot-dir <dir>', "certbot's directory: names, CA and rfc2136 credentials of its lineage")
    .option('--write <file>', 'configuration file to write (must not exist)', DEFAULT_CONFIG_PATH)
    .option('--host <name>', 'the Galaxy host name (instead of galaxy_infrastructure_url)')
    .option('--email <address>', 'contact address for the CA')
    .option('--server <url>', 'ACME directory URL (default: from the inputs, else letsencrypt)')
    .option('--state-dir <dir>', 'state directory (default /etc/gxit-cert)')
    .option('--ca-bundle <file>', "extra CA for the ACME server's HTTPS (test CAs)")
    .option('--resolver <address...>', 'DNS servers for lookups instead of the system resolver (dns.resolvers)')
    .option('--no-check', 'do not run check-dns after writing')
    .option('-v, --verbose', 'pass --verbose to check-dns')
    .action(async (opts: import('./init-command.js').InitOptions) => {
      const { runInit } = await import('./init-command.js');
      process.exitCode = await runInit(opts);
    });

  const acmeDns = cli.command('acme-dns').description('acme-dns helpers (dns.provider: acme-dns)');
  withCommon(acmeDns.command('register'))
    .description('register each configured name that has no acme-dns registration, write credentials_file and print the CNAME records to create')
    .action(async (opts: CommonOptions) => {
      const { runAcmeDnsRegister } = await import('./acme-dns-command.js');
      process.exitCode = await runAcmeDnsRegister(opts);
    });

  return cli;
}

async function main(argv: string[]): Promise<void> {
  const verbose = argv.includes('--verbose') || argv.includes('-v');
  try {
    await program().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors were already printed by commander.
      process.exitCode = error.exitCode === 0 ? 0 : EXIT_USAGE;
      return;
    }
    process.stderr.write(`${formatError(error)}\n`);
    if (verbose) process.stderr.write(`${formatVerbose(error)}\n`);
    process.exitCode = error instanceof GxitError ? exitCodeFor(error) : 1;
  }
}

await main(process.argv);

// An interrupted run ends now, with its exit code (130/143), once its output is flushed: a DNS query
// or a request the interrupt abandoned must not keep the process alive for its own timeout.
const { interruptedExitCode } = await import('./signals.js');
const interruptedCode = interruptedExitCode();
if (interruptedCode !== undefined) {
  // The command's own exit code stands (schedule ends with 0 after a SIGTERM); it is 130/143 for issue and renew.
  const code = typeof process.exitCode === 'number' ? process.exitCode : interruptedCode;
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}
