import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchPipeline } from './pipeline.js';

interface Batch {
  /** Whether the service refuses it. */
  fails: boolean;
}

const batches = fc.array(fc.record({ fails: fc.integer({ min: 0, max: 99 }).map((n) => n < 15) }), {
  minLength: 0,
  maxLength: 12,
});

describe('batchPipeline', () => {
  it('runs bookkeeping in send order over the batches before the first failure, never exceeding its depth', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 4 }),
        batches,
        async (s, depth, plan: Batch[]) => {
          const p = batchPipeline<number>(depth);
          const landed: number[] = [];
          let inFlight = 0;
          let mostInFlight = 0;
          const sent: number[] = [];
          const drive = async (): Promise<unknown> => {
            try {
              for (const [i, b] of plan.entries()) {
                await p.push(
                  () => {
                    sent.push(i);
                    inFlight += 1;
                    mostInFlight = Math.max(mostInFlight, inFlight);
                    // The scheduler lands the requests in whatever order it picks.
                    return s.schedule(Promise.resolve(i)).then((v) => {
                      inFlight -= 1;
                      if (b.fails) throw new Error(`batch ${i} refused`);
                      return v;
                    });
                  },
                  (answer) => landed.push(answer),
                );
              }
              await p.drain();
              return undefined;
            } catch (error) {
              return error;
            }
          };
          const outcome = await s.waitFor(drive());
          const firstFailure = sent.find((i) => plan[i]?.fails === true);
          if (firstFailure === undefined) {
            expect(outcome).toBeUndefined();
            expect(landed).toEqual(plan.map((_, i) => i));
          } else {
            // The earliest refused batch, in send order, is what the caller hears about, and nothing at or
            // after it is recorded as landed.
            expect((outcome as Error).message).toBe(`batch ${firstFailure} refused`);
            expect(landed).toEqual([...Array(firstFailure).keys()]);
          }
          expect(mostInFlight).toBeLessThanOrEqual(depth);
          // Every request sent was waited for: none is left in flight when the caller hears back.
          expect(inFlight).toBe(0);
        },
      ),
      { numRuns: 300, seed: 20261202 },
    );
  });

  it('keeps two batches in flight while the first is unanswered', async () => {
    const p = batchPipeline<string>(2);
    const resolvers: ((v: string) => void)[] = [];
    const landed: string[] = [];
    const request = (): Promise<string> => new Promise<string>((r) => resolvers.push(r));
    await p.push(request, (v) => landed.push(v));
    await p.push(request, (v) => landed.push(v));
    expect(resolvers).toHaveLength(2);
    // A third waits for the first to land; the second answering first changes nothing yet.
    const third = p.push(request, (v) => landed.push(v));
    resolvers[1]?.('b');
    await new Promise((r) => setImmediate(r));
    expect(resolvers).toHaveLength(2);
    expect(landed).toEqual([]);
    resolvers[0]?.('a');
    await third;
    expect(landed).toEqual(['a', 'b']);
    expect(resolvers).toHaveLength(3);
    resolvers[2]?.('c');
    await p.drain();
    expect(landed).toEqual(['a', 'b', 'c']);
  });

  it('reports a failure of the bookkeeping itself, and refuses further batches', async () => {
    const p = batchPipeline<number>(2);
    await p.push(
      () => Promise.resolve(1),
      () => {
        throw new Error('disk full');
      },
    );
    await expect(p.drain()).rejects.toThrow('disk full');
    await expect(
      p.push(
        () => Promise.resolve(2),
        () => undefined,
      ),
    ).rejects.toThrow('already failed');
  });

  it('refuses a depth that is not a positive integer', () => {
    expect(() => batchPipeline(0)).toThrow(RangeError);
    expect(() => batchPipeline(1.5)).toThrow(RangeError);
  });
});
