import type { Policy } from './policy.js';
import { estimateTask, type EstimatorState, type TaskEstimate } from './estimator.js';

/** The token estimates a task is dispatched with, from what has been learnt or from its request. */
export interface DispatchEstimate {
  /** What the task's error is scored on: the learnt central estimate, else the request's. */
  central: number;
  /**
   * What the gate should reserve while the task runs (the request's `estimate.tokens` for
   * `decide`): the learnt P90, else the request's estimate.
   */
  reserve: number;
  /** `learned` when a learnt cell supplied both numbers; `request` otherwise. */
  source: 'learned' | 'request';
  /** The model whose cell supplied them, when learnt. */
  model?: string;
}

/**
 * The estimates a gate call should carry for a task of `taskClass` on `model`: the learnt P90 as
 * the reservation, so the tasks in flight at a window's end cannot together overrun it when a few
 * turn out large (median reservations overran a week by up to 0.6 % in the simulator), and the
 * learnt central estimate for scoring. Without learnt actuals for `model`, the cell of `models`
 * with the most samples stands in (pass the models whose task sizes are alike; none by default);
 * without any, both are the request's own `requestTokens`.
 *
 * @example
 * const e = dispatchEstimate(state, policy, 'review', 'claude-sonnet-4', req.estimate.tokens);
 * decide({ ...req, estimate: { tokens: e.reserve } }, snapshot, policy, now, prices);
 */
export function dispatchEstimate(
  state: EstimatorState,
  policy: Pick<Policy, 'taskClasses' | 'defaultEstimate'>,
  taskClass: string,
  model: string,
  requestTokens: number,
  models: readonly string[] = [],
): DispatchEstimate {
  const own = estimateTask(state, policy, taskClass, model);
  let best: TaskEstimate | undefined = own.source === 'learned' ? own : undefined;
  let bestModel = model;
  if (!best) {
    for (const m of models) {
      const e = estimateTask(state, policy, taskClass, m);
      if (e.source === 'learned' && (!best || e.samples > best.samples)) {
        best = e;
        bestModel = m;
      }
    }
  }
  const central = best?.estimate.tokens;
  const reserve = best?.p90.tokens;
  if (central === undefined || reserve === undefined) {
    return { central: requestTokens, reserve: requestTokens, source: 'request' };
  }
  return { central, reserve, source: 'learned', model: bestModel };
}
