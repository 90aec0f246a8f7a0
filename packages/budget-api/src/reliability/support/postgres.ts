import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database } from '../../db/database.js';
import { migrate } from '../../db/migrate.js';
import { POSTGRES_AVAILABLE, TEST_DATABASE_URL } from '../../test-support/backends.js';

/**
 * Whether the PostgreSQL suites run: always under CI (where an unreachable server then fails them,
 * never skips them), and locally when the server answers.
 */
export const RUN_POSTGRES = POSTGRES_AVAILABLE || process.env.CI === 'true';

/** A private database `rel_<label>_<random>` on the shared server, and how to drop it. */
export interface RelDatabase {
  name: string;
  url: string;
  /** A kysely handle (pool of `poolSize`) on it, migrated unless asked not to. */
  database: Database;
  drop(): Promise<void>;
}

/** Runs one statement on the maintenance connection of the shared server. */
export async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates a fresh database for one reliability test; fails (never skips) when the server is absent. */
export async function relDatabase(
  label: string,
  options: { migrated?: boolean; poolSize?: number } = {},
): Promise<RelDatabase> {
  if (!POSTGRES_AVAILABLE) {
    throw new Error(
      `PostgreSQL at ${TEST_DATABASE_URL} is unreachable: the reliability suite must not skip in CI`,
    );
  }
  const name = `rel_${label.replace(/[^a-z0-9]/g, '_')}_${randomBytes(4).toString('hex')}`;
  await adminQuery(`create database ${name}`);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  const database = await openDatabase({ databaseUrl: url.toString(), poolSize: options.poolSize ?? 6 });
  if (options.migrated !== false) await migrate(database.db);
  let dropped = false;
  return {
    name,
    url: url.toString(),
    database,
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await database.close().catch(() => undefined);
      await adminQuery(`drop database if exists ${name} with (force)`);
    },
  };
}
