import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { groupLedger, type LedgerRow } from './group.js';

const row = (over: Partial<LedgerRow>): LedgerRow => ({
  host: 'h',
  agent: 'a',
  task: 't',
  account: 'acc',
  model: 'm',
  inputTokens: 1,
  outputTokens: 2,
  cacheReadTokens: 3,
  cacheWriteTokens: 4,
  usd: '0.10',
  kind: 'actual',
  occurredAt: '2026-11-21T05:30:00Z',
  ...over,
});

describe('groupLedger', () => {
  it('puts days in the given zone and keeps projected apart from actual', () => {
    const rows = [
      row({}),
      row({ occurredAt: '2026-11-21T07:00:00Z', kind: 'projected', usd: '0.2' }),
      row({ model: 'n' }),
    ];
    const out = groupLedger(rows, ['day', 'model'], 'America/Chicago');
    expect(out.map((r) => [r.day, r.model])).toEqual([
      ['2026-11-20', 'm'],
      ['2026-11-20', 'n'],
      ['2026-11-21', 'm'],
    ]);
    expect(out[2]?.projected.usd).toBe('0.2');
    expect(out[2]?.actual.usd).toBe('0');
  });

  it('grouping never loses or invents tokens or cents: group totals sum to the ledger totals', () => {
    // Up to 50 rows with small token counts and cent amounts, a handful of models and two kinds.
    const rowArb = fc.record({
      model: fc.constantFrom('m1', 'm2', 'm3'),
      kind: fc.constantFrom('actual', 'projected'),
      inputTokens: fc.nat(1_000_000),
      cents: fc.nat(100_000),
      hour: fc.nat(24 * 30),
    });
    fc.assert(
      fc.property(
        fc.array(rowArb, { maxLength: 50 }),
        fc.subarray(['day', 'week', 'model', 'account'] as const, { minLength: 1 }),
        (gen, keys) => {
          const rows = gen.map((g) =>
            row({
              model: g.model,
              kind: g.kind,
              inputTokens: g.inputTokens,
              usd: (g.cents / 100).toFixed(2),
              occurredAt: new Date(Date.UTC(2026, 10, 1) + g.hour * 3_600_000).toISOString(),
            }),
          );
          const out = groupLedger(rows, keys, 'Europe/Berlin');
          const tokens = out.reduce((s, r) => s + r.actual.inputTokens + r.projected.inputTokens, 0);
          const cents = out.reduce(
            (s, r) => s + Math.round(Number(r.actual.usd) * 100) + Math.round(Number(r.projected.usd) * 100),
            0,
          );
          expect(tokens).toBe(gen.reduce((s, g) => s + g.inputTokens, 0));
          expect(cents).toBe(gen.reduce((s, g) => s + g.cents, 0));
        },
      ),
    );
  });
});
