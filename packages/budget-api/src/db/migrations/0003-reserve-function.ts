import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * `fleet.gate_reserve_one(p jsonb)`: takes one reservation — the reservation row, its audit row, the
 * concurrency limits, the exact USD ceilings and the held window % — all or nothing.
 *
 * It enforces, atomically, what the core's decision assumed (it decides nothing): each USD ceiling is
 * a conditional `UPDATE … WHERE committed + reserved + amount <= limit`, re-checked by PostgreSQL on
 * the newest row version under its lock; a concurrency limit locks its scope's row and counts live
 * reservations in a fresh statement while holding it. When something the decision rested on no longer
 * holds it raises, and everything the call did is undone:
 * - `MB001` a limit no longer holds (decide again on fresh state);
 * - `MB002` the tenant's configuration changed since the decision (`p.version`);
 * - `MB003` the task already holds a reservation or waits in the queue (`p.checkTask`: answer with it);
 * - `MB401` the caller's token was revoked (`p.tokenId`).
 *
 * `p`: { id, tenantId, taskId, account, provider, model, decision, usd, ttlMs, windows, holds, request,
 * ceilings: [{scope, key, period, start, end, limit}], concurrency: [{scope, key, limit}],
 * audit?: {decision, account, model, reason, trace, queueId}, version?, checkTask?, tokenId? }.
 * Amounts travel as decimal strings.
 */
const RESERVE_ONE = `
create or replace function fleet.gate_reserve_one(p jsonb) returns timestamptz
language plpgsql as $fn$
declare
  t text := p->>'tenantId';
  amount numeric := (p->>'usd')::numeric;
  expires timestamptz;
  g jsonb;
  n integer;
begin
  if p ? 'tokenId' and not exists (select 1 from fleet.api_tokens
      where id = p->>'tokenId' and tenant_id = t and revoked_at is null) then
    raise exception 'the token is unknown or revoked' using errcode = 'MB401';
  end if;
  if p ? 'version' and coalesce((select config_version from fleet.tenants where id = t), 0)
      <> (p->>'version')::bigint then
    raise exception 'the configuration changed since the decision' using errcode = 'MB002';
  end if;
  if coalesce((p->>'checkTask')::boolean, false) and (
      exists (select 1 from fleet.reservations
               where tenant_id = t and task_id = p->>'taskId' and status in ('live', 'committed'))
      or exists (select 1 from fleet.queue_entries
                  where tenant_id = t and task_id = p->>'taskId' and status = 'waiting')) then
    raise exception 'the task already holds a reservation or a queue entry' using errcode = 'MB003';
  end if;

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

/**
 * `fleet.gate_reserve(ps jsonb)`: a group commit — the reservations of several concurrent gate
 * requests (a JSON array of `gate_reserve_one` arguments) in one statement, one round trip and one
 * commit. Each entry runs in its own subtransaction, so one that no longer fits is undone alone and
 * answered with its SQLSTATE, while the others stand; entries are applied in the order given, each
 * checking the ceiling against what the entries before it took, so the ceiling stays exact.
 *
 * Before any entry runs, every row the batch will contend for is locked in the one global order all
 * writers use — concurrency rows, then running totals (scope, key, period, start), then window rows —
 * so two batches on two replicas cannot deadlock whatever accounts they mix. Answers one object per
 * entry: `{ok: true, expiresAt}` or `{ok: false, code, message}`.
 */
const RESERVE_BATCH = `
create or replace function fleet.gate_reserve(ps jsonb) returns jsonb
language plpgsql as $fn$
declare
  p jsonb;
  answers jsonb := '[]'::jsonb;
  expires timestamptz;
begin
  insert into fleet.inflight (tenant_id, scope, key, count)
    select distinct e->>'tenantId', g->>'scope', g->>'key', 0
      from jsonb_array_elements(ps) e, jsonb_array_elements(e->'concurrency') g
    on conflict do nothing;
  insert into fleet.period_totals (tenant_id, scope, key, period, period_start, period_end)
    select distinct e->>'tenantId', g->>'scope', g->>'key', g->>'period',
           (g->>'start')::timestamptz, (g->>'end')::timestamptz
      from jsonb_array_elements(ps) e, jsonb_array_elements(e->'ceilings') g
    on conflict do nothing;
  perform 1 from fleet.inflight i
    where (i.tenant_id, i.scope, i.key) in (
      select e->>'tenantId', g->>'scope', g->>'key'
        from jsonb_array_elements(ps) e, jsonb_array_elements(e->'concurrency') g)
    order by i.tenant_id, i.scope, i.key for update;
  perform 1 from fleet.period_totals pt
    where (pt.tenant_id, pt.scope, pt.key, pt.period, pt.period_start) in (
      select e->>'tenantId', g->>'scope', g->>'key', g->>'period', (g->>'start')::timestamptz
        from jsonb_array_elements(ps) e, jsonb_array_elements(e->'ceilings') g)
    order by pt.tenant_id, pt.scope, pt.key, pt.period, pt.period_start for update;
  perform 1 from fleet.window_state w
    where (w.tenant_id, w.account_id, w.window_name) in (
      select e->>'tenantId', e->>'account', g->>'window'
        from jsonb_array_elements(ps) e, jsonb_array_elements(e->'windows') g)
    order by w.tenant_id, w.account_id, w.window_name for update;

  for p in select value from jsonb_array_elements(ps) loop
    begin
      expires := fleet.gate_reserve_one(p);
      answers := answers || jsonb_build_array(jsonb_build_object('ok', true, 'expiresAt', expires));
    exception
      when sqlstate 'MB001' or sqlstate 'MB002' or sqlstate 'MB003' or sqlstate 'MB401'
           or unique_violation then
        answers := answers || jsonb_build_array(
          jsonb_build_object('ok', false, 'code', sqlstate, 'message', sqlerrm));
    end;
  end loop;
  return answers;
end
$fn$`;

/** The gate's one-statement reservations (see {@link RESERVE_ONE} and {@link RESERVE_BATCH}). */
export const reserveFunctionMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql.raw(RESERVE_ONE).execute(db);
    await sql.raw(RESERVE_BATCH).execute(db);
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await sql.raw('drop function if exists fleet.gate_reserve(jsonb)').execute(db);
    await sql.raw('drop function if exists fleet.gate_reserve_one(jsonb)').execute(db);
  },
};
