import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * The group-commit functions without a subtransaction per entry. Migrations 0003/0004/0006 ran each
 * entry in a `BEGIN … EXCEPTION` block so a refused entry could be undone alone. But the batch locks
 * its rows up front in the parent transaction, so every entry's update of a locked row was made by a
 * subtransaction of the locker: PostgreSQL then records both in a MultiXact, and each entry also
 * paid for its savepoint. Now each entry is first checked with reads only — under the batch's locks
 * nothing it reads can change before its writes — and written only if everything holds; a refused
 * entry writes nothing and is answered with its code, as before. The answers, the lock order and the
 * exactness are unchanged: every limit is checked on the newest row under its lock, and the writes
 * re-assert the ceiling (a disagreement aborts the whole batch rather than overspend).
 *
 * `fleet.gate_reserve_check(p)`: null when entry `p` may be taken, else `{code, message}` (`MB401`
 * token revoked, `MB002` configuration moved, `MB003` task held, `MB001` a limit no longer holds).
 * `fleet.gate_reserve_apply(p)`: takes it; null when a live reservation for the task appeared (the
 * partial unique index, e.g. another replica's retry of the same task committed first). They replace
 * migration 0003's `fleet.gate_reserve_one`, which is dropped. Like migration 0006 this one has no
 * `down`: the migrator only moves forward, and a rollback is a new migration.
 */
/** Live reservations in a concurrency scope (`tenant` with key `*`, `account`, `provider`). */
const LIVE_RESERVATIONS = `
create or replace function fleet.live_reservations(t text, p_scope text, p_key text) returns integer
language sql stable as $fn$
  select count(*)::integer from fleet.reservations r
   where r.tenant_id = t and r.status = 'live'
     and (p_scope = 'tenant'
          or (p_scope = 'account' and r.account_id = p_key)
          or (p_scope = 'provider' and r.provider = p_key))
$fn$`;

const RESERVE_CHECK = `
create or replace function fleet.gate_reserve_check(p jsonb) returns jsonb
language plpgsql as $fn$
declare
  t text := p->>'tenantId';
  amount numeric := (p->>'usd')::numeric;
  g jsonb;
  n integer;
  fits boolean;
begin
  if p ? 'tokenId' and not exists (select 1 from fleet.api_tokens
      where id = p->>'tokenId' and tenant_id = t and revoked_at is null) then
    return jsonb_build_object('code', 'MB401', 'message', 'the token is unknown or revoked');
  end if;
  if p ? 'version' and coalesce((select config_version from fleet.tenants where id = t), 0)
      <> (p->>'version')::bigint then
    return jsonb_build_object('code', 'MB002', 'message', 'the configuration changed since the decision');
  end if;
  if coalesce((p->>'checkTask')::boolean, false) and (
      exists (select 1 from fleet.reservations
               where tenant_id = t and task_id = p->>'taskId' and status in ('live', 'committed'))
      or exists (select 1 from fleet.queue_entries
                  where tenant_id = t and task_id = p->>'taskId' and status = 'waiting')) then
    return jsonb_build_object('code', 'MB003',
      'message', 'the task already holds a reservation or a queue entry');
  end if;
  -- The batch holds each limited scope's concurrency row, so no other writer adds a live reservation
  -- to it until this transaction ends; the count is taken in a fresh statement after that lock.
  for g in select value from jsonb_array_elements(p->'concurrency') loop
    n := fleet.live_reservations(t, g->>'scope', g->>'key');
    if n + 1 > (g->>'limit')::integer then
      return jsonb_build_object('code', 'MB001', 'message',
        format('a concurrent reservation took the room first (%s concurrency %s)', g->>'scope', g->>'key'));
    end if;
  end loop;
  for g in select value from jsonb_array_elements(p->'ceilings') loop
    select committed_usd + reserved_usd + amount <= (g->>'limit')::numeric into fits
      from fleet.period_totals
     where tenant_id = t and scope = g->>'scope' and key = g->>'key' and period = g->>'period'
       and period_start = (g->>'start')::timestamptz;
    if fits is not true then
      return jsonb_build_object('code', 'MB001', 'message',
        format('a concurrent reservation took the room first (%s ceiling %s)', g->>'scope', g->>'key'));
    end if;
  end loop;
  return null;
end
$fn$`;

const RESERVE_APPLY = `
create or replace function fleet.gate_reserve_apply(p jsonb) returns timestamptz
language plpgsql as $fn$
declare
  t text := p->>'tenantId';
  amount numeric := (p->>'usd')::numeric;
  expires timestamptz;
  g jsonb;
begin
  insert into fleet.reservations
    (id, tenant_id, task_id, account_id, provider, model, usd, windows, holds, status, decision,
     expires_at, request)
  values
    (p->>'id', t, p->>'taskId', p->>'account', p->>'provider', p->>'model', amount, p->'windows',
     p->'holds', 'live', p->>'decision', now() + (p->>'ttlMs')::bigint * interval '1 millisecond',
     p->'request')
  on conflict do nothing
  returning expires_at into expires;
  if expires is null then
    return null;
  end if;

  if p ? 'audit' then
    insert into fleet.gate_decisions
      (tenant_id, task_id, decision, account_id, model, reason, trace, reservation_id, queue_id)
    values
      (t, p->>'taskId', p->'audit'->>'decision', p->'audit'->>'account', p->'audit'->>'model',
       p->'audit'->>'reason', p->'audit'->'trace', p->>'id', p->'audit'->>'queueId');
  end if;

  for g in select value from jsonb_array_elements(p->'concurrency') loop
    update fleet.inflight set count = fleet.live_reservations(t, g->>'scope', g->>'key')
      where tenant_id = t and scope = g->>'scope' and key = g->>'key';
  end loop;

  for g in select value from jsonb_array_elements(p->'ceilings') loop
    update fleet.period_totals set reserved_usd = reserved_usd + amount
      where tenant_id = t and scope = g->>'scope' and key = g->>'key' and period = g->>'period'
        and period_start = (g->>'start')::timestamptz
        and committed_usd + reserved_usd + amount <= (g->>'limit')::numeric;
    if not found then
      -- The check just passed under the same lock: this is a bug, and the batch must not overspend.
      raise exception 'gate_reserve_apply: the % ceiling % no longer fits after its check',
        g->>'scope', g->>'key';
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

const RESERVE_BATCH = `
create or replace function fleet.gate_reserve(ps jsonb) returns jsonb
language plpgsql as $fn$
declare
  p jsonb;
  k record;
  answers jsonb[] := '{}';
  refused jsonb;
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
  -- Row by row through each primary key, in the global order (see migration 0006).
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
    refused := fleet.gate_reserve_check(p);
    if refused is null then
      expires := fleet.gate_reserve_apply(p);
      if expires is null then
        refused := jsonb_build_object('code', 'MB003',
          'message', 'the task already holds a reservation or a queue entry');
      end if;
    end if;
    answers := answers || coalesce(refused || jsonb_build_object('ok', false),
                                   jsonb_build_object('ok', true, 'expiresAt', expires));
  end loop;
  return to_jsonb(answers);
end
$fn$`;

/**
 * `fleet.reservation_settle(tenant, id, to)` as in migration 0004, except that an unknown reservation
 * (`MB404`) or a release of a committed one (`MB409`) is answered `{ok: false, code, message}` instead
 * of raised: the rules live here once, and the batch below needs no subtransaction to survive them.
 * Every other answer carries `ok: true`.
 */
const SETTLE = `
create or replace function fleet.reservation_settle(p_tenant text, p_id text, p_to text) returns jsonb
language plpgsql as $fn$
declare
  r fleet.reservations%rowtype;
  h jsonb;
begin
  select * into r from fleet.reservations
    where id = p_id and (p_tenant is null or tenant_id = p_tenant)
    for update;
  if not found then
    return jsonb_build_object('ok', false, 'code', 'MB404',
      'message', format('no reservation "%s"', p_id));
  end if;
  if r.status = 'committed' and p_to <> 'expired' then
    return jsonb_build_object('ok', false, 'code', 'MB409',
      'message', format('reservation "%s" is already committed', p_id));
  end if;
  if r.status <> 'live' then
    return jsonb_build_object('ok', true, 'status', r.status, 'tenant', r.tenant_id, 'settled', false,
                              'waiting', false);
  end if;

  update fleet.reservations set status = p_to, settled_at = now() where id = p_id;
  -- The holds were stored in the order every writer locks ceiling rows in.
  for h in select value from jsonb_array_elements(r.holds) loop
    update fleet.period_totals set reserved_usd = greatest(reserved_usd - r.usd, 0)
      where tenant_id = r.tenant_id and scope = h->>'scope' and key = h->>'key'
        and period = h->>'period' and period_start = (h->>'periodStart')::timestamptz;
  end loop;
  for h in select value from jsonb_array_elements(r.windows) order by value->>'window' loop
    update fleet.window_state
       set reserved_percent = greatest(reserved_percent - (h->>'percent')::numeric, 0)
     where tenant_id = r.tenant_id and account_id = r.account_id and window_name = h->>'window';
  end loop;

  return jsonb_build_object('ok', true, 'status', p_to, 'tenant', r.tenant_id, 'settled', true,
    'waiting', exists (select 1 from fleet.queue_entries
                        where tenant_id = r.tenant_id and status = 'waiting'),
    'account', r.account_id, 'provider', r.provider, 'usd', r.usd::text, 'holds', r.holds,
    'windows', r.windows);
end
$fn$`;

/**
 * `fleet.reservation_settle_batch(ps jsonb)` without subtransactions: the rows are locked up front as
 * in migration 0006, and each entry is answered by `fleet.reservation_settle` (which no longer
 * raises) or, when its caller's token was revoked, `MB401` without settling.
 */
const SETTLE_BATCH = `
create or replace function fleet.reservation_settle_batch(ps jsonb) returns jsonb
language plpgsql as $fn$
declare
  p jsonb;
  k record;
  r fleet.reservations%rowtype;
  held jsonb[] := '{}';
  windows jsonb[] := '{}';
  answers jsonb[] := '{}';
begin
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
    if p ? 'tokenId' and not exists (select 1 from fleet.api_tokens
        where id = p->>'tokenId' and revoked_at is null) then
      answers := answers || jsonb_build_object('ok', false, 'code', 'MB401',
        'message', 'the token is unknown or revoked');
    else
      answers := answers || fleet.reservation_settle(p->>'tenant', p->>'id', p->>'to');
    end if;
  end loop;
  return to_jsonb(answers);
end
$fn$`;

/** The group-commit functions without a subtransaction per entry (see above). */
export const noSubtransactionsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql.raw(LIVE_RESERVATIONS).execute(db);
    await sql.raw(RESERVE_CHECK).execute(db);
    await sql.raw(RESERVE_APPLY).execute(db);
    await sql.raw(RESERVE_BATCH).execute(db);
    await sql.raw(SETTLE).execute(db);
    await sql.raw(SETTLE_BATCH).execute(db);
    await sql.raw('drop function fleet.gate_reserve_one(jsonb)').execute(db);
  },
};
