import { sql } from 'kysely';
import { DateTime } from 'luxon';
import type { FleetDb } from '../db/database.js';
import type { ConfigCache } from './config-cache.js';
import { readPaceState } from '../observability/pace-state.js';
import { iso } from './wire.js';

const msIso = (ms: number): string => iso(DateTime.fromMillis(ms, { zone: 'utc' }));

/**
 * `GET /v1/pace`: per account and window, the core's pace (used %, target %/day, ideal vs actual,
 * ahead or behind, headroom, projected exhaustion, reset and its confidence), the ceiling period's
 * totals and the tasks in flight. Read-only; every number comes from the core's `paceWindow`.
 */
export async function paceReport(
  db: FleetDb,
  tenantId: string,
  configs: ConfigCache,
  now: DateTime,
  accountId?: string,
): Promise<unknown> {
  const [views, live] = await Promise.all([
    readPaceState(db, configs, now, [tenantId]),
    db
      .selectFrom('fleet.reservations')
      .select(['account_id', sql<string>`count(*)::text`.as('n')])
      .where('tenant_id', '=', tenantId)
      .where('status', '=', 'live')
      .groupBy('account_id')
      .execute(),
  ]);
  return {
    at: iso(now),
    accounts: views
      .filter((v) => accountId === undefined || v.account.id === accountId)
      .map((v) => ({
        account: v.account.id,
        provider: v.account.provider,
        inflight: Number(live.find((l) => l.account_id === v.account.id)?.n ?? 0),
        queueDepth: v.queueDepth,
        windows: v.windows
          .filter((w) => w.signalled)
          .map((w) => ({
            window: w.window,
            usedPercent: w.pace.usedPercent.toString(),
            reservedPercent: w.pace.reservedPercent.toString(),
            idealPercent: w.pace.idealPercent.toFixed(4),
            leadPercent: w.pace.leadPercent.toFixed(4),
            status: w.pace.status,
            targetPerDayPercent: w.pace.targetPerDayPercent.toFixed(4),
            targetPerHourPercent: w.pace.targetPerHourPercent.toFixed(4),
            headroomPercent: w.pace.headroomPercent.toFixed(4),
            start: iso(w.pace.start),
            resetAt: iso(w.pace.resetAt),
            resetConfidence: w.pace.confidence,
            ...(w.projectedExhaustionMs !== undefined
              ? {
                  projectedExhaustion: msIso(w.projectedExhaustionMs),
                  exhaustsBeforeReset: w.projectedExhaustionMs < w.pace.resetAt.toMillis(),
                }
              : {}),
          })),
        ...(v.ceiling
          ? {
              ceilingPeriod: {
                usd: v.ceiling.usd.toString(),
                period: v.ceiling.period,
                start: iso(v.ceiling.start),
                end: iso(v.ceiling.end),
                committedUsd: v.ceiling.committedUsd.toString(),
                reservedUsd: v.ceiling.reservedUsd.toString(),
              },
            }
          : {}),
      })),
  };
}
