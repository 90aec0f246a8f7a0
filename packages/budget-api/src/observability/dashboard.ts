import type { DateTime } from 'luxon';
import {
  LIMIT_PERCENT,
  addPeriods,
  idealPercentAt,
  type Account,
  type WindowSpec,
} from '@mosaic/budget-core';
import type { FleetDb } from '../db/database.js';
import type { ConfigCache } from '../register/config-cache.js';
import { instant, iso, isoOf, numeric } from '../register/wire.js';
import { readPaceState, type WindowView } from './pace-state.js';

// Points per period on the ideal line: the core's line is straight without a rapid authorization,
// so a few points draw it exactly; more would only cost bytes.
const IDEAL_POINTS = 24;
// Most usage signals one window's chart carries (the newest are kept).
const MAX_SIGNALS = 2_000;

/** A point of a chart: Unix seconds and a percentage of the window. */
export type ChartPoint = [number, number];

/** One window on the dashboard: the core's pace numbers and the series its chart draws. */
export interface DashboardWindow {
  window: string;
  usedPercent: string;
  reservedPercent: string;
  idealPercent: string;
  leadPercent: string;
  burstPercent: string;
  status: string;
  targetPerDayPercent: string;
  start: string;
  resetAt: string;
  resetConfidence: string;
  projectedExhaustionAt?: string;
  /** True when the projected exhaustion comes before the reset. */
  exhaustsBeforeReset: boolean;
  /** Signalled used % over the previous and current period, oldest first, ending with the current U. */
  usage: ChartPoint[];
  /** The ideal line over the previous and current period (0 at each start, 100 at each reset). */
  ideal: ChartPoint[];
  /**
   * The projection from now at the period's average rate, up to the exhaustion or the reset,
   * whichever comes first (empty before any usage).
   */
  projection: ChartPoint[];
  /** Resets shown on the chart, Unix seconds. */
  resets: number[];
}

/** The projected usage line: from (now, U) straight to 100% at the projected exhaustion, cut at the reset. */
function projectionLine(
  nowMs: number,
  used: number,
  exhaustionMs: number | undefined,
  resetMs: number,
): ChartPoint[] {
  if (exhaustionMs === undefined || exhaustionMs <= nowMs) return [];
  const endMs = Math.min(exhaustionMs, resetMs);
  const atEnd = used + ((100 - used) * (endMs - nowMs)) / (exhaustionMs - nowMs);
  return [
    [seconds(nowMs), used],
    [seconds(endMs), atEnd],
  ];
}

/** One account on the dashboard. */
export interface DashboardAccount {
  account: string;
  provider: string;
  kind: string;
  queueDepth: number;
  windows: DashboardWindow[];
  ceiling?: {
    usd: string;
    period: string;
    start: string;
    end: string;
    committedUsd: string;
    reservedUsd: string;
  };
}

function seconds(ms: number): number {
  return Math.round(ms / 1000);
}

/** The ideal line of one period, sampled through the core's `idealPercentAt`. */
function idealLine(startMs: number, resetMs: number): ChartPoint[] {
  const points: ChartPoint[] = [];
  for (let i = 0; i <= IDEAL_POINTS; i++) {
    const t = startMs + ((resetMs - startMs) * i) / IDEAL_POINTS;
    points.push([seconds(t), idealPercentAt(LIMIT_PERCENT, startMs, resetMs, t).toNumber()]);
  }
  return points;
}

/** The start of the period before the current one (fixed windows only; rolling ones have no schedule). */
function previousStartMs(spec: WindowSpec, account: Account, w: WindowView): number | undefined {
  if (spec.rolling) return undefined;
  const start = instant(new Date(w.pace.headroom.startMs)).setZone(account.timezone);
  return addPeriods(start, spec.length, -1).toMillis();
}

/**
 * `GET /v1/pace/history`: per account and window, the core's pace numbers and the usage signals of
 * the previous and current period with the ideal line, for the dashboard's charts. Reads the state
 * tables and the signal audit trail of the shown windows, never the ledger.
 */
export async function dashboardPace(
  db: FleetDb,
  configs: ConfigCache,
  tenant: string,
  now: DateTime,
  accountId?: string,
): Promise<{ at: string; accounts: DashboardAccount[] }> {
  const views = (await readPaceState(db, configs, now, [tenant])).filter(
    (v) => accountId === undefined || v.account.id === accountId,
  );
  const accounts: DashboardAccount[] = [];
  for (const v of views) {
    const windows: DashboardWindow[] = [];
    for (const w of v.windows) {
      const spec = v.account.windows.find((s) => s.name === w.window);
      if (!spec) continue;
      const startMs = w.pace.headroom.startMs;
      const resetMs = w.pace.headroom.resetMs;
      const prevMs = previousStartMs(spec, v.account, w);
      const fromMs = prevMs ?? startMs;
      const signals = await db
        .selectFrom('fleet.usage_signals')
        .select(['observed_at', 'used_percent'])
        .where('tenant_id', '=', tenant)
        .where('account_id', '=', v.account.id)
        .where('window_name', '=', w.window)
        .where('observed_at', '>=', new Date(fromMs))
        .where('observed_at', '<=', now.toJSDate())
        .orderBy('observed_at', 'desc')
        .limit(MAX_SIGNALS)
        .execute();
      const usage: ChartPoint[] = signals
        .reverse()
        .map((s) => [seconds(instant(s.observed_at).toMillis()), numeric(s.used_percent).toNumber()]);
      // The chart ends at now with U as the core computes it (signalled plus unsignaled spend).
      usage.push([seconds(now.toMillis()), w.pace.usedPercent.toNumber()]);
      // The previous period's line ends a second before the reset so the chart shows its drop to 0.
      const previous = prevMs !== undefined ? idealLine(prevMs, startMs) : [];
      const last = previous.at(-1);
      if (last) last[0] -= 1;
      const ideal = [...previous, ...idealLine(startMs, resetMs)];
      const exhaustion = w.projectedExhaustionMs;
      windows.push({
        window: w.window,
        usedPercent: w.pace.usedPercent.toString(),
        reservedPercent: w.pace.reservedPercent.toString(),
        idealPercent: w.pace.idealPercent.toString(),
        leadPercent: w.pace.leadPercent.toString(),
        burstPercent: w.pace.burstPercent.toString(),
        status: w.pace.status,
        targetPerDayPercent: w.pace.targetPerDayPercent.toString(),
        start: iso(w.pace.start),
        resetAt: iso(w.pace.resetAt),
        resetConfidence: w.pace.confidence,
        ...(exhaustion !== undefined ? { projectedExhaustionAt: isoOf(new Date(exhaustion)) } : {}),
        exhaustsBeforeReset: exhaustion !== undefined && exhaustion < resetMs,
        usage,
        ideal,
        projection: projectionLine(now.toMillis(), w.pace.usedPercent.toNumber(), exhaustion, resetMs),
        resets: [...(prevMs !== undefined ? [seconds(startMs)] : []), seconds(resetMs)],
      });
    }
    accounts.push({
      account: v.account.id,
      provider: v.account.provider,
      kind: v.account.kind,
      queueDepth: v.queueDepth,
      windows,
      ...(v.ceiling
        ? {
            ceiling: {
              usd: v.ceiling.usd.toString(),
              period: v.ceiling.period,
              start: iso(v.ceiling.start),
              end: iso(v.ceiling.end),
              committedUsd: v.ceiling.committedUsd.toString(),
              reservedUsd: v.ceiling.reservedUsd.toString(),
            },
          }
        : {}),
    });
  }
  return { at: iso(now), accounts };
}

/** One gate decision of the audit trail as the dashboard lists it. */
export interface DecisionEntry {
  id: string;
  taskId: string;
  decision: string;
  account?: string;
  model?: string;
  reason: string;
  reservationId?: string;
  queueId?: string;
  createdAt: string;
  /** The decision's trace; only when the list is filtered to one task (traces are large). */
  trace?: unknown;
}

/** `GET /v1/decisions`: the newest gate decisions of a tenant from the audit trail, newest first. */
export async function latestDecisions(
  db: FleetDb,
  tenant: string,
  limit: number,
  accountId?: string,
  taskId?: string,
): Promise<{ decisions: DecisionEntry[] }> {
  let q = db
    .selectFrom('fleet.gate_decisions')
    .select([
      'id',
      'task_id',
      'decision',
      'account_id',
      'model',
      'reason',
      'reservation_id',
      'queue_id',
      'created_at',
    ])
    .where('tenant_id', '=', tenant);
  if (accountId !== undefined) q = q.where('account_id', '=', accountId);
  if (taskId !== undefined) {
    // One task's history is what `mosaic budget explain` reads; it wants the whole trace.
    const rows = await q
      .select('trace')
      .where('task_id', '=', taskId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return { decisions: rows.map((r) => ({ ...entryOf(r), trace: r.trace })) };
  }
  const rows = await q.orderBy('id', 'desc').limit(limit).execute();
  return { decisions: rows.map(entryOf) };
}

interface DecisionRow {
  id: string;
  task_id: string;
  decision: string;
  account_id: string | null;
  model: string | null;
  reason: string;
  reservation_id: string | null;
  queue_id: string | null;
  created_at: Date | string;
}

function entryOf(r: DecisionRow): DecisionEntry {
  return {
    id: String(r.id),
    taskId: r.task_id,
    decision: r.decision,
    ...(r.account_id ? { account: r.account_id } : {}),
    ...(r.model ? { model: r.model } : {}),
    reason: r.reason,
    ...(r.reservation_id ? { reservationId: r.reservation_id } : {}),
    ...(r.queue_id ? { queueId: r.queue_id } : {}),
    createdAt: isoOf(r.created_at),
  };
}
