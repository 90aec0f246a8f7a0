import { CliError, EXIT } from '../errors.js';
import type { ApiResponse, Transport } from './transport.js';

/** What local mode needs to know: where the embedded database lives and whose rows it acts on. */
export interface LocalOptions {
  dataDir: string | undefined;
  tenant: string;
}

/**
 * Runs the service's own app in this process on the embedded database and calls its routes through
 * `app.inject()`: the same validation, rules and storage as the server, without a port. The service
 * package is imported lazily so that remote commands never pay for loading it.
 */
export async function localTransport(options: LocalOptions): Promise<Transport> {
  const api = await import('@mosaic/budget-api');
  let database: Awaited<ReturnType<typeof api.openDatabase>>;
  try {
    database = await api.openDatabase(options.dataDir !== undefined ? { dataDir: options.dataDir } : {});
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

/** A locked data directory becomes a clear CLI error that names the holder and suggests --api. */
export function lockedOrRethrow(error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  if (code === 'BUDGET_ERR_DATA_DIR_LOCKED') {
    return new CliError('BUDGET_ERR_DATA_DIR_LOCKED', (error as Error).message.replace(/ with --url$/, ''), {
      exit: EXIT.unavailable,
      hint: 'a running `mosaic budget serve` holds it: talk to it with --api http://127.0.0.1:8787 --token <token> (or MOSAIC_BUDGET_URL / MOSAIC_BUDGET_TOKEN)',
    });
  }
  return error;
}
