import { sql, type Kysely } from 'kysely';
import {
  estimateError,
  estimateTask,
  estimatorCells,
  recordActual,
  type ActualObservation,
  type EstimatorCell,
  type EstimatorState,
  type Policy,
} from '@mosaic/budget-core';
import type { FleetDatabase } from '../db/schema.js';

// The core keys its cells by class and model joined with NUL, which PostgreSQL text cannot hold, so
// the table keeps the two columns and the state is rebuilt here.
function stateOf(
  rows: readonly { task_class: string; model: string; cell: EstimatorCell }[],
): EstimatorState {
  const cells: Record<string, EstimatorCell> = {};
  for (const r of rows) cells[`${r.task_class}\u0000${r.model}`] = r.cell;
  return { version: 1, cells };
}

/** A tenant's learnt estimator state, from rows read as JSON (the gate reads them with its state). */
export function estimatorFromRows(
  rows: readonly { task_class: string; model: string; cell: EstimatorCell }[],
): EstimatorState {
  return stateOf(rows);
}

/**
 * Learns one actual inside the caller's transaction (a commit): locks the (class, model) cell,
 * applies the core's `recordActual` and writes it back, so concurrent commits of one cell each count.
 */
export async function learnActual(
  trx: Kysely<FleetDatabase>,
  tenantId: string,
  policy: Pick<Policy, 'taskClasses' | 'defaultEstimate'>,
  obs: ActualObservation,
): Promise<void> {
  const key = { tenant_id: tenantId, task_class: obs.taskClass, model: obs.model };
  await trx
    .insertInto('fleet.estimator_cells')
    .values({ ...key, cell: JSON.stringify({ actuals: [], errors: [], count: 0 }) })
    .onConflict((oc) => oc.doNothing())
    .execute();
  const row = await trx
    .selectFrom('fleet.estimator_cells')
    .select(['task_class', 'model', 'cell'])
    .where('tenant_id', '=', tenantId)
    .where('task_class', '=', obs.taskClass)
    .where('model', '=', obs.model)
    .forUpdate()
    .executeTakeFirstOrThrow();
  const before = stateOf([row]);
  // An empty cell means "not learnt yet": the core then scores against the policy's prior.
  const next = recordActual(row.cell.count === 0 ? { version: 1, cells: {} } : before, policy, obs);
  const cell = next.cells[`${obs.taskClass}\u0000${obs.model}`];
  if (!cell) return;
  await trx
    .updateTable('fleet.estimator_cells')
    .set({ cell: JSON.stringify(cell), updated_at: sql<Date>`now()` })
    .where('tenant_id', '=', tenantId)
    .where('task_class', '=', obs.taskClass)
    .where('model', '=', obs.model)
    .execute();
}

/** One (task class, model) cell as `GET /v1/estimates` reports it. */
export interface EstimateReport {
  taskClass: string;
  model: string;
  /** Tasks learnt from (all time). */
  samples: number;
  /** The central estimate, in tokens. */
  tokens?: number;
  /** The high quantile the gate reserves, in tokens. */
  p90Tokens?: number;
  /** Error of the estimates recent tasks ran with: mean absolute percentage, and signed bias (+ = over). */
  error: { n: number; mape: number; bias: number };
}

/** What a tenant has learnt, per (task class, model), with the error of past estimates. */
export async function listEstimates(
  db: Kysely<FleetDatabase>,
  tenantId: string,
  policy: Pick<Policy, 'taskClasses' | 'defaultEstimate'>,
): Promise<EstimateReport[]> {
  const rows = await db
    .selectFrom('fleet.estimator_cells')
    .select(['task_class', 'model', 'cell'])
    .where('tenant_id', '=', tenantId)
    .orderBy('task_class')
    .orderBy('model')
    .execute();
  const state = stateOf(rows);
  return estimatorCells(state).map(({ taskClass, model }) => {
    const e = estimateTask(state, policy, taskClass, model);
    return {
      taskClass,
      model,
      samples: e.samples,
      ...(e.estimate.tokens !== undefined ? { tokens: e.estimate.tokens } : {}),
      ...(e.p90.tokens !== undefined ? { p90Tokens: e.p90.tokens } : {}),
      error: estimateError(state, taskClass, model),
    };
  });
}
