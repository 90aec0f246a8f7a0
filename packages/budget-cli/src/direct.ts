import type * as BudgetApi from '@mosaic/budget-api';
import type { CommandContext } from './context.js';
import { CliError, EXIT } from './errors.js';
import { lockedOrRethrow } from './transport/local.js';
import { loadService } from './service.js';

type Api = typeof BudgetApi;

/** The service package, its parsed environment, and a wrapper that turns a locked data dir into a clear error. */
export interface Direct {
  api: Api;
  env: ReturnType<Api['readEnv']>;
  where: <T>(fn: () => Promise<T>) => Promise<T>;
}

/**
 * For commands that work on the database itself (serve, migrate, token): loads the service package
 * and its environment. MOSAIC_BUDGET_DATA_DIR counts as BUDGET_DATA_DIR so both spellings work.
 */
export async function openDirect(ctx: CommandContext, _databaseUrl?: string): Promise<Direct> {
  const api = await loadService();
  let env: ReturnType<Api['readEnv']>;
  try {
    env = api.readEnv({
      ...ctx.env,
      BUDGET_DATA_DIR: ctx.env.BUDGET_DATA_DIR ?? ctx.env.MOSAIC_BUDGET_DATA_DIR,
    });
  } catch (error) {
    throw new CliError('BUDGET_ERR_USAGE', `the environment is invalid: ${(error as Error).message}`, {
      exit: EXIT.usage,
    });
  }
  return {
    api,
    env,
    async where<T>(fn: () => Promise<T>): Promise<T> {
      try {
        return await fn();
      } catch (error) {
        throw lockedOrRethrow(error);
      }
    },
  };
}

/** Opens the register database named by --database-url / DATABASE_URL, else the embedded one. */
export async function openDatabaseFor(
  ctx: CommandContext,
  d: Direct,
  databaseUrl?: string,
): Promise<Awaited<ReturnType<Api['openDatabase']>>> {
  const url = databaseUrl ?? d.env.DATABASE_URL;
  const dataDir = ctx.globals.dataDir ?? d.env.BUDGET_DATA_DIR;
  return d.where(() =>
    d.api.openDatabase({ ...(url ? { databaseUrl: url } : {}), ...(dataDir ? { dataDir } : {}) }),
  );
}
