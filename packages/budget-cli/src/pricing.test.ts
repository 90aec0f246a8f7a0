import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICES, dec, type PriceTable } from '@mosaic/budget-core';
import { priceOf, pricer } from './pricing.js';

// The shipped table plus overrides with many decimal places, a dated entry that shadows its undated
// name, and an entry only under a dated name.
const table: PriceTable = {
  ...DEFAULT_PRICES,
  'custom-model': {
    input: dec('1.234567'),
    output: dec('98.7654321'),
    cacheRead: dec('0.0001'),
    cacheWrite: dec('3'),
  },
  'claude-sonnet-4-20250514': {
    input: dec('2.5'),
    output: dec('12'),
    cacheRead: dec('0.25'),
    cacheWrite: dec('3.1'),
  },
  'only-dated-20250101': {
    input: dec('7'),
    output: dec('0.07'),
    cacheRead: dec('0'),
    cacheWrite: dec('0.7'),
  },
};

const model = fc.oneof(
  fc.constantFrom(...Object.keys(table)),
  fc.constantFrom(...Object.keys(table)).map((m) => `${m}-20251231`),
  fc.constantFrom('only-dated', 'unknown-model', 'claude-sonnet-4-20250514-20250514', ''),
);
const count = fc.oneof(fc.nat(1000), fc.integer({ min: 0, max: 1e12 }));
const usage = fc.record({
  inputTokens: count,
  outputTokens: count,
  cacheReadTokens: count,
  cacheWriteTokens: count,
});

describe('pricer', () => {
  it('prices every usage exactly as priceOf does, also once the model is cached', () => {
    const price = pricer(table);
    fc.assert(
      fc.property(model, usage, (m, u) => {
        const want = priceOf(table, m, u)?.toString();
        expect(price(m, u)?.toString()).toBe(want);
        expect(price(m, u)?.toString()).toBe(want);
      }),
      { numRuns: 2000 },
    );
  });
});
