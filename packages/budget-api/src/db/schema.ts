import type { ColumnType, Generated, JSONColumnType } from 'kysely';
import type { EstimatorCell } from '@mosaic/budget-core';

// NUMERIC and BIGINT arrive as strings from pg (and as strings or numbers from PGlite); they are
// written as strings so no binary float ever touches money.
type Numeric = ColumnType<string, string, string>;
type BigCount = ColumnType<string | number, number | string, number | string>;
type Timestamp = ColumnType<Date | string, Date | string, Date | string>;
type TimestampDefault = ColumnType<Date | string, Date | string | undefined, Date | string>;

/** `fleet.tenants`: one row per tenant; `config_version` moves on every policy/account/authorization change. */
export interface TenantsTable {
  id: string;
  config_version: ColumnType<string | number, number | undefined, number | string>;
  created_at: TimestampDefault;
}

/** `fleet.api_tokens`: bearer tokens as SHA-256 hashes, never the token itself. */
export interface ApiTokensTable {
  id: string;
  tenant_id: string;
  token_hash: string;
  scopes: JSONColumnType<string[]>;
  name: string | null;
  created_at: TimestampDefault;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

/** `fleet.accounts`: accounts the fleet can spend on. */
export interface AccountsTable {
  tenant_id: string;
  id: string;
  provider: string;
  kind: string;
  models: JSONColumnType<string[]>;
  timezone: string;
  ceiling_usd: Numeric | null;
  ceiling_period: string | null;
  concurrency: number | null;
  updated_at: TimestampDefault;
  updated_by: string;
}

/** `fleet.account_windows`: the limit windows of each account. */
export interface AccountWindowsTable {
  tenant_id: string;
  account_id: string;
  name: string;
  position: number;
  length: string;
  rolling: boolean;
  models: JSONColumnType<string[] | null>;
  capacity_usd: Numeric | null;
}

/** `fleet.policies`: every version of every tenant's policy, with who and when. */
export interface PoliciesTable {
  tenant_id: string;
  version: number;
  document: ColumnType<unknown, string, string>;
  created_at: TimestampDefault;
  created_by: string;
}

/** `fleet.usage_signals`: every usage-vs-limit observation received, as an audit trail. */
export interface UsageSignalsTable {
  id: Generated<string>;
  tenant_id: string;
  account_id: string;
  window_name: string;
  used_percent: Numeric;
  reset_at: Timestamp | null;
  confidence: string;
  observed_at: Timestamp;
  source: string | null;
  received_at: TimestampDefault;
}

/** `fleet.window_state`: the current state of each window (newest signal, held reset, reservations). */
export interface WindowStateTable {
  tenant_id: string;
  account_id: string;
  window_name: string;
  used_percent: Numeric;
  observed_at: Timestamp;
  reset_at: Timestamp | null;
  reset_confidence: string;
  started_at: Timestamp | null;
  unsignaled_usd: ColumnType<string, string | undefined, string>;
  reserved_percent: ColumnType<string, string | undefined, string>;
}

/** `fleet.spend_ledger`: every spend record, projected or actual; append-only. */
export interface SpendLedgerTable {
  id: Generated<string>;
  tenant_id: string;
  idempotency_key: string;
  content_hash: string;
  host: string;
  agent: string;
  mission: string | null;
  task: string;
  task_class: string;
  provider: string;
  account_id: string;
  model: string;
  input_tokens: BigCount;
  output_tokens: BigCount;
  cache_read_tokens: BigCount;
  cache_write_tokens: BigCount;
  usd: Numeric;
  kind: string;
  occurred_at: Timestamp;
  recorded_at: TimestampDefault;
  reservation_id: string | null;
  late: ColumnType<boolean, boolean | undefined, boolean>;
}

/** `fleet.period_totals`: running totals per account or provider and calendar period. */
export interface PeriodTotalsTable {
  tenant_id: string;
  scope: string;
  key: string;
  period: string;
  period_start: Timestamp;
  period_end: Timestamp;
  committed_usd: ColumnType<string, string | undefined, string>;
  reserved_usd: ColumnType<string, string | undefined, string>;
  projected_usd: ColumnType<string, string | undefined, string>;
}

/** `fleet.inflight`: tasks in flight per tenant, provider and account (live reservations). */
export interface InflightTable {
  tenant_id: string;
  scope: string;
  key: string;
  count: number;
}

/** `fleet.authorizations`: explicit permissions to spend faster or beyond a ceiling. */
export interface AuthorizationsTable {
  tenant_id: string;
  id: string;
  document: ColumnType<unknown, string, string>;
  created_at: TimestampDefault;
  created_by: string;
  revoked_at: Timestamp | null;
}

/** `fleet.reservations`: what admitted tasks hold until commit, release or expiry. */
export interface ReservationsTable {
  id: string;
  tenant_id: string;
  task_id: string;
  account_id: string;
  provider: string;
  model: string;
  usd: Numeric;
  windows: JSONColumnType<{ window: string; percent: string }[]>;
  holds: JSONColumnType<HoldRef[]>;
  status: string;
  decision: string;
  created_at: TimestampDefault;
  expires_at: Timestamp;
  settled_at: Timestamp | null;
  late: ColumnType<boolean, boolean | undefined, boolean>;
  request: ColumnType<unknown, string, string>;
  committed_usd: Numeric | null;
}

/** A running-total row a reservation holds USD in (so commit and release free exactly that). */
export interface HoldRef {
  scope: string;
  key: string;
  period: string;
  periodStart: string;
}

/** `fleet.queue_entries`: gate requests waiting for capacity. */
export interface QueueEntriesTable {
  id: string;
  tenant_id: string;
  task_id: string;
  request: ColumnType<unknown, string, string>;
  account_id: string | null;
  model: string | null;
  priority: number;
  status: string;
  retry_at: Timestamp | null;
  deadline: Timestamp | null;
  reservation_id: string | null;
  reason: string;
  created_at: TimestampDefault;
  updated_at: TimestampDefault;
}

/** `fleet.gate_decisions`: the audit trail of every gate decision with its trace. */
export interface GateDecisionsTable {
  id: Generated<string>;
  tenant_id: string;
  task_id: string;
  decision: string;
  account_id: string | null;
  model: string | null;
  reason: string;
  trace: ColumnType<unknown, string, string>;
  reservation_id: string | null;
  queue_id: string | null;
  created_at: TimestampDefault;
}

/** `fleet.estimator_cells`: the core's estimator cell per (tenant, task class, model). */
export interface EstimatorCellsTable {
  tenant_id: string;
  task_class: string;
  model: string;
  cell: JSONColumnType<EstimatorCell>;
  updated_at: TimestampDefault;
}

/** The whole `fleet` schema as kysely sees it (tables are addressed as `fleet.<name>`). */
export interface FleetDatabase {
  'fleet.tenants': TenantsTable;
  'fleet.api_tokens': ApiTokensTable;
  'fleet.accounts': AccountsTable;
  'fleet.account_windows': AccountWindowsTable;
  'fleet.policies': PoliciesTable;
  'fleet.usage_signals': UsageSignalsTable;
  'fleet.window_state': WindowStateTable;
  'fleet.spend_ledger': SpendLedgerTable;
  'fleet.period_totals': PeriodTotalsTable;
  'fleet.inflight': InflightTable;
  'fleet.authorizations': AuthorizationsTable;
  'fleet.reservations': ReservationsTable;
  'fleet.queue_entries': QueueEntriesTable;
  'fleet.gate_decisions': GateDecisionsTable;
  'fleet.estimator_cells': EstimatorCellsTable;
}
