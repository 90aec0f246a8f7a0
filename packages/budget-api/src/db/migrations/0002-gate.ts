import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

const STATEMENTS = [
  `create table fleet.reservations (
     id text primary key,
     tenant_id text not null references fleet.tenants(id),
     task_id text not null,
     account_id text not null,
     provider text not null,
     model text not null,
     usd numeric not null check (usd >= 0),
     windows jsonb not null,
     holds jsonb not null,
     status text not null check (status in ('live', 'committed', 'released', 'expired')),
     decision text not null,
     created_at timestamptz not null default now(),
     expires_at timestamptz not null,
     settled_at timestamptz,
     late boolean not null default false,
     request jsonb not null,
     committed_usd numeric)`,
  // A task holds at most one live reservation: the second of two racing retries fails here.
  `create unique index reservations_live_task on fleet.reservations (tenant_id, task_id) where status = 'live'`,
  `create index reservations_expiry on fleet.reservations (expires_at) where status = 'live'`,
  `create index reservations_task on fleet.reservations (tenant_id, task_id, created_at desc)`,
  `create table fleet.queue_entries (
     id text primary key,
     tenant_id text not null references fleet.tenants(id),
     task_id text not null,
     request jsonb not null,
     account_id text,
     model text,
     priority integer not null,
     status text not null check (status in ('waiting', 'admitted', 'refused', 'expired')),
     retry_at timestamptz,
     deadline timestamptz,
     reservation_id text,
     reason text not null,
     created_at timestamptz not null default now(),
     updated_at timestamptz not null default now())`,
  `create unique index queue_waiting_task on fleet.queue_entries (tenant_id, task_id) where status = 'waiting'`,
  `create index queue_waiting_order on fleet.queue_entries (tenant_id, priority desc, created_at) where status = 'waiting'`,
  `create table fleet.gate_decisions (
     id bigserial primary key,
     tenant_id text not null,
     task_id text not null,
     decision text not null,
     account_id text,
     model text,
     reason text not null,
     trace jsonb not null,
     reservation_id text,
     queue_id text,
     created_at timestamptz not null default now())`,
  `create index gate_decisions_task on fleet.gate_decisions (tenant_id, task_id, created_at desc)`,
];

/** The gate: reservations, the queue and the audit trail of decisions. */
export const gateMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
  },
};
