import { z } from 'zod';
import type { Runner } from '../../action.js';
import type { CommandContext } from '../../context.js';
import { parseFlags } from '../../flags.js';
import { openDirect, type Direct } from '../../direct.js';

const flagsSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535).optional(),
  host: z.string().min(1).optional(),
  databaseUrl: z.string().min(1).optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
});

/**
 * How often a running service lands what local-mode status lines spooled in its data directory. A
 * status line refreshes every few seconds at most, and the pace it prints does not wait for the
 * register, so a few seconds of delay cost nothing.
 */
export const SPOOL_DRAIN_INTERVAL_MS = 5_000;

type Running = Awaited<ReturnType<Direct['api']['startServer']>>;

/**
 * Drains the status-line spool of an embedded database now and then every
 * {@link SPOOL_DRAIN_INTERVAL_MS}, one drain at a time. Its problems are printed as they happen
 * (JSON lines with --json); a failed drain is retried on the next tick, never fatal.
 */
async function drainSpoolWhileServing(ctx: CommandContext, d: Direct, server: Running): Promise<void> {
  const dataDir = server.database.dataDir;
  if (dataDir === undefined) return;
  const { drainSpool, describeDrain } = await import('../../spool/drain.js');
  const { registerSink } = await import('../../spool/sink.js');
  const target = registerSink(d.api, server.database);
  const once = async (): Promise<void> => {
    try {
      const report = await drainSpool(dataDir, target.sink);
      if (ctx.json) {
        if (report.files > 0) ctx.print(JSON.stringify({ event: 'spool-drained', ...report }));
      } else {
        for (const line of describeDrain(report)) ctx.warn(line);
      }
    } catch (error) {
      ctx.warn(`statusline spool: not drained this time: ${(error as Error).message}`);
    }
  };
  await once();
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void once().finally(() => {
      running = false;
    });
  }, SPOOL_DRAIN_INTERVAL_MS);
  // The timer must not keep a closing server alive.
  timer.unref();
}

/** Starts the service and stays up until SIGTERM/SIGINT. */
export const run: Runner = async (ctx, raw) => {
  const f = parseFlags(flagsSchema, raw);
  const d = await openDirect(ctx, f.databaseUrl);
  const { api, env, where } = d;
  const tenant = ctx.globals.tenant ?? env.BUDGET_BOOTSTRAP_TENANT;
  const server = await where(() =>
    api.startServer({
      port: f.port ?? env.PORT,
      host: f.host ?? env.HOST,
      ...((f.databaseUrl ?? env.DATABASE_URL) ? { databaseUrl: f.databaseUrl ?? env.DATABASE_URL } : {}),
      ...((ctx.globals.dataDir ?? env.BUDGET_DATA_DIR)
        ? { dataDir: ctx.globals.dataDir ?? env.BUDGET_DATA_DIR }
        : {}),
      ...(env.BUDGET_BOOTSTRAP_TOKEN ? { bootstrapToken: env.BUDGET_BOOTSTRAP_TOKEN } : {}),
      bootstrapTenant: tenant,
      logLevel: f.logLevel ?? env.LOG_LEVEL,
      // With --json the same facts are printed below as one JSON object.
      print: (text) => {
        if (!ctx.json) ctx.print(text);
      },
    }),
  );
  if (ctx.json) {
    // One object per line, so a script can read the first line and go on reading events.
    ctx.print(
      JSON.stringify({
        event: 'listening',
        url: server.url,
        database: server.database.kind,
        dataDir: server.database.dataDir ?? null,
        pid: process.pid,
        tenant,
        // Shown once, on the start that created it; null when an admin token already existed.
        adminToken: server.adminToken ?? null,
      }),
    );
  }
  await drainSpoolWhileServing(ctx, d, server);
  // The server keeps the event loop alive; its signal handlers close it and exit.
};
