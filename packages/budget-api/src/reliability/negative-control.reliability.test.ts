import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { Decimal } from 'decimal.js';
import { dec } from '@mosaic/budget-core';
import { relDatabase, RUN_POSTGRES, type RelDatabase } from './support/postgres.js';
import {
  ledgerAndTotals,
  overspendViolations,
  runOverspendLoad,
  SCENARIO,
  TotalsSampler,
  type GateDriver,
} from './support/overspend.js';

// Test 12: the same load and the same checks as test 1, against a deliberately naive reservation that
// reads the total and then writes it in two statements. If test 1's checks could not catch this, they
// would prove nothing; this file shows they do. The naive gate exists only here, never in the service.
const TENANT = 'naive';

function naiveGate(db: RelDatabase['database']['db']): GateDriver {
  const held = new Map<string, Decimal>();
  return {
    gate: async (_i, _taskId, usd) => {
      // The bug under test: a check on a value read earlier, then an unconditional write.
      const row = await sql<{ used: string; inflight: number }>`
        select (t.committed_usd + t.reserved_usd)::text as used, i.count as inflight
        from fleet.period_totals t, fleet.inflight i
        where t.tenant_id = ${TENANT} and t.key = ${SCENARIO.account}
          and i.tenant_id = ${TENANT} and i.key = ${SCENARIO.account}`.execute(db);
      const now = row.rows[0];
      if (!now) return { status: 500 };
      if (dec(now.used).plus(usd).gt(SCENARIO.ceilingUsd) || now.inflight >= SCENARIO.concurrency)
        return { status: 200 };
      await sql`update fleet.period_totals set reserved_usd = reserved_usd + ${usd.toString()}::numeric
        where tenant_id = ${TENANT} and key = ${SCENARIO.account}`.execute(db);
      await sql`update fleet.inflight set count = count + 1 where tenant_id = ${TENANT} and key = ${SCENARIO.account}`.execute(
        db,
      );
      const id = randomUUID();
      held.set(id, usd);
      return { status: 200, reservationId: id };
    },
    commit: async (_i, id, usd) => {
      const estimate = held.get(id);
      if (!estimate) return 404;
      held.delete(id);
      await sql`update fleet.period_totals
        set reserved_usd = reserved_usd - ${estimate.toString()}::numeric, committed_usd = committed_usd + ${usd.toString()}::numeric
        where tenant_id = ${TENANT} and key = ${SCENARIO.account}`.execute(db);
      await sql`update fleet.inflight set count = count - 1 where tenant_id = ${TENANT} and key = ${SCENARIO.account}`.execute(
        db,
      );
      await sql`insert into fleet.spend_ledger (tenant_id, idempotency_key, content_hash, host, agent, task, task_class,
          provider, account_id, model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, usd, kind, occurred_at)
        values (${TENANT}, ${id}, 'x', 'h', 'a', ${id}, 'feature', ${SCENARIO.provider}, ${SCENARIO.account}, 'claude-sonnet-4',
          0, 0, 0, 0, ${usd.toString()}::numeric, 'actual', now())`.execute(db);
      return 200;
    },
    release: async (_i, id) => {
      const estimate = held.get(id);
      if (!estimate) return 404;
      held.delete(id);
      await sql`update fleet.period_totals set reserved_usd = reserved_usd - ${estimate.toString()}::numeric
        where tenant_id = ${TENANT} and key = ${SCENARIO.account}`.execute(db);
      await sql`update fleet.inflight set count = count - 1 where tenant_id = ${TENANT} and key = ${SCENARIO.account}`.execute(
        db,
      );
      return 200;
    },
  };
}

describe.skipIf(!RUN_POSTGRES)('negative control: a naive read-then-write reservation [postgres]', () => {
  let rel: RelDatabase | undefined;

  beforeAll(async () => {
    // A pool as wide as the service's: the naive gate gets the same real parallelism.
    rel = await relDatabase('naive', { poolSize: 16 });
    const db = rel.database.db;
    await sql`insert into fleet.tenants (id) values (${TENANT})`.execute(db);
    await sql`insert into fleet.period_totals (tenant_id, scope, key, period, period_start, period_end)
      values (${TENANT}, 'account', ${SCENARIO.account}, 'P1D', '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z')`.execute(
      db,
    );
    await sql`insert into fleet.inflight (tenant_id, scope, key, count) values (${TENANT}, 'account', ${SCENARIO.account}, 0)`.execute(
      db,
    );
  }, 120_000);

  afterAll(async () => {
    await rel?.drop();
  });

  it("fails test 1's checks (it exceeds a limit under the same load), so test 1 can catch what it claims to", async () => {
    const db = rel!.database.db;
    const sampler = new TotalsSampler(db, SCENARIO.account, 'counter');
    const run = await runOverspendLoad(naiveGate(db), sampler, { seed: 7, requests: 2_000, concurrency: 64 });
    const report = {
      ...run,
      samples: sampler.samples,
      maxUsedUsd: sampler.maxUsed,
      maxInflight: sampler.maxInflight,
      minReservedUsd: sampler.minReserved,
      ...(await ledgerAndTotals(db)),
    };
    const violations = overspendViolations(report);
    console.info(`[reliability:negative-control] violations=${JSON.stringify(violations)}`);
    expect(violations.some((v) => v.includes('> ceiling') || v.includes('> limit'))).toBe(true);
  }, 300_000);
});
