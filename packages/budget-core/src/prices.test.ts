import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { dec } from './money.js';
import {
  DEFAULT_PRICES,
  DEFAULT_TOKEN_MIX,
  estimateUsd,
  modelPricer,
  priceOf,
  priceTable,
  priceUsage,
  type PriceTable,
} from './prices.js';
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
    // Built once per prices object (the gate asks on every call); no overrides is the shipped table.
    expect(priceTable(policy)).toBe(priceTable({ prices: policy.prices }));
    expect(priceTable(defaultPolicy())).toBe(DEFAULT_PRICES);
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
          const m = DEFAULT_TOKEN_MIX;
          // Each share of a count has at most ten significant digits, so its double prints exactly.
          const mixed = (k: number) =>
            priceUsage(DEFAULT_PRICES, model, {
              inputTokens: m.input.times(k).toNumber(),
              outputTokens: m.output.times(k).toNumber(),
              cacheReadTokens: m.cacheRead.times(k).toNumber(),
              cacheWriteTokens: m.cacheWrite.times(k).toNumber(),
            })!;
          const a = estimateUsd(DEFAULT_PRICES, model, n);
          const b = estimateUsd(DEFAULT_PRICES, model, n + 1);
          // Asked again, too: the estimate is kept per price entry and count.
          const again = estimateUsd(DEFAULT_PRICES, model, n);
          expect([a?.eq(mixed(n)), b?.eq(mixed(n + 1)), again?.eq(mixed(n))]).toEqual([true, true, true]);
          expect(b!.gte(a!)).toBe(true);
          expect(a!.gte(0)).toBe(true);
        },
      ),
      // More distinct counts than the 64 kept per entry, so the bound is exercised.
      { numRuns: 300 },
    );
  });
});

describe('modelPricer', () => {
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

  it('prices as priceUsage on the exact name, else on the name without its date, also once cached', () => {
    const price = modelPricer(table);
    fc.assert(
      fc.property(model, usage, (m, u) => {
        const want = (priceUsage(table, m, u) ?? priceUsage(table, m.replace(/-\d{8}$/, ''), u))?.toString();
        expect(price(m, u)?.toString()).toBe(want);
        expect(price(m, u)?.toString()).toBe(want);
        expect(priceOf(table, m, u)?.toString()).toBe(want);
      }),
      { numRuns: 2000 },
    );
  });
});
