import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * What the service has learnt about task sizes: one row per (tenant, task class, model) holding the
 * core's estimator cell (a ring of recent actuals and of the errors of the estimates they ran with).
 * One row per cell rather than one document per tenant, so commits of different classes and models
 * never contend for a row.
 */
export const estimatorMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql
      .raw(
        `create table fleet.estimator_cells (
           tenant_id text not null references fleet.tenants(id),
           task_class text not null,
           model text not null,
           cell jsonb not null,
           updated_at timestamptz not null default now(),
           primary key (tenant_id, task_class, model))`,
      )
      .execute(db);
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await sql.raw('drop table if exists fleet.estimator_cells').execute(db);
  },
};
