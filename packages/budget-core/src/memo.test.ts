import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { memoized, memoizedByNumber } from './memo.js';

describe('memoizedByNumber', () => {
  it('answers what compute answers, computing each (key, number) once while the cap holds them', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: -20, max: 20 })), {
          maxLength: 200,
        }),
        fc.integer({ min: 1, max: 50 }),
        (calls, cap) => {
          const keys = [{ k: 0 }, { k: 1 }, { k: 2 }];
          const computed = new Map<string, number>();
          const f = memoizedByNumber(cap, (key: { k: number }, n: number) => {
            const id = `${key.k}:${n}`;
            computed.set(id, (computed.get(id) ?? 0) + 1);
            return { value: key.k * 1000 + n };
          });
          for (const [k, n] of calls) expect(f(keys[k]!, n).value).toBe(k * 1000 + n);
          // A pair is computed again only after its key's map filled up and was cleared.
          const distinctPerKey = new Map<number, Set<number>>();
          for (const [k, n] of calls) distinctPerKey.set(k, (distinctPerKey.get(k) ?? new Set()).add(n));
          for (const [k, ns] of distinctPerKey) {
            if (ns.size > cap) continue;
            for (const n of ns) expect(computed.get(`${k}:${n}`)).toBe(1);
          }
        },
      ),
    );
  });

  it('returns the very object it kept, so callers may memoise on it in turn', () => {
    const f = memoizedByNumber(4, (_key: object, n: number) => ({ n }));
    const key = {};
    expect(f(key, 1)).toBe(f(key, 1));
    expect(f({}, 1)).not.toBe(f(key, 1));
  });
});

describe('memoized', () => {
  it('computes once per key object and answers the kept value after', () => {
    let calls = 0;
    const f = memoized((key: { n: number }) => {
      calls += 1;
      return { twice: key.n * 2 };
    });
    const a = { n: 2 };
    const b = { n: 2 };
    expect([f(a).twice, f(b).twice]).toEqual([4, 4]);
    expect(f(a)).toBe(f(a));
    expect(f(a)).not.toBe(f(b));
    expect(calls).toBe(2);
  });
});
