import {
  dispatchEstimate,
  estimateTask,
  type Decision,
  type DispatchRequest,
  type EstimatorState,
  type Policy,
  type TraceStep,
} from '@mosaic/budget-core';

/**
 * The request the core decides on: its token estimate replaced by what the tenant has learnt for the
 * task class on the requested model — the learnt P90, which the gate reserves so the tasks in flight
 * at a window's end cannot together overrun it when a few turn out large (the simulator's finding;
 * see docs/simulation.md). A USD estimate is the caller's word and is kept; with nothing learnt the
 * request is unchanged. The step says what was done, for the decision's trace.
 */
export function withLearntEstimate(
  request: DispatchRequest,
  estimator: EstimatorState,
  policy: Policy,
): { request: DispatchRequest; step?: TraceStep } {
  if (request.estimate?.usd !== undefined) return { request };
  const asked = request.estimate?.tokens;
  if (asked !== undefined) {
    const e = dispatchEstimate(estimator, policy, request.taskClass, request.model, asked);
    if (e.source !== 'learned') return { request };
    return {
      request: { ...request, estimate: { tokens: e.reserve } },
      step: step(request, {
        requestedTokens: String(asked),
        centralTokens: String(e.central),
        reserveTokens: String(e.reserve),
      }),
    };
  }
  const t = estimateTask(estimator, policy, request.taskClass, request.model);
  if (t.source !== 'learned' || t.p90.tokens === undefined) return { request };
  return {
    request: { ...request, estimate: { tokens: t.p90.tokens } },
    step: step(request, {
      centralTokens: String(t.estimate.tokens ?? ''),
      reserveTokens: String(t.p90.tokens),
      samples: String(t.samples),
    }),
  };
}

function step(request: DispatchRequest, numbers: Record<string, string>): TraceStep {
  return {
    rule: 'estimate.learned',
    outcome: 'info',
    model: request.model,
    numbers,
    note: `reserving the learnt P90 for ${request.taskClass} on ${request.model}`,
  };
}

/** A decision with a service step put first in its trace. */
export function withStep(decision: Decision, step: TraceStep | undefined): Decision {
  return step ? { ...decision, trace: [step, ...decision.trace] } : decision;
}
