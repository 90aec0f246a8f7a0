import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { dec } from './money.js';
import { calibrationOf, emptyCalibrationState, observeSignal } from './calibration.js';
import type { CalibrationState } from './calibration.js';

const T0 = DateTime.fromISO('2026-11-20T17:00:00Z', { setZone: true });
const WEEK_MS = 7 * 86_400_000;
const STEP_MS = 30 * 60_000;

// Bounds on generated scenarios: capacities an operator could plausibly have, spend per half hour
// from idle to heavy, and signal noise up to half a percent.
const MIN_CAPACITY = 100;
const MAX_CAPACITY = 3000;

interface Run {
  errors: number[];
}

/** Plays `weeks` weekly windows of spend against a hidden capacity, signalling every 30 minutes. */
function play(
  capacity: number,
  spendPerStep: number[],
  noise: number[],
  weeks: number,
  withStart: boolean,
): Run {
  let state: CalibrationState = emptyCalibrationState();
  let cumulative = dec(0);
  let sinceStart = dec(0);
  const errors: number[] = [];
  const steps = (weeks * WEEK_MS) / STEP_MS;
  for (let i = 0; i < steps; i++) {
    const t = T0.plus({ milliseconds: (i + 1) * STEP_MS });
    const week = Math.floor(((i + 1) * STEP_MS - 1) / WEEK_MS);
    const spend = dec((spendPerStep[i % spendPerStep.length] ?? 0).toFixed(4));
    if ((i * STEP_MS) % WEEK_MS === 0) sinceStart = dec(0);
    cumulative = cumulative.plus(spend);
    sinceStart = sinceStart.plus(spend);
    const truePercent = sinceStart.toNumber() * (100 / capacity);
    const noisy = Math.max(0, truePercent + (noise[i % noise.length] ?? 0));
    const obs = {
      usedPercent: dec(Math.floor(noisy)),
      observedAt: t,
      resetAt: T0.plus({ milliseconds: (week + 1) * WEEK_MS }),
      cumulativeUsd: cumulative,
      ...(withStart ? { usdSinceWindowStart: sinceStart } : {}),
    };
    state = observeSignal(state, 'acct', 'weekly', obs);
    const k = calibrationOf(state, 'acct', 'weekly', dec(500)).percentPerUsd.toNumber();
    errors.push(Math.abs(k - 100 / capacity) / (100 / capacity));
  }
  return { errors };
}

describe('calibration', () => {
  it('starts at the prior and learns the hidden capacity from quantised signals', () => {
    expect(calibrationOf(emptyCalibrationState(), 'a', 'w', dec(500)).percentPerUsd.toString()).toBe('0.2');
    const run = play(900, [5.3, 0, 2.1, 8.4], [0], 2, true);
    expect(run.errors.at(-1)).toBeLessThan(0.02);
  });

  it('re-anchors on a reset without the spend since start instead of fitting across it', () => {
    const run = play(900, [5.3, 0, 2.1, 8.4], [0.4, -0.3], 3, false);
    expect(run.errors.at(-1)).toBeLessThan(0.03);
  });

  it('property: calibration error shrinks as signals accumulate', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: MIN_CAPACITY, max: MAX_CAPACITY }),
        fc.array(fc.double({ min: 0, max: 30, noNaN: true }), { minLength: 8, maxLength: 48 }),
        fc.array(fc.double({ min: -0.5, max: 0.5, noNaN: true }), { minLength: 1, maxLength: 16 }),
        fc.boolean(),
        (capacity, spend, noise, withStart) => {
          // Spend must make the window rise at all for there to be anything to learn.
          const perStep = spend.reduce((a, b) => a + b, 0) / spend.length;
          fc.pre(perStep > capacity / 2000);
          const { errors } = play(capacity, spend, noise, 3, withStart);
          const third = Math.floor(errors.length / 3);
          const early = Math.max(...errors.slice(0, third));
          const late = Math.max(...errors.slice(2 * third));
          expect(late).toBeLessThanOrEqual(early);
          // Re-anchoring on floored signals each week costs up to one quantum of the week's rise.
          const weeklyRise = (perStep * 336 * 100) / capacity;
          if (weeklyRise >= 30) expect(late).toBeLessThan(0.1);
        },
      ),
      { numRuns: 40 },
    );
  });
});
