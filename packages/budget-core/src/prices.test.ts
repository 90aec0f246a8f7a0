import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_PRICES, DEFAULT_TOKEN_MIX, estimateUsd, priceTable, priceUsage } from './prices.js';
import { defaultPolicy, policySchema } from './policy.js';
import { PRICES_DATA } from './prices-data.js';

// Token counts up to a billion keep the property fast and cover any realistic task.
const MAX_TOKENS = 1_000_000_000;

describe('prices', () => {
  it('price a usage on claude-opus-4 exactly', () => {
    const usd = priceUsage(DEFAULT_PRICES, 'claude-opus-4', {
      inputTokens: 1_000_000,
      outputTokens: 100_000,
      cacheReadTokens: 2_000_000,
      cacheWriteTokens: 40_000,
    });
    // 15 + 7.5 + 3 + 0.75
    expect(usd?.toString()).toBe('26.25');
  });

  it('return undefined for an unknown model', () => {
    expect(
      priceUsage(DEFAULT_PRICES, 'nope', {
        inputTokens: 1,
        outputTokens: 0,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
      }),
    ).toBeUndefined();
    expect(estimateUsd(DEFAULT_PRICES, 'toString', 1000)).toBeUndefined();
  });

  it('let policy prices override the shipped table', () => {
    const policy = policySchema.parse({
      prices: { 'claude-opus-4': { input: '1', output: '2', cacheRead: '0', cacheWrite: '0' } },
    });
    expect(priceTable(policy)['claude-opus-4']?.input.toString()).toBe('1');
    expect(priceTable(defaultPolicy())['claude-opus-4']?.input.toString()).toBe('15');
    expect(PRICES_DATA.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('estimate a million sonnet tokens by the default mix', () => {
    // 0.3×3 + 0.1×15 + 0.55×0.3 + 0.05×3.75 = 0.9 + 1.5 + 0.165 + 0.1875
    expect(estimateUsd(DEFAULT_PRICES, 'claude-sonnet-4', 1_000_000)?.toString()).toBe('2.7525');
  });

  it('the default token mix sums to one', () => {
    const m = DEFAULT_TOKEN_MIX;
    expect(m.input.plus(m.output).plus(m.cacheRead).plus(m.cacheWrite).toString()).toBe('1');
  });

  it('an estimate equals pricing the mixed usage, and grows with the token count', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(DEFAULT_PRICES)),
        fc.integer({ min: 0, max: MAX_TOKENS }),
        (model, n) => {
          const a = estimateUsd(DEFAULT_PRICES, model, n);
          const b = estimateUsd(DEFAULT_PRICES, model, n + 1);
          expect(a).toBeDefined();
          expect(b!.gte(a!)).toBe(true);
          expect(a!.gte(0)).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });
});
