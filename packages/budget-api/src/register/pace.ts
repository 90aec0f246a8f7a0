import type { DateTime } from 'luxon';
import type { FleetDb } from '../db/database.js';
import type { TenantConfig } from './config-cache.js';
import { buildSnapshot } from '../gate/snapshot.js';
import { iso } from './wire.js';

/** `GET /v1/pace`: each account's windows as the register holds them, and its ceiling period. */
export async function paceReport(
  db: FleetDb,
  tenantId: string,
  config: TenantConfig,
  now: DateTime,
  accountId?: string,
): Promise<unknown> {
  const snapshot = await buildSnapshot(db, tenantId, config, now);
  return {
    at: iso(now),
    accounts: snapshot.accounts
      .filter((a) => accountId === undefined || a.account.id === accountId)
      .map((a) => ({
        account: a.account.id,
        provider: a.account.provider,
        inflight: a.inflight,
        windows: a.windows.map((w) => ({
          window: w.name,
          usedPercent: w.usedPercent.toString(),
          reservedPercent: w.reservedPercent.toString(),
          observedAt: iso(w.observedAt),
          resetAt: w.resetAt ? iso(w.resetAt) : undefined,
          resetConfidence: w.confidence,
        })),
        ...(a.period
          ? {
              ceilingPeriod: {
                start: iso(a.period.start),
                end: iso(a.period.end),
                committedUsd: a.period.committedUsd.toString(),
                reservedUsd: a.period.reservedUsd.toString(),
              },
            }
          : {}),
      })),
  };
}
