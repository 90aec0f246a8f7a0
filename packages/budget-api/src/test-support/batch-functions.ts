import { sql, type Kysely } from 'kysely';
import type { FleetDatabase } from '../db/schema.js';

// Helpers for the tests that hold the gate's batch functions (fleet.gate_reserve,
// fleet.reservation_settle_batch and their one-pass and entry-by-entry halves) to each other.

/**
 * A tenant `t` (at configuration version `version`) with a valid token `<t>-tok`, a revoked one
 * `<t>-revoked`, and subscription accounts of provider `anthropic`.
 */
export async function batchTenant(
  db: Kysely<FleetDatabase>,
  t: string,
  accounts: readonly string[],
  version = 0,
): Promise<void> {
  await sql`insert into fleet.tenants (id, config_version) values (${t}, ${version})`.execute(db);
  await sql`insert into fleet.api_tokens (id, tenant_id, token_hash, scopes, revoked_at)
            values (${`${t}-tok`}, ${t}, ${`${t}-h1`}, '[]', null),
                   (${`${t}-revoked`}, ${t}, ${`${t}-h2`}, '[]', now())`.execute(db);
  for (const a of accounts) {
    await sql`insert into fleet.accounts (tenant_id, id, provider, kind, models, timezone, updated_by)
              values (${t}, ${a}, 'anthropic', 'subscription', '[]', 'UTC', 'test')`.execute(db);
  }
}

/**
 * In one transaction that is rolled back whatever happens: `setUp`, then each of the functions
 * `fns` called in turn with the batch `ps` as JSON, then `read`. Answers what the last function
 * returned and what `read` found, so that several paths can be run on the same state and compared.
 */
export async function inRolledBackBatch<A, R>(
  db: Kysely<FleetDatabase>,
  setUp: (conn: Kysely<FleetDatabase>) => Promise<void>,
  ps: readonly unknown[],
  fns: readonly string[],
  read: (conn: Kysely<FleetDatabase>) => Promise<R>,
): Promise<{ answers: A | null; rows: R }> {
  return db.connection().execute(async (conn) => {
    await sql`begin`.execute(conn);
    try {
      await setUp(conn);
      const json = JSON.stringify(ps);
      let answers: A | null = null;
      for (const fn of fns) {
        const res = await sql<{
          answers: A | null;
        }>`select ${sql.ref(fn)}(${json}::jsonb) as answers`.execute(conn);
        answers = res.rows[0]?.answers ?? null;
      }
      return { answers, rows: await read(conn) };
    } finally {
      await sql`rollback`.execute(conn);
    }
  });
}
