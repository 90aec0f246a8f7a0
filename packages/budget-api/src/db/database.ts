import { join } from 'node:path';
import { Kysely, PGliteDialect, PostgresDialect } from 'kysely';
import pg from 'pg';
import envPaths from 'env-paths';
import type { FleetDatabase } from './schema.js';
import { lockDataDir, type DataDirLock } from './lock.js';

/** A kysely handle on the register. */
export type FleetDb = Kysely<FleetDatabase>;

/** An open register database, PostgreSQL or embedded PGlite, with its way to close. */
export interface Database {
  db: FleetDb;
  kind: 'postgres' | 'pglite';
  /** The PGlite data directory, when embedded. */
  dataDir?: string;
  close(): Promise<void>;
}

/** Where to find the register. */
export interface OpenDatabaseOptions {
  /** A PostgreSQL URL; when absent the embedded PGlite in `dataDir` is used. */
  databaseUrl?: string;
  /** The PGlite data directory; default under the user's data dir. */
  dataDir?: string;
  /** Most pooled connections (PostgreSQL only); default 10. */
  poolSize?: number;
  /**
   * PostgreSQL settings for this start of the embedded database only (PGlite; ignored for a URL), e.g.
   * `{ shared_buffers: '16MB' }` for a short-lived command. Nothing is written to the data directory.
   */
  pgliteSettings?: Record<string, string>;
}

/** The default embedded data directory: `<user data dir>/mosaic-budget` (e.g. ~/.local/share on Linux). */
export function defaultDataDir(): string {
  return envPaths('mosaic-budget', { suffix: '' }).data;
}

/**
 * Opens the register: a pg pool when a URL is given, else PGlite in a locked data directory.
 * @example const database = await openDatabase({ dataDir: '/tmp/budget' }); await migrate(database.db);
 */
export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Database> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      // Also the longest wait for a free pooled connection under a burst: a refused connection still
      // fails at once, so an unreachable database is reported without waiting this long.
      connectionTimeoutMillis: 15_000,
    });
    // An idle client losing its server must not crash the process; the next query reports it.
    pool.on('error', () => undefined);
    // A checked-out client whose server shuts down (57P01) emits 'error' too; without a listener that
    // kills the process. The query in flight still rejects, and is answered 503.
    pool.on('connect', (client) => client.on('error', () => undefined));
    const db = new Kysely<FleetDatabase>({ dialect: new PostgresDialect({ pool }) });
    return { db, kind: 'postgres', close: () => db.destroy() };
  }
  const dataDir = options.dataDir ?? defaultDataDir();
  const lock: DataDirLock = lockDataDir(dataDir);
  try {
    const { PGlite } = await import('@electric-sql/pglite');
    // Settings go on the command line after PGlite's own defaults, which `startParams` would otherwise
    // replace; postgresql.conf is left alone so that `serve` on the same directory keeps its defaults.
    const settings = Object.entries(options.pgliteSettings ?? {});
    const pglite = await PGlite.create(
      join(dataDir, 'pgdata'),
      settings.length
        ? {
            startParams: [...PGlite.defaultStartParams, ...settings.flatMap(([k, v]) => ['-c', `${k}=${v}`])],
          }
        : {},
    );
    const db = new Kysely<FleetDatabase>({ dialect: new PGliteDialect({ pglite }) });
    return {
      db,
      kind: 'pglite',
      dataDir,
      close: async () => {
        try {
          await db.destroy();
          if (!pglite.closed) await pglite.close();
        } finally {
          lock.release();
        }
      },
    };
  } catch (error) {
    lock.release();
    throw error;
  }
}
