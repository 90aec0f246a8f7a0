import { hostname } from 'node:os';
import type { Command } from 'commander';
import { paletteFor, type Palette } from './output/color.js';
import type { Transport } from './transport/transport.js';

/** Flags every `mosaic budget` command accepts (declared on the `budget` group). */
export interface GlobalFlags {
  api?: string;
  token?: string;
  dataDir?: string;
  tenant?: string;
  json?: boolean;
}

/** What a command's run function receives: its flags, output helpers and a lazily opened transport. */
export interface CommandContext {
  globals: GlobalFlags;
  json: boolean;
  color: Palette;
  /** Writes a line to stdout. */
  print: (text: string) => void;
  /** Writes a value as JSON to stdout. */
  printJson: (value: unknown) => void;
  /** Writes a line to stderr (progress, warnings). */
  warn: (text: string) => void;
  /** Opens the transport once (remote or local, see resolve.ts) and closes it when the command ends. */
  transport: () => Promise<Transport>;
  /** The host this process runs on, for attribution. */
  host: string;
  env: NodeJS.ProcessEnv;
}

/** A command's context without its transport: flags and output, for a path that never opens one. */
export type OutputContext = Omit<CommandContext, 'transport'>;

/** Flags and output helpers from the global flags (no transport: see {@link makeContext}). */
export function outputContext(globals: GlobalFlags): OutputContext {
  return {
    globals,
    json: globals.json === true,
    color: paletteFor(process.stdout),
    print: (text) => {
      process.stdout.write(`${text}\n`);
    },
    printJson: (value) => {
      process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
    warn: (text) => {
      process.stderr.write(`${text}\n`);
    },
    host: process.env.MOSAIC_BUDGET_HOST ?? hostname(),
    env: process.env,
  };
}

/** Builds the context of one command invocation. */
export function makeContext(cmd: Command): { ctx: CommandContext; close: () => Promise<void> } {
  const globals = cmd.optsWithGlobals<GlobalFlags>();
  let opened: Promise<Transport> | undefined;
  const ctx: CommandContext = {
    ...outputContext(globals),
    transport: () => {
      opened ??= import('./transport/resolve.js').then((m) => m.openTransport(globals, process.env));
      return opened;
    },
  };
  return {
    ctx,
    close: async () => {
      if (opened) await (await opened.catch(() => undefined))?.close();
    },
  };
}
