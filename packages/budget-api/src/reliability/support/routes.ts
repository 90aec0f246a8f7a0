import { sql } from 'kysely';
import type { Scope } from '../../auth/scopes.js';
import type { FleetDb } from '../../db/database.js';

/** One authenticated route of the service, with the scope it needs and a plausible request. */
export interface RouteCase {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** The path, with `:id` where the route takes one. */
  path: string;
  scope: Scope;
  /** Whether it can change the register. */
  writes: boolean;
}

/** Every `/v1` route (the contract of issues 4 and 5). */
export const ROUTES: RouteCase[] = [
  { method: 'POST', path: '/v1/spend', scope: 'ingest', writes: true },
  { method: 'POST', path: '/v1/usage-signals', scope: 'ingest', writes: true },
  { method: 'GET', path: '/v1/accounts', scope: 'read', writes: false },
  { method: 'PUT', path: '/v1/accounts/:id', scope: 'admin', writes: true },
  { method: 'PUT', path: '/v1/accounts/:id/reset', scope: 'admin', writes: true },
  { method: 'GET', path: '/v1/policy', scope: 'read', writes: false },
  { method: 'PUT', path: '/v1/policy', scope: 'admin', writes: true },
  { method: 'POST', path: '/v1/authorizations', scope: 'admin', writes: true },
  { method: 'GET', path: '/v1/authorizations', scope: 'read', writes: false },
  { method: 'DELETE', path: '/v1/authorizations/:id', scope: 'admin', writes: true },
  { method: 'GET', path: '/v1/ledger', scope: 'read', writes: false },
  { method: 'GET', path: '/v1/pace', scope: 'read', writes: false },
  { method: 'GET', path: '/v1/reports/spend.md', scope: 'read', writes: false },
  { method: 'POST', path: '/v1/gate', scope: 'gate', writes: true },
  { method: 'POST', path: '/v1/reservations/:id/commit', scope: 'gate', writes: true },
  { method: 'POST', path: '/v1/reservations/:id/release', scope: 'gate', writes: true },
  { method: 'GET', path: '/v1/queue/:id', scope: 'gate', writes: false },
  { method: 'GET', path: '/v1/queue', scope: 'read', writes: false },
];

/** The tables a hostile or foreign request must leave untouched, counted per tenant. */
export const REGISTER_TABLES = [
  'fleet.spend_ledger',
  'fleet.usage_signals',
  'fleet.accounts',
  'fleet.policies',
  'fleet.authorizations',
  'fleet.reservations',
  'fleet.queue_entries',
  'fleet.gate_decisions',
  'fleet.period_totals',
  'fleet.window_state',
] as const;

/** A fingerprint of everything a tenant holds in the register (changes when any of its rows does). */
export async function tenantFingerprint(db: FleetDb, tenant: string): Promise<string> {
  const parts: string[] = [];
  for (const table of REGISTER_TABLES) {
    const r = await sql<{ h: string }>`
      select md5(coalesce(string_agg(x::text, '|' order by x::text), '')) as h
      from ${sql.table(table)} x where x.tenant_id = ${tenant}`.execute(db);
    parts.push(`${table}:${r.rows[0]?.h ?? ''}`);
  }
  return parts.join(',');
}
