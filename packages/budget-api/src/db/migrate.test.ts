import { sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import { expect, it } from 'vitest';
import { describeOnBackends } from '../test-support/backends.js';
import { MIGRATION_NAMES, migrate } from './migrate.js';
import { migrationProvider } from './migrations/index.js';

const appliedNames = async (db: Parameters<typeof migrate>[0]): Promise<string[]> =>
  (await sql<{ name: string }>`select name from fleet.kysely_migration order by name`.execute(db)).rows.map(
    (r) => r.name,
  );

describeOnBackends('migrate', (env) => {
  it('answers an up-to-date database with nothing applied, and changes nothing', async () => {
    const { db } = env().database;
    const before = await appliedNames(db);
    expect(before).toEqual([...MIGRATION_NAMES]);
    const result = await migrate(db);
    expect(result.error).toBeUndefined();
    expect(result.results).toEqual([]);
    expect(await appliedNames(db)).toEqual(before);
  });

  it('refuses a database that holds a migration this build does not know, as the migrator does', async () => {
    const { db } = env().database;
    // A newer build migrated this database; an older one must not carry on as if it were up to date.
    await sql`insert into fleet.kysely_migration (name, timestamp) values ('9999-from-a-newer-build', now()::text)`.execute(
      db,
    );
    try {
      await expect(migrate(db)).rejects.toThrow(/9999-from-a-newer-build/);
    } finally {
      await sql`delete from fleet.kysely_migration where name = '9999-from-a-newer-build'`.execute(db);
    }
  });

  it('runs the migration that is pending', async () => {
    const { db } = env().database;
    // Brought to the one before the last by the migrator itself, as an older build left it.
    await sql`drop schema fleet cascade`.execute(db);
    await sql`create schema fleet`.execute(db);
    const older = new Migrator({ db, provider: migrationProvider, migrationTableSchema: 'fleet' });
    const last = MIGRATION_NAMES[MIGRATION_NAMES.length - 1] as string;
    expect(
      (await older.migrateTo(MIGRATION_NAMES[MIGRATION_NAMES.length - 2] as string)).error,
    ).toBeUndefined();
    const result = await migrate(db);
    expect(result.error).toBeUndefined();
    expect(result.results?.map((r) => [r.migrationName, r.status])).toEqual([[last, 'Success']]);
    expect(await appliedNames(db)).toEqual([...MIGRATION_NAMES]);
  });

  it('migrates a database that has no schema yet', async () => {
    const { db } = env().database;
    await sql`drop schema fleet cascade`.execute(db);
    const result = await migrate(db);
    expect(result.results?.map((r) => r.migrationName)).toEqual([...MIGRATION_NAMES]);
    expect(await appliedNames(db)).toEqual([...MIGRATION_NAMES]);
  });
});
