import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { policySchema } from './policy.js';
import {
  ESTIMATOR_RING_SIZE,
  emptyEstimatorState,
  estimateError,
  estimateTask,
  estimatorCells,
  quantile,
  recordActual,
} from './estimator.js';

const policy = policySchema.parse({
  taskClasses: { review: { estimate: { tokens: 40_000 } }, audit: { estimate: { usd: '3' } } },
  defaultEstimate: { tokens: 50_000 },
});

describe('estimator', () => {
  it('cold-starts from the task class estimate, else the policy default', () => {
    const s = emptyEstimatorState();
    expect(estimateTask(s, policy, 'review', 'm').estimate.tokens).toBe(40_000);
    expect(estimateTask(s, policy, 'review', 'm').source).toBe('task-class');
    expect(estimateTask(s, policy, 'other', 'm').estimate.tokens).toBe(50_000);
    expect(estimateTask(s, policy, 'other', 'm').source).toBe('policy-default');
    const usd = estimateTask(s, policy, 'audit', 'm');
    expect(usd.estimate.usd?.toString()).toBe('3');
    expect(usd.p90.usd?.toString()).toBe('7.5');
  });

  it('moves from the prior toward actuals and reports error and bias', () => {
    let s = emptyEstimatorState();
    for (let i = 0; i < 20; i++) {
      s = recordActual(s, policy, { taskClass: 'review', model: 'm', tokens: 100_000 });
    }
    const e = estimateTask(s, policy, 'review', 'm');
    expect(e.source).toBe('learned');
    expect(e.estimate.tokens).toBeGreaterThan(90_000);
    // The first estimates (40 000 against 100 000) ran 60 % low; later ones close to right.
    const err = estimateError(s, 'review', 'm');
    expect(err.n).toBe(20);
    expect(err.bias).toBeLessThan(0);
    expect(err.mape).toBeGreaterThan(0);
    expect(estimatorCells(s)).toEqual([{ taskClass: 'review', model: 'm' }]);
  });

  it('scores the estimate a task actually ran with when given', () => {
    const s = recordActual(emptyEstimatorState(), policy, {
      taskClass: 'x',
      model: 'm',
      tokens: 100,
      estimatedTokens: 130,
    });
    const err = estimateError(s, 'x', 'm');
    expect(err.bias).toBeCloseTo(0.3);
    expect(err.mape).toBeCloseTo(0.3);
  });

  it('state survives a JSON round trip unchanged', () => {
    let s = emptyEstimatorState();
    s = recordActual(s, policy, { taskClass: 'a', model: 'm', tokens: 1234 });
    const back = JSON.parse(JSON.stringify(s)) as typeof s;
    expect(estimateTask(back, policy, 'a', 'm')).toEqual(estimateTask(s, policy, 'a', 'm'));
  });

  it('quantile interpolates between order statistics', () => {
    expect(quantile([1, 2, 3, 4, 5], 0.5)).toBe(3);
    expect(quantile([10, 0], 0.9)).toBe(9);
  });

  it('property: after a shift of the true size, the estimate moves to the new size', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1_000, max: 1_000_000 }),
        fc.integer({ min: 1_000, max: 1_000_000 }),
        fc.array(fc.double({ min: 0.8, max: 1.2, noNaN: true }), {
          minLength: ESTIMATOR_RING_SIZE * 2,
          maxLength: ESTIMATOR_RING_SIZE * 2,
        }),
        (before, after, noise) => {
          let s = emptyEstimatorState();
          noise.forEach((f, i) => {
            const base = i < ESTIMATOR_RING_SIZE ? before : after;
            s = recordActual(s, policy, { taskClass: 'feature', model: 'm', tokens: Math.round(base * f) });
          });
          const e = estimateTask(s, policy, 'feature', 'm');
          const tokens = e.estimate.tokens ?? 0;
          // The ring holds only post-shift actuals (within ±20 %), and the prior weighs 2 of 34.
          const priorPull = (2 / (ESTIMATOR_RING_SIZE + 2)) * Math.abs(50_000 - after);
          expect(Math.abs(tokens - after)).toBeLessThanOrEqual(after * 0.2 + priorPull + 1);
          expect(e.p90.tokens ?? 0).toBeGreaterThanOrEqual(tokens);
        },
      ),
      { numRuns: 100 },
    );
  });
});
