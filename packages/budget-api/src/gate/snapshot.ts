import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DateTime } from 'luxon';
import type { Decimal } from 'decimal.js';
import {
  ZERO,
  impliedQuantumPercent,
  signalUpperBoundPercent,
  type Account,
  type AccountSnapshot,
  type EstimatorCell,
  type EstimatorState,
  type Ceiling,
  type Confidence,
  type PeriodTotals,
  type Snapshot,
  type WindowState,
} from '@mosaic/budget-core';
import type { FleetDatabase } from '../db/schema.js';
import { BudgetApiError } from '../errors.js';
import type { TenantConfig } from '../register/config-cache.js';
import { periodAt } from '../register/periods.js';
import { estimatorFromRows } from '../register/estimates.js';
import { instant, numeric } from '../register/wire.js';

/**
 * The ceiling that binds an account: its own, else the policy's entry for it. Which one applies is
 * configuration lookup, not a budgeting rule: the core's `decide` reads the same two places.
 */
export function accountCeiling(config: TenantConfig, account: Account): Ceiling | undefined {
  return account.ceiling ?? config.policy.policy.ceilings.accounts[account.id];
}

/** A current period-totals row as the statement returns it (amounts as decimal text). */
interface TotalsRow {
  scope: string;
  key: string;
  period: string;
  period_start: string;
  committed_usd: string;
  reserved_usd: string;
}

/** A window's state row as the statement returns it (amounts as decimal text, instants as ISO text). */
interface StateRow {
  account_id: string;
  window_name: string;
  used_percent: string;
  observed_at: string;
  unsignaled_usd: string;
  reserved_percent: string;
  reset_at: string | null;
  reset_confidence: string;
  started_at: string | null;
}

/** Live reservations per account and provider, as the statement returns them. */
interface InflightRow {
  account_id: string;
  provider: string;
  n: number;
}

/** A period's running totals, parsed. */
export interface HeldTotals {
  committedUsd: Decimal;
  reservedUsd: Decimal;
}

/** Live reservations, counted per account, per provider and in all. */
export interface Inflight {
  account: Map<string, number>;
  provider: Map<string, number>;
  total: number;
}

/** The reservation a task already holds (live, or committed: it ran), for a replayed answer. */
export interface HeldRow {
  id: string;
  decision: string;
  account_id: string;
  model: string;
  expires_at: string;
  usd: string;
  windows: { window: string; percent: string }[];
}

/** The queue entry a task already waits in, for a replayed answer. */
export interface WaitingRow {
  id: string;
  account_id: string | null;
  model: string | null;
  retry_at: string | null;
  reason: string;
}

/** Everything the gate reads before it decides, from one statement. */
export interface GateState {
  /** The database's clock: reservations and expiry use it, so replicas agree whatever their own say. */
  now: DateTime;
  /** The tenant's configuration version (a different one means the cached configuration is stale). */
  version: number;
  held?: HeldRow;
  waiting?: WaitingRow;
  /** Window states by {@link windowKey}, parsed once when read (decisions share them, never change them). */
  windows: Map<string, WindowState>;
  /** Live reservations. */
  inflight: Inflight;
  /** Running totals of the periods in force, by {@link totalsKey}. */
  totals: Map<string, HeldTotals>;
  /** What the tenant has learnt about task sizes (a commit drops a held state, so it stays current). */
  estimator: EstimatorState;
}

/** What {@link headColumns} selects. */
export interface HeadRow {
  now: Date | string;
  v: string | number;
  token_ok: boolean | null;
}

/**
 * The columns a statement that serves a request starts with: the database's clock (`now`), the
 * tenant's configuration version (`v`) and whether the caller's token is live (`token_ok`, null
 * without a token id). A route that confirms its own token (the auth hook may have taken it from
 * this replica's cache) reads them in the same statement as its own work; see {@link readHead}.
 */
export function headColumns(tenantId: string, tokenId: string | undefined): RawBuilder<unknown> {
  const token = tokenId ?? null;
  return sql`now() as now,
      coalesce((select config_version from fleet.tenants where id = ${tenantId}), 0) as v,
      (select revoked_at is null from fleet.api_tokens
        where ${token}::text is not null and id = ${token} and tenant_id = ${tenantId}) as token_ok`;
}

/** The clock and configuration version of a {@link headColumns} row; refuses a token no longer live. */
export function readHead(row: HeadRow, tokenId: string | undefined): { now: DateTime; version: number } {
  if (tokenId !== undefined && row.token_ok !== true) throw revokedToken();
  return { now: instant(row.now), version: Number(row.v) };
}

/**
 * Reads, in one statement and one round trip, everything a decision needs: the database's clock, the
 * tenant's configuration version, whether the caller's token is still live (when `tokenId` is given:
 * the auth hook may have taken it from this replica's cache), what the task already holds (a retry is answered with it), and the
 * register's small state tables — window states, live reservations per account, and the running
 * totals of periods that have not ended. Never the ledger, so its cost does not grow with history.
 * Amounts are cast to text inside the JSON so no decimal passes through a float.
 */
export async function readGateState(
  db: Kysely<FleetDatabase>,
  tenantId: string,
  taskId?: string,
  tokenId?: string,
): Promise<GateState> {
  const task = taskId ?? null;
  const result = await sql<
    HeadRow & {
      held: HeldRow | null;
      waiting: WaitingRow | null;
      states: StateRow[];
      inflight: InflightRow[];
      totals: TotalsRow[];
      cells: { task_class: string; model: string; cell: EstimatorCell }[];
    }
  >`
    select ${headColumns(tenantId, tokenId)},
      (select row_to_json(x) from (
         select id, decision, account_id, model, expires_at, usd::text as usd, windows
           from fleet.reservations
          where ${task}::text is not null and tenant_id = ${tenantId} and task_id = ${task}
            and status in ('live', 'committed')
          order by created_at desc limit 1) x) as held,
      (select row_to_json(x) from (
         select id, account_id, model, retry_at, reason
           from fleet.queue_entries
          where ${task}::text is not null and tenant_id = ${tenantId} and task_id = ${task}
            and status = 'waiting'
          limit 1) x) as waiting,
      (select coalesce(json_agg(x), '[]') from (
         select account_id, window_name, used_percent::text as used_percent, observed_at,
                unsignaled_usd::text as unsignaled_usd, reserved_percent::text as reserved_percent,
                reset_at, reset_confidence, started_at
           from fleet.window_state where tenant_id = ${tenantId}) x) as states,
      (select coalesce(json_agg(x), '[]') from (
         -- In flight = live reservations, counted from the source of truth (their number is bounded
         -- by the tasks running now, not by history), so no counter can drift from it.
         select account_id, provider, count(*)::int as n
           from fleet.reservations where tenant_id = ${tenantId} and status = 'live'
          group by account_id, provider) x) as inflight,
      (select coalesce(json_agg(x), '[]') from (
         select scope, key, period, period_start, committed_usd::text as committed_usd,
                reserved_usd::text as reserved_usd
           from fleet.period_totals where tenant_id = ${tenantId} and period_end > now()) x) as totals,
      (select coalesce(json_agg(x), '[]') from (
         select task_class, model, cell from fleet.estimator_cells where tenant_id = ${tenantId}) x) as cells
  `.execute(db);
  const row = result.rows[0];
  if (!row) throw new Error('the gate state query returned no row');
  return {
    ...readHead(row, tokenId),
    ...(row.held ? { held: row.held } : {}),
    ...(row.waiting ? { waiting: row.waiting } : {}),
    windows: parseWindows(row.states),
    inflight: parseInflight(row.inflight),
    totals: parseTotals(row.totals),
    estimator: estimatorFromRows(row.cells),
  };
}

// The rows are parsed once, when read, so a decision made on a held state parses nothing.
function parseWindows(rows: readonly StateRow[]): Map<string, WindowState> {
  const windows = new Map<string, WindowState>();
  for (const s of rows) {
    const reported = numeric(s.used_percent);
    windows.set(windowKey(s.account_id, s.window_name), {
      name: s.window_name,
      // A provider rounds its reading (to whole percent, say): 97 % may be 97.49 %. Pacing reads the
      // most it can mean, as the simulator that proves the pacer does; filling a window to 100 % of the
      // bare reading overruns it by up to the rounding.
      usedPercent: signalUpperBoundPercent(reported, impliedQuantumPercent(reported)),
      observedAt: instant(s.observed_at),
      unsignaledUsd: numeric(s.unsignaled_usd),
      reservedPercent: numeric(s.reserved_percent),
      ...(s.reset_at ? { resetAt: instant(s.reset_at) } : {}),
      confidence: s.reset_confidence as Confidence,
      ...(s.started_at ? { startedAt: instant(s.started_at) } : {}),
    });
  }
  return windows;
}

function parseInflight(rows: readonly InflightRow[]): Inflight {
  const inflight: Inflight = { account: new Map(), provider: new Map(), total: 0 };
  for (const r of rows) {
    const n = Number(r.n);
    inflight.account.set(r.account_id, (inflight.account.get(r.account_id) ?? 0) + n);
    inflight.provider.set(r.provider, (inflight.provider.get(r.provider) ?? 0) + n);
    inflight.total += n;
  }
  return inflight;
}

function parseTotals(rows: readonly TotalsRow[]): Map<string, HeldTotals> {
  const totals = new Map<string, HeldTotals>();
  for (const r of rows) {
    totals.set(totalsKey(r.scope, r.key, r.period, instant(r.period_start).toMillis()), {
      committedUsd: numeric(r.committed_usd),
      reservedUsd: numeric(r.reserved_usd),
    });
  }
  return totals;
}

/** The key a window state is found by: its account and name. */
export function windowKey(account: string, window: string): string {
  return `${account}\u0000${window}`;
}

/** The answer to a request whose token was revoked (or deleted) since this replica verified it. */
export function revokedToken(): BudgetApiError {
  return new BudgetApiError('BUDGET_ERR_UNAUTHENTICATED', 'the token is unknown or revoked');
}

/** The key a running-total row is found by: scope, key, period and the period's start (epoch ms). */
export function totalsKey(scope: string, key: string, period: string, startMs: number): string {
  return `${scope}\u0000${key}\u0000${period}\u0000${startMs}`;
}

/** A ceiling period in force: its bounds, and the key its running totals are found by. */
interface PlannedPeriod {
  start: DateTime;
  end: DateTime;
  key: string;
}

/**
 * What building a snapshot needs that depends only on the configuration and the ceiling periods in
 * force: each account's window keys and its ceiling period, each provider's. Computing these per
 * decision (calendar bounds and key strings for 100 accounts) was a tenth of the gate's CPU.
 */
export interface SnapshotPlan {
  /** The plan holds from the last of its periods' starts until the first of their ends. */
  validFromMs: number;
  validUntilMs: number;
  accounts: { account: Account; windowKeys: string[]; period?: PlannedPeriod }[];
  providers: { provider: string; period?: PlannedPeriod }[];
}

/** Builds the plan of a configuration at `now` (see {@link SnapshotPlan}). */
export function planSnapshot(config: TenantConfig, now: DateTime): SnapshotPlan {
  let validFromMs = Number.NEGATIVE_INFINITY;
  let validUntilMs = Number.POSITIVE_INFINITY;
  const planned = (
    scope: 'account' | 'provider',
    key: string,
    ceiling: Ceiling,
    zone: string,
  ): PlannedPeriod => {
    const { start, end } = periodAt(ceiling.period, zone, now);
    validFromMs = Math.max(validFromMs, start.toMillis());
    validUntilMs = Math.min(validUntilMs, end.toMillis());
    return { start, end, key: totalsKey(scope, key, ceiling.period, start.toMillis()) };
  };
  const accounts = config.accounts.map((account) => {
    const ceiling = accountCeiling(config, account);
    return {
      account,
      windowKeys: account.windows.map((spec) => windowKey(account.id, spec.name)),
      ...(ceiling ? { period: planned('account', account.id, ceiling, account.timezone) } : {}),
    };
  });
  const providers = [...new Set(config.accounts.map((a) => a.provider))].map((provider) => {
    const ceiling = config.policy.policy.ceilings.providers[provider];
    return { provider, ...(ceiling ? { period: planned('provider', provider, ceiling, 'UTC') } : {}) };
  });
  return { validFromMs, validUntilMs, accounts, providers };
}

/**
 * The current plan of each configuration, rebuilt when one of its periods ends. Keyed by the
 * configuration object: the configuration cache replaces it on every change, so a stale plan is
 * never found (and is collected with the configuration it belonged to).
 */
export class SnapshotPlans {
  private readonly plans = new WeakMap<TenantConfig, SnapshotPlan>();

  /** The plan for `config` at `now`. */
  for(config: TenantConfig, now: DateTime): SnapshotPlan {
    const held = this.plans.get(config);
    const ms = now.toMillis();
    if (held && ms >= held.validFromMs && ms < held.validUntilMs) return held;
    const plan = planSnapshot(config, now);
    this.plans.set(config, plan);
    return plan;
  }
}

function totalsOf(totals: ReadonlyMap<string, HeldTotals>, period: PlannedPeriod): PeriodTotals {
  const row = totals.get(period.key);
  return {
    start: period.start,
    end: period.end,
    committedUsd: row?.committedUsd ?? ZERO,
    reservedUsd: row?.reservedUsd ?? ZERO,
  };
}

/**
 * The snapshot `decide` reads, built from the gate state and the tenant's configuration. The state was
 * parsed when read, the plan holds everything that depends only on configuration and periods, and
 * every lookup is through a map: building it costs a few map reads per account and no parsing.
 */
export function snapshotFrom(
  state: GateState,
  config: TenantConfig,
  now: DateTime,
  plan: SnapshotPlan = planSnapshot(config, now),
): Snapshot {
  const accounts: AccountSnapshot[] = [];
  for (const p of plan.accounts) {
    const windows: WindowState[] = [];
    for (const key of p.windowKeys) {
      const s = state.windows.get(key);
      if (s) windows.push(s);
    }
    const snapshot: AccountSnapshot = {
      account: p.account,
      windows,
      inflight: state.inflight.account.get(p.account.id) ?? 0,
    };
    if (p.period) snapshot.period = totalsOf(state.totals, p.period);
    accounts.push(snapshot);
  }
  const providers: Snapshot['providers'] = {};
  for (const p of plan.providers) {
    providers[p.provider] = {
      inflight: state.inflight.provider.get(p.provider) ?? 0,
      ...(p.period ? { period: totalsOf(state.totals, p.period) } : {}),
    };
  }
  return {
    tenantId: config.tenantId,
    accounts,
    providers,
    tenantInflight: state.inflight.total,
    authorizations: config.authorizations,
  };
}

/** The database's clock, so expiry and reservations agree across replicas whatever their own clocks say. */
export async function databaseNow(db: Kysely<FleetDatabase>): Promise<Date> {
  const result = await sql<{ now: Date | string }>`select now() as now`.execute(db);
  const value = result.rows[0]?.now;
  return value instanceof Date ? value : new Date(String(value));
}
