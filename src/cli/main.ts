import { Command, CommanderError, Option } from 'commander';
import { GxitError } from '../errors.js';
import { EXIT_USAGE, exitCodeFor, formatError, formatVerbose } from './output.js';

const DEFAULT_CONFIG = '/etc/gxit-cert/config.yml';

export interface CommonOptions {
  config: string;
  json?: boolean;
  verbose?: boolean;
}

function program(): Command {
  const cli = new Command('gxit-cert')
    .description('Wildcard TLS certificates for Galaxy servers over ACME DNS-01 (RFC 2136/TSIG or Route53)')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  const withCommon = (command: Command): Command =>
    command
      .addOption(new Option('-c, --config <file>', 'configuration file (YAML)').default(DEFAULT_CONFIG))
      .option('--json', 'print one JSON document with the result on stdout')
      .option('-v, --verbose', 'show every step and, on errors, the stack trace');

  withCommon(cli.command('issue'))
    .description('issue each configured certificate that has no lineage yet or whose names changed')
    .option('--force', 'issue again even when the certificate is current')
    .action(async (opts: CommonOptions & { force?: boolean }) => {
      const { runIssue } = await import('./issue-command.js');
      process.exitCode = await runIssue(opts);
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
