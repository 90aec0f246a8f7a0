import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * The group-commit functions of migrations 0003 and 0004 again, with their up-front locks taken row by
 * row through each primary key instead of by one set-based statement. PL/pgSQL plans a statement once
 * per session; a set-based lock planned while a table was small (a scan) stayed a scan as the table
 * grew, and the gate's throughput fell by half over three 8-second benchmark runs. Behaviour is
 * otherwise unchanged: the same rows, locked in the same global order, answered the same way.
 */
const RESERVE_BATCH = `
create or replace function fleet.gate_reserve(ps jsonb) returns jsonb
language plpgsql as $fn$
declare
  p jsonb;
  k record;
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
  -- Row by row through each primary key, in the global order: a set-based lock would be planned once
  -- per session, and a plan chosen while a table was small (a scan) would stay as it grows.
  for k in select distinct e->>'tenantId' as t, g->>'scope' as scope, g->>'key' as key
             from jsonb_array_elements(ps) e, jsonb_array_elements(e->'concurrency') g
            order by 1, 2, 3 loop
    perform 1 from fleet.inflight
      where tenant_id = k.t and scope = k.scope and key = k.key for update;
  end loop;
  for k in select distinct e->>'tenantId' as t, g->>'scope' as scope, g->>'key' as key,
                  g->>'period' as period, (g->>'start')::timestamptz as start
             from jsonb_array_elements(ps) e, jsonb_array_elements(e->'ceilings') g
            order by 1, 2, 3, 4, 5 loop
    perform 1 from fleet.period_totals
      where tenant_id = k.t and scope = k.scope and key = k.key and period = k.period
        and period_start = k.start for update;
  end loop;
  for k in select distinct e->>'tenantId' as t, e->>'account' as account, g->>'window' as w
             from jsonb_array_elements(ps) e, jsonb_array_elements(e->'windows') g
            order by 1, 2, 3 loop
    perform 1 from fleet.window_state
      where tenant_id = k.t and account_id = k.account and window_name = k.w for update;
  end loop;

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

const SETTLE_BATCH = `
create or replace function fleet.reservation_settle_batch(ps jsonb) returns jsonb
language plpgsql as $fn$
declare
  p jsonb;
  k record;
  r fleet.reservations%rowtype;
  held jsonb[] := '{}';
  windows jsonb[] := '{}';
  answers jsonb := '[]'::jsonb;
  answer jsonb;
begin
  -- Row by row through each primary key, in the global order: a set-based lock would be planned once
  -- per session, and a plan chosen while the reservations table was small (a scan) would stay as it
  -- grows (measured: throughput fell by half over three 8-second runs).
  for k in select distinct e->>'id' as id from jsonb_array_elements(ps) e order by 1 loop
    select * into r from fleet.reservations where id = k.id for update;
    if found and r.status = 'live' then
      held := held || array(
        select jsonb_build_object('t', r.tenant_id, 'scope', h->>'scope', 'key', h->>'key',
                                  'period', h->>'period', 'start', h->>'periodStart')
          from jsonb_array_elements(r.holds) h);
      windows := windows || array(
        select jsonb_build_object('t', r.tenant_id, 'account', r.account_id, 'w', h->>'window')
          from jsonb_array_elements(r.windows) h);
    end if;
  end loop;
  for k in select distinct x->>'t' as t, x->>'scope' as scope, x->>'key' as key,
                  x->>'period' as period, (x->>'start')::timestamptz as start
             from unnest(held) x order by 1, 2, 3, 4, 5 loop
    perform 1 from fleet.period_totals
      where tenant_id = k.t and scope = k.scope and key = k.key and period = k.period
        and period_start = k.start for update;
  end loop;
  for k in select distinct x->>'t' as t, x->>'account' as account, x->>'w' as w
             from unnest(windows) x order by 1, 2, 3 loop
    perform 1 from fleet.window_state
      where tenant_id = k.t and account_id = k.account and window_name = k.w for update;
  end loop;

  for p in select value from jsonb_array_elements(ps) loop
    begin
      if p ? 'tokenId' and not exists (select 1 from fleet.api_tokens
          where id = p->>'tokenId' and revoked_at is null) then
        raise exception 'the token is unknown or revoked' using errcode = 'MB401';
      end if;
      answer := fleet.reservation_settle(p->>'tenant', p->>'id', p->>'to');
      answers := answers || jsonb_build_array(answer || jsonb_build_object('ok', true));
    exception
      when sqlstate 'MB404' or sqlstate 'MB409' or sqlstate 'MB401' then
        answers := answers || jsonb_build_array(
          jsonb_build_object('ok', false, 'code', sqlstate, 'message', sqlerrm));
    end;
  end loop;
  return answers;
end
$fn$`;

/** Row-by-row up-front locks in the two group-commit functions (see above). */
export const rowLocksMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql.raw(RESERVE_BATCH).execute(db);
    await sql.raw(SETTLE_BATCH).execute(db);
  },
};
