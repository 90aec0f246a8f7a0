import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Releases and expiries commit without waiting for their WAL to reach the disk
 * (`synchronous_commit = off` for the settling transaction only, through `set_config(…, true)`).
 *
 * Why that keeps every ceiling exact, also across a crash: losing a settlement can only put back a
 * reservation that was freed, which holds more than the truth, never less. And no durable
 * reservation can have counted on the room a lost settlement freed: PostgreSQL writes the WAL in
 * one sequence, a settlement becomes visible to other transactions only after its commit record is
 * in it, so a reservation that read the freed room under the running total's lock commits after it,
 * and its own synchronous commit flushes the WAL up to its record — the settlement's included.
 * After a crash that lost the last settlements (at most `wal_writer_delay` × 3 of them, 0.6 s by
 * default), those reservations are live again until their own expiry, and the caller's next
 * release of one answers as for a live reservation. Reservations, commits of actual spend and
 * everything else still wait for the disk.
 *
 * What it buys: a release's transaction holds the running total's row lock until it commits, so the
 * flush was on the path of every reservation queued behind it. Measured before this migration
 * (`bench/.work` scratch, the bench server on two databases loaded alternately, three 6-second rounds,
 * 2026-12-03): 100 accounts 1,476 → 1,720 cycles/s, the hot account 1,766 → 1,861.
 */
const SETTLE_BATCH = `
create or replace function fleet.reservation_settle_batch(ps jsonb) returns jsonb
language plpgsql as $fn$
declare
  answers jsonb;
begin
  -- For this transaction only (see migration 0011).
  perform set_config('synchronous_commit', 'off', true);
  perform fleet.reservation_settle_lock(ps);
  answers := fleet.reservation_settle_all(ps);
  if answers is null then
    answers := fleet.reservation_settle_each(ps);
  end if;
  return answers;
end
$fn$`;

/** Releases and expiries commit asynchronously (see above). Like 0009 and 0010 it has no `down`. */
export const releaseAsyncCommitMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql.raw(SETTLE_BATCH).execute(db);
  },
};
