import { z } from 'zod';
import type { Runner } from '../../action.js';
import { parseFlags } from '../../flags.js';
import { openDirect } from '../../direct.js';

const flagsSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535).optional(),
  host: z.string().min(1).optional(),
  databaseUrl: z.string().min(1).optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
});

/** Starts the service and stays up until SIGTERM/SIGINT. */
export const run: Runner = async (ctx, raw) => {
  const f = parseFlags(flagsSchema, raw);
  const { api, env, where } = await openDirect(ctx, f.databaseUrl);
  await where(() =>
    api.startServer({
      port: f.port ?? env.PORT,
      host: f.host ?? env.HOST,
      ...((f.databaseUrl ?? env.DATABASE_URL) ? { databaseUrl: f.databaseUrl ?? env.DATABASE_URL } : {}),
      ...((ctx.globals.dataDir ?? env.BUDGET_DATA_DIR)
        ? { dataDir: ctx.globals.dataDir ?? env.BUDGET_DATA_DIR }
        : {}),
      ...(env.BUDGET_BOOTSTRAP_TOKEN ? { bootstrapToken: env.BUDGET_BOOTSTRAP_TOKEN } : {}),
      bootstrapTenant: ctx.globals.tenant ?? env.BUDGET_BOOTSTRAP_TENANT,
      logLevel: f.logLevel ?? env.LOG_LEVEL,
      print: (line) => ctx.print(line),
    }),
  );
  // The server keeps the event loop alive; its signal handlers close it and exit.
};
