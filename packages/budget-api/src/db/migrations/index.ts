import type { Migration, MigrationProvider } from 'kysely/migration';
import { registerMigration } from './0001-register.js';
import { gateMigration } from './0002-gate.js';
import { reserveFunctionMigration } from './0003-reserve-function.js';
import { settleFunctionMigration } from './0004-settle-function.js';
import { estimatorMigration } from './0005-estimator.js';
import { rowLocksMigration } from './0006-row-locks.js';
import { fillFactorMigration } from './0007-fillfactor.js';
import { noSubtransactionsMigration } from './0008-no-subtransactions.js';
import { batchFastPathMigration } from './0009-batch-fast-path.js';
import { settleFastPathMigration } from './0010-settle-fast-path.js';
import { releaseAsyncCommitMigration } from './0011-release-async-commit.js';

/** Every migration, in order; names are stable forever (the migrator records them). */
export const MIGRATIONS: Record<string, Migration> = {
  '0001-register': registerMigration,
  '0002-gate': gateMigration,
  '0003-reserve-function': reserveFunctionMigration,
  '0004-settle-function': settleFunctionMigration,
  '0005-estimator': estimatorMigration,
  '0006-row-locks': rowLocksMigration,
  '0007-fillfactor': fillFactorMigration,
  '0008-no-subtransactions': noSubtransactionsMigration,
  '0009-batch-fast-path': batchFastPathMigration,
  '0010-settle-fast-path': settleFastPathMigration,
  '0011-release-async-commit': releaseAsyncCommitMigration,
};

/** Migrations live in code, so the built dist carries them and no file system lookup can miss one. */
export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(MIGRATIONS),
};
