import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * `fleet.gate_reserve(p jsonb)`: takes one reservation in a single statement, so the gate's write is
 * one round trip to the database instead of a transaction of eight to twelve.
 *
 * It enforces, atomically, the limits the core's decision assumed (it decides nothing): each USD
 * ceiling is a conditional `UPDATE … WHERE committed + reserved + amount <= limit`, re-checked by
 * PostgreSQL on the newest row version under its lock; a concurrency limit locks its scope's row and
 * counts live reservations in a fresh statement while holding it. When a limit no longer holds it
 * raises SQLSTATE `MB001`, which rolls back everything the call did (the caller decides again).
 *
 * Contended rows are taken in one global order by every writer — concurrency rows, ceilings (sorted
 * by the caller), then window rows — so concurrent reservations cannot deadlock. The uncontended
 * inserts (the reservation and its audit row) go first, so the hot ceiling lock is held only until
 * the statement commits.
 *
 * `p`: { id, tenantId, taskId, account, provider, model, decision, usd, ttlMs, windows, holds,
 * request, ceilings: [{scope, key, period, start, end, limit}], concurrency: [{scope, key, limit}],
 * audit?: {decision, account, model, reason, trace, queueId} }. Amounts travel as decimal strings.
 */
const RESERVE = `
create or replace function fleet.gate_reserve(p jsonb) returns timestamptz
language plpgsql as $fn$
declare
  t text := p->>'tenantId';
  amount numeric := (p->>'usd')::numeric;
  expires timestamptz;
  g jsonb;
  n integer;
begin
  insert into fleet.reservations
    (id, tenant_id, task_id, account_id, provider, model, usd, windows, holds, status, decision,
     expires_at, request)
  values
    (p->>'id', t, p->>'taskId', p->>'account', p->>'provider', p->>'model', amount, p->'windows',
     p->'holds', 'live', p->>'decision', now() + (p->>'ttlMs')::bigint * interval '1 millisecond',
     p->'request')
  returning expires_at into expires;

  if p ? 'audit' then
    insert into fleet.gate_decisions
      (tenant_id, task_id, decision, account_id, model, reason, trace, reservation_id, queue_id)
    values
      (t, p->>'taskId', p->'audit'->>'decision', p->'audit'->>'account', p->'audit'->>'model',
       p->'audit'->>'reason', p->'audit'->'trace', p->>'id', p->'audit'->>'queueId');
  end if;

  for g in select value from jsonb_array_elements(p->'concurrency') loop
    insert into fleet.inflight (tenant_id, scope, key, count)
      values (t, g->>'scope', g->>'key', 0) on conflict do nothing;
    perform 1 from fleet.inflight
      where tenant_id = t and scope = g->>'scope' and key = g->>'key' for update;
    -- A new statement after the lock sees every reservation the previous holder committed; the count
    -- includes this call's own reservation.
    select count(*) into n from fleet.reservations r
      where r.tenant_id = t and r.status = 'live'
        and (g->>'scope' = 'tenant'
             or (g->>'scope' = 'account' and r.account_id = g->>'key')
             or (g->>'scope' = 'provider' and r.provider = g->>'key'));
    if n > (g->>'limit')::integer then
      raise exception 'a concurrent reservation took the room first (% concurrency %)',
        g->>'scope', g->>'key' using errcode = 'MB001';
    end if;
    update fleet.inflight set count = n
      where tenant_id = t and scope = g->>'scope' and key = g->>'key';
  end loop;

  for g in select value from jsonb_array_elements(p->'ceilings') loop
    update fleet.period_totals set reserved_usd = reserved_usd + amount
      where tenant_id = t and scope = g->>'scope' and key = g->>'key' and period = g->>'period'
        and period_start = (g->>'start')::timestamptz
        and committed_usd + reserved_usd + amount <= (g->>'limit')::numeric;
    if not found then
      -- No row yet for this period (its first reservation or spend): create it, then try once more.
      insert into fleet.period_totals (tenant_id, scope, key, period, period_start, period_end)
        values (t, g->>'scope', g->>'key', g->>'period', (g->>'start')::timestamptz,
                (g->>'end')::timestamptz)
        on conflict do nothing;
      update fleet.period_totals set reserved_usd = reserved_usd + amount
        where tenant_id = t and scope = g->>'scope' and key = g->>'key' and period = g->>'period'
          and period_start = (g->>'start')::timestamptz
          and committed_usd + reserved_usd + amount <= (g->>'limit')::numeric;
      if not found then
        raise exception 'a concurrent reservation took the room first (% ceiling %)',
          g->>'scope', g->>'key' using errcode = 'MB001';
      end if;
    end if;
  end loop;

  -- Window % is pacing, not a hard limit: it is held so the next decision sees it, never refused here.
  for g in select value from jsonb_array_elements(p->'windows') loop
    update fleet.window_state set reserved_percent = reserved_percent + (g->>'percent')::numeric
      where tenant_id = t and account_id = p->>'account' and window_name = g->>'window';
  end loop;

  return expires;
end
$fn$`;

/** The gate's one-statement reservation (see {@link RESERVE}). */
export const reserveFunctionMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql.raw(RESERVE).execute(db);
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await sql.raw('drop function if exists fleet.gate_reserve(jsonb)').execute(db);
  },
};
