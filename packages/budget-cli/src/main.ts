import { Command, CommanderError } from 'commander';
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
