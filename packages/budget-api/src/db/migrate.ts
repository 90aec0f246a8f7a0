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

/** True when every migration this build knows has been applied. */
export async function isMigrated(db: FleetDb): Promise<boolean> {
  const result = await sql<{ n: string | number }>`
    select count(*) as n from fleet.kysely_migration where name = any(${[...MIGRATION_NAMES]})
  `.execute(db);
  return Number(result.rows[0]?.n ?? 0) === MIGRATION_NAMES.length;
}
