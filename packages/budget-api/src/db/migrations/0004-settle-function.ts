import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * `fleet.reservation_settle(tenant, id, to)`: releases or expires a reservation in a single statement
 * — the reservation row (locked first), then its ceiling holds in the order they were taken, then its
 * window % — so a release is one round trip instead of a six-statement transaction.
 *
 * Settling is idempotent: a reservation that is no longer live answers with its status and changes
 * nothing. Releasing a committed one raises `MB409` (its spend is in the ledger; nothing is held);
 * an unknown id (or another tenant's) raises `MB404`. Totals never go below zero, even if a bug
 * released twice. The answer also says whether the tenant has work waiting in the queue, so the
 * caller re-evaluates admission only when there is something to admit, and what was freed (account,
 * provider, amount, holds, window %), so the replica can keep its view of the register current.
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
    raise exception 'no reservation "%"', p_id using errcode = 'MB404';
  end if;
  if r.status = 'committed' and p_to <> 'expired' then
    raise exception 'reservation "%" is already committed', p_id using errcode = 'MB409';
  end if;
  if r.status <> 'live' then
    return jsonb_build_object('status', r.status, 'tenant', r.tenant_id, 'settled', false,
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

  return jsonb_build_object('status', p_to, 'tenant', r.tenant_id, 'settled', true,
    'waiting', exists (select 1 from fleet.queue_entries
                        where tenant_id = r.tenant_id and status = 'waiting'),
    'account', r.account_id, 'provider', r.provider, 'usd', r.usd::text, 'holds', r.holds,
    'windows', r.windows);
end
$fn$`;

/**
 * `fleet.reservation_settle_batch(ps jsonb)`: the group commit of releases — several concurrent
 * settlements (`[{tenant, id, to, tokenId?}]`) in one statement and one commit. Every row the batch
 * will change is locked first in the global order all writers use (reservation rows by id, then running
 * totals, then window rows), so batches on different replicas cannot deadlock; then each entry runs in
 * its own subtransaction and is answered alone: the settle answer, or `{ok: false, code, message}` for an
 * unknown reservation (`MB404`), a committed one (`MB409`) or a revoked token (`MB401`).
 */
const SETTLE_BATCH = `
create or replace function fleet.reservation_settle_batch(ps jsonb) returns jsonb
language plpgsql as $fn$
declare
  p jsonb;
  answers jsonb := '[]'::jsonb;
  answer jsonb;
begin
  perform 1 from fleet.reservations r
    where r.id in (select e->>'id' from jsonb_array_elements(ps) e)
    order by r.id for update;
  perform 1 from fleet.period_totals pt
    where (pt.tenant_id, pt.scope, pt.key, pt.period, pt.period_start) in (
      select r.tenant_id, h->>'scope', h->>'key', h->>'period', (h->>'periodStart')::timestamptz
        from fleet.reservations r, jsonb_array_elements(r.holds) h
       where r.id in (select e->>'id' from jsonb_array_elements(ps) e) and r.status = 'live')
    order by pt.tenant_id, pt.scope, pt.key, pt.period, pt.period_start for update;
  perform 1 from fleet.window_state w
    where (w.tenant_id, w.account_id, w.window_name) in (
      select r.tenant_id, r.account_id, h->>'window'
        from fleet.reservations r, jsonb_array_elements(r.windows) h
       where r.id in (select e->>'id' from jsonb_array_elements(ps) e) and r.status = 'live')
    order by w.tenant_id, w.account_id, w.window_name for update;

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

/** The one-statement release and expiry of a reservation (see {@link SETTLE}, {@link SETTLE_BATCH}). */
export const settleFunctionMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await sql.raw(SETTLE).execute(db);
    await sql.raw(SETTLE_BATCH).execute(db);
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await sql.raw('drop function if exists fleet.reservation_settle_batch(jsonb)').execute(db);
    await sql.raw('drop function if exists fleet.reservation_settle(text, text, text)').execute(db);
  },
};
