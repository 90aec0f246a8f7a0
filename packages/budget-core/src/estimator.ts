import type { Estimate, Policy } from './policy.js';

/**
 * How many recent actuals each (task class, model) cell keeps. 32 is enough for an exact P90 that
 * is not just the sample maximum (the 29th of 32), and small enough that a shift in the true size
 * of a class moves the median within 16 tasks and the P90 within 4.
 */
export const ESTIMATOR_RING_SIZE = 32;

/**
 * Weight of the cold-start prior, in pseudo-observations: with n actuals the central estimate is
 * `(n·median + k·prior) / (n + k)`. Two keeps a single odd first task from replacing the policy's
 * number outright, and is negligible after a handful of tasks.
 */
export const ESTIMATOR_PRIOR_WEIGHT = 2;

/**
 * Ratio of P90 to the central estimate assumed before a cell has enough actuals for its own P90.
 * Task sizes of coding agents are close to log-normal with σ ≈ 0.8, for which P90/median ≈ 2.8;
 * 2.5 is the rounder, slightly less pessimistic prior.
 */
export const ESTIMATOR_COLD_P90_RATIO = 2.5;

/** Actuals needed before a cell's own P90 is trusted on its own (below it, it is blended with the prior ratio). */
export const ESTIMATOR_MIN_SAMPLES_FOR_P90 = 10;

/** One (task class, model) cell: the ring of recent actuals and the ring of past estimate errors. */
export interface EstimatorCell {
  /** Recent actual token counts, oldest first, at most {@link ESTIMATOR_RING_SIZE}. */
  actuals: number[];
  /** Signed relative errors `(estimate − actual) / actual` of recent estimates, oldest first. */
  errors: number[];
  /** Actuals ever recorded in this cell. */
  count: number;
}

/**
 * The estimator's whole state: plain JSON (numbers and arrays), so the service can persist it as is.
 * Keys are `taskClass + "\u0000" + model` (a NUL cannot occur in an id).
 */
export interface EstimatorState {
  version: 1;
  cells: Record<string, EstimatorCell>;
}

/** Where an estimate came from. */
export type EstimateSource = 'learned' | 'task-class' | 'policy-default';

/** A learned estimate for one (task class, model). */
export interface TaskEstimate {
  /** Central (median-like) estimate; `tokens` or `usd` as the prior gave it, tokens once learned. */
  estimate: Estimate;
  /** The high quantile (P90), in the same unit as `estimate`. */
  p90: Estimate;
  source: EstimateSource;
  /** Actuals behind the estimate. */
  samples: number;
}

/** How wrong past estimates of a cell were. */
export interface EstimateError {
  /** Estimates scored. */
  n: number;
  /** Mean absolute percentage error, as a fraction (0.25 = 25 %). */
  mape: number;
  /** Mean signed error as a fraction: negative means estimates ran low. */
  bias: number;
}

function cellKey(taskClass: string, model: string): string {
  return `${taskClass}\u0000${model}`;
}

/** An estimator that has seen nothing. */
export function emptyEstimatorState(): EstimatorState {
  return { version: 1, cells: {} };
}

/** The exact q-quantile of `values` (linear interpolation between order statistics, as R's type 7). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] ?? 0;
  const b = sorted[hi] ?? a;
  return a + (b - a) * (pos - lo);
}

function pushBounded(ring: readonly number[], value: number): number[] {
  const next = [...ring, value];
  return next.length > ESTIMATOR_RING_SIZE ? next.slice(next.length - ESTIMATOR_RING_SIZE) : next;
}

/** The prior for a cell: the task class's estimate, else the policy default. */
function priorOf(policy: Pick<Policy, 'taskClasses' | 'defaultEstimate'>, taskClass: string) {
  const tc = Object.hasOwn(policy.taskClasses, taskClass) ? policy.taskClasses[taskClass] : undefined;
  if (tc?.estimate) return { estimate: tc.estimate, source: 'task-class' as const };
  return { estimate: policy.defaultEstimate, source: 'policy-default' as const };
}

/**
 * The estimate for a task of `taskClass` on `model`. With no actuals it is the policy's prior (the
 * task class's `estimate`, else `defaultEstimate`), in whatever unit the policy gave; once actuals
 * exist it is in tokens: the median of the recent ring shrunk toward a token prior, and a P90 that
 * is the ring's own once it has {@link ESTIMATOR_MIN_SAMPLES_FOR_P90} actuals.
 *
 * @example
 * const s = recordActual(emptyEstimatorState(), policy, { taskClass: 'review', model: 'claude-sonnet-4', tokens: 40_000 });
 * estimateTask(s, policy, 'review', 'claude-sonnet-4').estimate.tokens; // between the prior and 40 000
 */
export function estimateTask(
  state: EstimatorState,
  policy: Pick<Policy, 'taskClasses' | 'defaultEstimate'>,
  taskClass: string,
  model: string,
): TaskEstimate {
  const prior = priorOf(policy, taskClass);
  const cell = state.cells[cellKey(taskClass, model)];
  if (!cell || cell.actuals.length === 0) {
    const p90: Estimate = {};
    if (prior.estimate.usd !== undefined) p90.usd = prior.estimate.usd.times(ESTIMATOR_COLD_P90_RATIO);
    if (prior.estimate.tokens !== undefined) {
      p90.tokens = Math.round(prior.estimate.tokens * ESTIMATOR_COLD_P90_RATIO);
    }
    return { estimate: prior.estimate, p90, source: prior.source, samples: 0 };
  }
  const n = cell.actuals.length;
  const median = quantile(cell.actuals, 0.5);
  // A USD-only prior cannot be mixed with token actuals; the learned median then stands alone.
  const priorTokens = prior.estimate.usd === undefined ? prior.estimate.tokens : undefined;
  const central =
    priorTokens === undefined
      ? median
      : (n * median + ESTIMATOR_PRIOR_WEIGHT * priorTokens) / (n + ESTIMATOR_PRIOR_WEIGHT);
  const coldP90 = central * ESTIMATOR_COLD_P90_RATIO;
  const ownP90 = quantile(cell.actuals, 0.9);
  const w = Math.min(1, n / ESTIMATOR_MIN_SAMPLES_FOR_P90);
  const p90 = Math.max(central, w * ownP90 + (1 - w) * coldP90);
  return {
    estimate: { tokens: Math.round(central) },
    p90: { tokens: Math.round(p90) },
    source: 'learned',
    samples: cell.count,
  };
}

/** An actual outcome to learn from. `estimatedTokens`, when known, is what the task was admitted with. */
export interface ActualObservation {
  taskClass: string;
  model: string;
  tokens: number;
  estimatedTokens?: number;
}

/**
 * Learns one actual: scores the estimate the task ran with (or, without one, the estimate the
 * state would have given) and pushes the actual into the cell's ring. Returns a new state; the
 * input is not modified.
 */
export function recordActual(
  state: EstimatorState,
  policy: Pick<Policy, 'taskClasses' | 'defaultEstimate'>,
  obs: ActualObservation,
): EstimatorState {
  const key = cellKey(obs.taskClass, obs.model);
  const cell = state.cells[key] ?? { actuals: [], errors: [], count: 0 };
  const used = obs.estimatedTokens ?? estimateTask(state, policy, obs.taskClass, obs.model).estimate.tokens;
  const errors =
    used !== undefined && obs.tokens > 0
      ? pushBounded(cell.errors, (used - obs.tokens) / obs.tokens)
      : cell.errors;
  const next: EstimatorCell = {
    actuals: pushBounded(cell.actuals, Math.max(0, obs.tokens)),
    errors,
    count: cell.count + 1,
  };
  return { version: 1, cells: { ...state.cells, [key]: next } };
}

/** The error of recent estimates of one cell (over its last {@link ESTIMATOR_RING_SIZE} scored tasks). */
export function estimateError(state: EstimatorState, taskClass: string, model: string): EstimateError {
  const errors = state.cells[cellKey(taskClass, model)]?.errors ?? [];
  if (errors.length === 0) return { n: 0, mape: 0, bias: 0 };
  let abs = 0;
  let signed = 0;
  for (const e of errors) {
    abs += Math.abs(e);
    signed += e;
  }
  return { n: errors.length, mape: abs / errors.length, bias: signed / errors.length };
}

/** Every cell of the state as (task class, model) pairs, sorted, for reports. */
export function estimatorCells(state: EstimatorState): { taskClass: string; model: string }[] {
  return Object.keys(state.cells)
    .sort()
    .map((k) => {
      const [taskClass = '', model = ''] = k.split('\u0000');
      return { taskClass, model };
    });
}
