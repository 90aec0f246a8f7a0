import { sql } from 'kysely';
import { Migrator, type MigrationResultSet } from 'kysely/migration';
import type { FleetDb } from './database.js';
import { migrationProvider, MIGRATIONS } from './migrations/index.js';

// An arbitrary constant shared by every replica: the session-level advisory lock key for migrating.
const MIGRATION_LOCK_KEY = 0x6d6f7361; // "mosa"

/** Names of every migration this build knows, in order. */
export const MIGRATION_NAMES: readonly string[] = Object.keys(MIGRATIONS);

/**
 * Brings the `fleet` schema to the latest migration. Several replicas may start at once: a
 * session-level advisory lock on one connection serialises them, so each migration runs once and the
 * migrator's own bookkeeping tables are created once.
 * @example await migrate(database.db);
 */
export async function migrate(db: FleetDb): Promise<MigrationResultSet> {
  // Every local-mode command migrates before it works, and the database is nearly always up to date:
  // one read answers that, where the migrator's round (lock, schema and bookkeeping tables, its own
  // lock row, the list) cost ~0.1 s on PGlite. Anything else — a fresh database, a migration pending,
  // or one this build does not know, which the migrator refuses — takes the migrator's path.
  if (await upToDate(db)) return { results: [] };
  return db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`.execute(conn);
    try {
      await sql`create schema if not exists fleet`.execute(conn);
      const migrator = new Migrator({
        db: conn,
        provider: migrationProvider,
        migrationTableSchema: 'fleet',
      });
      const result = await migrator.migrateToLatest();
      if (result.error)
        throw result.error instanceof Error
          ? result.error
          : new Error('migration failed', { cause: result.error });
      return result;
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.execute(conn);
    }
  });
}

/** Whether the applied migrations are exactly the ones this build knows (false before the first). */
async function upToDate(db: FleetDb): Promise<boolean> {
  const present = await sql<{ present: boolean }>`
    select to_regclass('fleet.kysely_migration') is not null as present`.execute(db);
  if (!present.rows[0]?.present) return false;
  const result = await sql<{ known: string | number; applied: string | number }>`
    select count(*) filter (where name = any(${[...MIGRATION_NAMES]})) as known, count(*) as applied
    from fleet.kysely_migration`.execute(db);
  const row = result.rows[0];
  return Number(row?.known) === MIGRATION_NAMES.length && Number(row?.applied) === MIGRATION_NAMES.length;
}

/** True when every migration this build knows has been applied. */
export async function isMigrated(db: FleetDb): Promise<boolean> {
  const result = await sql<{ n: string | number }>`
    select count(*) as n from fleet.kysely_migration where name = any(${[...MIGRATION_NAMES]})
  `.execute(db);
  return Number(result.rows[0]?.n ?? 0) === MIGRATION_NAMES.length;
}
