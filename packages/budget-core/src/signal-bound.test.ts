import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { dec } from './money.js';
import { impliedQuantumPercent, signalUpperBoundPercent } from './signal-bound.js';

// Quanta providers use (whole, tenth and hundredth of a percent) and usage up to overage.
const QUANTA = ['1', '0.1', '0.01'] as const;
const MAX_TRUE_PERCENT = 150;

describe('signal bound', () => {
  it('reads the quantum from how a reading is written', () => {
    expect(impliedQuantumPercent(dec('97')).toString()).toBe('1');
    expect(impliedQuantumPercent(dec('42.5')).toString()).toBe('0.1');
    expect(impliedQuantumPercent(dec('42.25')).toString()).toBe('0.01');
    expect(impliedQuantumPercent(dec('0')).toString()).toBe('1');
  });

  it('adds half a quantum to a rounded reading and a whole one to a truncated reading', () => {
    expect(signalUpperBoundPercent(dec(97), dec(1)).toString()).toBe('97.5');
    expect(signalUpperBoundPercent(dec(97), dec(1), 'floor').toString()).toBe('98');
    expect(signalUpperBoundPercent(dec('42.5'), dec('0.1')).toString()).toBe('42.55');
  });

  it('property: the bound is never below the true usage the provider rounded', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: MAX_TRUE_PERCENT, noNaN: true }),
        fc.constantFrom(...QUANTA),
        fc.constantFrom('nearest' as const, 'floor' as const),
        (truth, q, rounding) => {
          const quantum = dec(q);
          const steps = dec(truth).div(quantum);
          const reported = (rounding === 'floor' ? steps.floor() : steps.round()).times(quantum);
          expect(signalUpperBoundPercent(reported, quantum, rounding).gte(truth)).toBe(true);
          // Read from the written form alone, the bound is at least as high (the quantum implied
          // by a reading is never finer than the true one).
          expect(
            signalUpperBoundPercent(reported, impliedQuantumPercent(reported), rounding).gte(
              signalUpperBoundPercent(reported, quantum, rounding),
            ),
          ).toBe(true);
        },
      ),
    );
  });
});
