import { setFlagsFromString } from 'node:v8';
import type * as BudgetApi from '@mosaic/budget-api';
import { CliError, EXIT } from '../errors.js';
import { loadService } from '../service.js';
import type { ServiceApp } from '../spool/sink.js';
import type { ApiResponse, Transport } from './transport.js';

/** What local mode needs to know: where the embedded database lives and whose rows it acts on. */
export interface LocalOptions {
  dataDir: string | undefined;
  tenant: string;
}

// A local-mode command lives for seconds and writes little, yet PGlite's default 128 MB of shared
// buffers fills as the ledger's pages are touched and zeroing them costs boot time: with 16 MB an
// import peaks ~150 MB lower and boots ~0.7 s sooner. `serve`, which opens the database itself,
// keeps the default.
const SHORT_LIVED_SETTINGS = { shared_buffers: '16MB' };

/**
 * Runs the service's own app in this process on the embedded database and calls its routes through
 * `app.inject()`: the same validation, rules and storage as the server, without a port. The service
 * package is imported lazily so that remote commands never pay for loading it.
 */
export async function localTransport(options: LocalOptions): Promise<Transport> {
  // PGlite is 9 MB of WebAssembly. V8 compiles it with its baseline compiler, then recompiles hot
  // functions with its optimising one on background threads: for a command that lives seconds that
  // second compile costs more CPU than it saves (a first import of 100 MB: 8.6 s of CPU -> 6.5 s)
  // and lifts the peak RSS by ~40 MB. The flag only steers WebAssembly compilation and is set before
  // PGlite's module is compiled; `serve`, which lives long enough to profit, never comes here.
  setFlagsFromString('--liftoff-only');
  const api = await loadService();
  let database: Awaited<ReturnType<typeof api.openDatabase>>;
  try {
    database = await api.openDatabase({
      ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
      pgliteSettings: SHORT_LIVED_SETTINGS,
    });
  } catch (error) {
    throw lockedOrRethrow(error);
  }
  try {
    await api.migrate(database.db);
    // A fresh embedded database has no tenant yet; local mode acts for one, so it must exist.
    await api.ensureTenant(database.db, options.tenant);
    const app = await api.buildApp({
      database,
      localPrincipal: { tenantId: options.tenant, scopes: ['admin'] },
      background: false,
    });
    if (database.dataDir !== undefined) await drainInto(api, database, database.dataDir, options.tenant, app);
    return {
      mode: 'local',
      target: database.dataDir ?? 'the embedded database',
      async request(method: string, path: string, body?: unknown): Promise<ApiResponse> {
        const res = await app.inject({
          method: method as 'GET',
          url: path,
          ...(body !== undefined
            ? { payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
            : {}),
        });
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = String(v);
        return { status: res.statusCode, headers, text: res.body };
      },
      async close(): Promise<void> {
        await app.close();
        await database.close();
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}

/**
 * Lands what the status line spooled while the database was closed (docs/cli.md, statusline). The
 * command the user asked for must not fail because of it: problems are reported on stderr.
 */
async function drainInto(
  api: typeof BudgetApi,
  database: Awaited<ReturnType<typeof BudgetApi.openDatabase>>,
  dataDir: string,
  tenant: string,
  app: ServiceApp,
): Promise<void> {
  const { drainSpool, describeDrain } = await import('../spool/drain.js');
  const { registerSink } = await import('../spool/sink.js');
  const target = registerSink(api, database, new Map([[tenant, app]]));
  try {
    for (const line of describeDrain(await drainSpool(dataDir, target.sink))) {
      process.stderr.write(`${line}\n`);
    }
  } catch (error) {
    process.stderr.write(`statusline spool: not drained this time: ${(error as Error).message}\n`);
  } finally {
    await target.close();
  }
}

/** The lock file's holder, as the service's lock error carries it (`url` once a `serve` listens). */
interface Holder {
  pid?: number;
  command?: string;
  url?: string;
}

/** The hint for a locked data directory: the holder's own URL when it recorded one. */
export function lockedHint(holder: Holder | undefined): string {
  const env = '(or MOSAIC_BUDGET_URL / MOSAIC_BUDGET_TOKEN)';
  if (holder?.url) {
    return `a running \`mosaic budget serve\` holds it: talk to it with --api ${holder.url} --token <token> ${env}`;
  }
  if (holder?.command !== undefined && !/\bserve\b/.test(holder.command)) {
    return 'another mosaic budget command holds it: run this one when it has finished';
  }
  return `if a \`mosaic budget serve\` holds it, talk to it with --api <its URL> --token <token> ${env}`;
}

/** A locked data directory becomes a clear CLI error that names the holder and suggests --api. */
export function lockedOrRethrow(error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  if (code === 'BUDGET_ERR_DATA_DIR_LOCKED') {
    const holder = (error as { extra?: { holder?: Holder } }).extra?.holder;
    return new CliError('BUDGET_ERR_DATA_DIR_LOCKED', (error as Error).message.replace(/ with --url$/, ''), {
      exit: EXIT.unavailable,
      hint: lockedHint(holder),
      ...(holder ? { details: { holder } } : {}),
    });
  }
  return error;
}
