import type { FastifyInstance } from 'fastify';
import { buildApp, LOG_REDACT_PATHS } from './app.js';
import { openDatabase, type Database } from './db/database.js';
import { migrate } from './db/migrate.js';
import { recordLockUrl } from './db/lock.js';
import { createToken, hasAdminToken, importToken } from './auth/tokens.js';

/** What {@link startServer} needs; `mosaic budget serve` passes its flags here. */
export interface StartServerOptions {
  port?: number;
  host?: string;
  databaseUrl?: string;
  dataDir?: string;
  /** An admin token to store for `bootstrapTenant` (from `BUDGET_BOOTSTRAP_TOKEN`). */
  bootstrapToken?: string;
  /** The tenant of the bootstrap admin token; default `default`. */
  bootstrapTenant?: string;
  /** pino level; default `info`. */
  logLevel?: string;
  /** Where to print the URL and a created admin token, in one call (two lines then); default stdout. */
  print?: (text: string) => void;
  /** Install SIGTERM/SIGINT handlers that close gracefully (default true). */
  handleSignals?: boolean;
}

/** A running service. */
export interface RunningServer {
  app: FastifyInstance;
  database: Database;
  url: string;
  /** The admin token created at start, when one was created (shown once, never logged). */
  adminToken?: string;
  close(): Promise<void>;
}

/**
 * Opens the database, migrates it, makes sure an admin token exists, and listens. Prints the URL and,
 * when it creates one, the admin token (to `print`, never to the log).
 * @example const server = await startServer({ port: 8787 }); console.log(server.url);
 */
export async function startServer(options: StartServerOptions = {}): Promise<RunningServer> {
  const print = options.print ?? ((text: string) => process.stdout.write(`${text}\n`));
  const database = await openDatabase({ databaseUrl: options.databaseUrl, dataDir: options.dataDir });
  let app: FastifyInstance | undefined;
  try {
    await migrate(database.db);
    const tenant = options.bootstrapTenant ?? 'default';
    let adminToken: string | undefined;
    if (options.bootstrapToken) {
      await importToken(database.db, { tenant, token: options.bootstrapToken, scopes: ['admin'] });
    } else if (!(await hasAdminToken(database.db, tenant))) {
      adminToken = (await createToken(database.db, { tenant, scopes: ['admin'], name: 'first admin' })).token;
    }
    app = await buildApp({
      database,
      logger: {
        level: options.logLevel ?? 'info',
        redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' },
      },
    });
    const address = await app.listen({ port: options.port ?? 8787, host: options.host ?? '127.0.0.1' });
    const url = address.replace('[::1]', 'localhost');
    if (database.dataDir) recordLockUrl(database.dataDir, url);
    const lines = [
      `mosaic budget service listening on ${url} (${database.kind}${database.dataDir ? ` in ${database.dataDir}` : ''})`,
    ];
    if (adminToken)
      lines.push(`admin token for tenant "${tenant}" (shown once, store it now): ${adminToken}`);
    // One write for both: a script that reads up to the URL line and then looks for the token must
    // find it in the same read. Two writes reached a fast reader as two reads.
    print(lines.join('\n'));
    const running = app;
    let closing: Promise<void> | undefined;
    const close = (): Promise<void> => {
      // Stop accepting, let in-flight requests finish, then close the pool (or PGlite and its lock).
      closing ??= running.close().finally(() => database.close());
      return closing;
    };
    if (options.handleSignals !== false) {
      const onSignal = (signal: NodeJS.Signals): void => {
        running.log.info({ signal }, 'shutting down');
        close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
    }
    return { app: running, database, url, ...(adminToken ? { adminToken } : {}), close };
  } catch (error) {
    await app?.close();
    await database.close();
    throw error;
  }
}
