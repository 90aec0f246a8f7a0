import type { Command } from 'commander';
import { makeContext, type CommandContext } from './context.js';

/** A command's body: its context, its own flags and positional arguments; returns an exit status. */
export type Runner = (
  ctx: CommandContext,
  flags: Record<string, unknown>,
  args: string[],
) => Promise<number | void>;

/**
 * Wraps a lazily imported runner as a commander action. Loading the runner (and through it zod, the
 * core and perhaps the service) only when the command runs keeps `--help` and the status line fast.
 */
export function lazyAction(load: () => Promise<Runner>): (...all: unknown[]) => Promise<void> {
  return async (...all: unknown[]) => {
    const cmd = all[all.length - 1] as Command;
    const { ctx, close } = makeContext(cmd);
    try {
      const run = await load();
      const status = await run(ctx, cmd.opts(), cmd.args);
      if (typeof status === 'number' && status !== 0) process.exitCode = status;
    } finally {
      await close();
    }
  };
}
