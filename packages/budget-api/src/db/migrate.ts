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

/** How many of this build's migrations the database records, and how many it records in all. */
async function migrationCounts(db: FleetDb): Promise<{ known: number; applied: number }> {
  const result = await sql<{ known: string | number; applied: string | number }>`
    select count(*) filter (where name = any(${[...MIGRATION_NAMES]})) as known, count(*) as applied
    from fleet.kysely_migration`.execute(db);
  return { known: Number(result.rows[0]?.known ?? 0), applied: Number(result.rows[0]?.applied ?? 0) };
}

/** Whether the applied migrations are exactly the ones this build knows (false before the first). */
async function upToDate(db: FleetDb): Promise<boolean> {
  const present = await sql<{ present: boolean }>`
    select to_regclass('fleet.kysely_migration') is not null as present`.execute(db);
  if (!present.rows[0]?.present) return false;
  const { known, applied } = await migrationCounts(db);
  return known === MIGRATION_NAMES.length && applied === MIGRATION_NAMES.length;
}

/**
 * True when every migration this build knows has been applied. Migrations of a newer build may be
 * there too: during a rolling upgrade the older replicas stay ready.
 */
export async function isMigrated(db: FleetDb): Promise<boolean> {
  return (await migrationCounts(db)).known === MIGRATION_NAMES.length;
}
