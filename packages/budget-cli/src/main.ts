import { Command, CommanderError } from 'commander';
import { Settings } from 'luxon';
import { registerBudgetCommand } from './budget-command.js';
import { CliError, EXIT } from './errors.js';

/** Prints an error the way the user asked (--json or words) and returns its exit status. */
export function reportError(error: unknown, json: boolean): number {
  if (error instanceof CommanderError) {
    // commander has already printed its message; a bad flag or command is a usage error.
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (error instanceof CliError) {
    if (json) {
      process.stdout.write(
        `${JSON.stringify({ error: { code: error.code, message: error.message, hint: error.hint, details: error.details } }, null, 2)}\n`,
      );
    } else {
      process.stderr.write(`error: ${error.message}\n`);
      if (error.hint) process.stderr.write(`hint: ${error.hint}\n`);
    }
    return error.exitStatus;
  }
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ error: { code: typeof code === 'string' ? code : 'BUDGET_ERR_INTERNAL', message } }, null, 2)}\n`,
    );
  } else {
    process.stderr.write(`error: ${message}\n`);
  }
  return EXIT.failure;
}

/**
 * Runs `mosaic` with the given argv and returns the exit status: the one top-level catch that maps
 * every known error class to its status (docs/cli.md lists them).
 */
export async function main(argv: string[]): Promise<number> {
  // The CLI speaks English and writes its dates (weekday and month names in `when` and `explain`) the
  // same way whatever the system's locale, as the status line does. It also spares every command
  // luxon's first question to Intl for the system's locale, which loads ICU: ~25 ms of a remote
  // `gate` (docs/decisions.md).
  Settings.defaultLocale = 'en-US';
  const program = new Command('mosaic')
    .description('Mosaic Fleet command line')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  registerBudgetCommand(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    return reportError(error, argv.includes('--json'));
  }
}
