import fc from 'fast-check';
import { expect } from 'vitest';
import { sql, type Kysely } from 'kysely';
import type { FleetDatabase } from '../db/schema.js';

// Helpers for the tests that hold the gate's batch functions (fleet.gate_reserve,
// fleet.reservation_settle_batch and their one-pass and entry-by-entry halves) to each other.

/** The accounts of a batch test's tenant (provider `anthropic`). */
export const BATCH_ACCOUNTS = ['a0', 'a1', 'a2'];

/** The one ceiling period the batch tests hold totals in. */
export const BATCH_PERIOD = {
  period: 'P1M',
  start: '2026-12-01T00:00:00.000Z',
  end: '2027-01-01T00:00:00.000Z',
};

/** Cents as the decimal text the gate sends and PostgreSQL prints (`1.50`). */
export const usdText = (cents: number): string => (cents / 100).toFixed(2);

/**
 * `usual` fourteen times in fifteen, else `rare`: each way an entry can stop a batch from being
 * clear stays rare on its own, so a good share of generated batches is clear.
 */
export const rarely = <T>(usual: T, rare: T): fc.Arbitrary<T> =>
  fc.oneof({ arbitrary: fc.constant(usual), weight: 14 }, { arbitrary: fc.constant(rare), weight: 1 });

/**
 * The running totals of tenant `t` for {@link BATCH_PERIOD}: one per account of
 * {@link BATCH_ACCOUNTS}, then the provider's, with `column` set to the given cents in that order.
 */
export async function insertBatchTotals(
  db: Kysely<FleetDatabase>,
  t: string,
  column: 'committed_usd' | 'reserved_usd',
  cents: readonly number[],
): Promise<void> {
  const keys = [...BATCH_ACCOUNTS.map((a) => ['account', a]), ['provider', 'anthropic']];
  for (const [i, [scope, key]] of keys.entries()) {
    await sql`insert into fleet.period_totals (tenant_id, scope, key, period, period_start, period_end, ${sql.ref(column)})
              values (${t}, ${scope}, ${key}, ${BATCH_PERIOD.period}, ${BATCH_PERIOD.start}, ${BATCH_PERIOD.end},
                      ${usdText(cents[i] ?? 0)})`.execute(db);
  }
}

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

/**
 * Holds `check` on 300 generated cases (a fixed seed); `check` asserts that the paths agree and
 * answers whether the one-pass path took the batch. Each path must have been taken more than 30
 * times, or the property proves nothing about the one left out.
 */
export async function assertOverBothPaths<C>(
  cases: fc.Arbitrary<C>,
  check: (c: C) => Promise<boolean>,
): Promise<void> {
  let clear = 0;
  let fallback = 0;
  await fc.assert(
    fc.asyncProperty(cases, async (c) => {
      if (await check(c)) clear += 1;
      else fallback += 1;
    }),
    { numRuns: 300, seed: 20261202 },
  );
  expect(clear).toBeGreaterThan(30);
  expect(fallback).toBeGreaterThan(30);
}
