import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { policySchema } from './policy.js';
import { emptyEstimatorState, estimateTask, recordActual, type EstimatorState } from './estimator.js';
import { dispatchEstimate } from './dispatch-estimate.js';

const policy = policySchema.parse({ defaultEstimate: { tokens: 50_000 } });
// Token counts of agent tasks: a thousand to two million.
const MIN_TOKENS = 1_000;
const MAX_TOKENS = 2_000_000;

function learnt(model: string, sizes: readonly number[], from: EstimatorState = emptyEstimatorState()) {
  let s = from;
  for (const tokens of sizes) s = recordActual(s, policy, { taskClass: 'feature', model, tokens });
  return s;
}

describe('dispatch estimate', () => {
  it('uses the request until the class has learnt actuals', () => {
    expect(dispatchEstimate(emptyEstimatorState(), policy, 'feature', 'opus', 70_000)).toEqual({
      central: 70_000,
      reserve: 70_000,
      source: 'request',
    });
  });

  it('reserves the learnt P90 and scores on the learnt central estimate', () => {
    const s = learnt('opus', [100_000, 120_000, 90_000, 400_000, 110_000, 95_000, 130_000, 105_000]);
    const e = dispatchEstimate(s, policy, 'feature', 'opus', 1);
    const t = estimateTask(s, policy, 'feature', 'opus');
    expect(e).toEqual({
      central: t.estimate.tokens,
      reserve: t.p90.tokens,
      source: 'learned',
      model: 'opus',
    });
    expect(e.reserve).toBeGreaterThan(e.central);
  });

  it('borrows the sibling model with the most actuals when the requested model has none', () => {
    let s = learnt('sonnet', [40_000, 50_000]);
    s = learnt('haiku', [10_000, 12_000, 11_000], s);
    const e = dispatchEstimate(s, policy, 'feature', 'opus', 1, ['sonnet', 'haiku']);
    expect(e.model).toBe('haiku');
    expect(dispatchEstimate(s, policy, 'feature', 'opus', 1).source).toBe('request');
  });

  it('property: the reservation is never below the central estimate', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: MIN_TOKENS, max: MAX_TOKENS }), { maxLength: 40 }),
        fc.integer({ min: MIN_TOKENS, max: MAX_TOKENS }),
        (sizes, requestTokens) => {
          const e = dispatchEstimate(learnt('opus', sizes), policy, 'feature', 'opus', requestTokens);
          expect(e.reserve).toBeGreaterThanOrEqual(e.central);
        },
      ),
    );
  });
});
