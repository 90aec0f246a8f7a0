import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import type { Decimal } from 'decimal.js';
import { earliestFit, paceWindow, targetRate } from './pacing.js';
import { LIMIT_PERCENT, earliestFitMs, fitsWindow, idealPercentAt, windowHeadroom } from './headroom.js';
import { dec } from './money.js';
import { DAY_MS, HOUR_MS } from './time.js';
import { windowSpecSchema } from './window.js';
import { defaultPolicy, policySchema } from './policy.js';
import type { WindowState } from './snapshot.js';

const CHICAGO = 'America/Chicago';
const at = (iso: string) => DateTime.fromISO(iso, { setZone: true });
const weekly = windowSpecSchema.parse({ name: 'weekly', length: 'P7D' });
const WEEK_MS = 7 * DAY_MS;
// Exactness bound for decimal.js at 40 significant digits after a handful of operations.
const EPS = dec('1e-25');
const close = (a: Decimal, b: Decimal) => a.minus(b).abs().lte(EPS);

// Bounded generators: percentages with two decimals, instants within ~60 days of a base, windows of
// 1 minute to 31 days. Larger values add nothing to the algebra and slow the run.
const BASE_MS = at('2026-11-20T00:00:00Z').toMillis();
const MAX_SPAN_MS = 60 * DAY_MS;
const MIN_WINDOW_MS = 60_000;
const MAX_WINDOW_MS = 31 * DAY_MS;
const percent = (max = 100) => fc.integer({ min: 0, max: max * 100 }).map((n) => dec(n).div(100));

function state(
  used: string | Decimal,
  resetAt: DateTime,
  observedAt: DateTime,
  extra: Partial<WindowState> = {},
): WindowState {
  return {
    name: 'weekly',
    usedPercent: dec(used),
    reservedPercent: dec(0),
    confidence: 'provider',
    observedAt,
    resetAt,
    ...extra,
  };
}

describe('the even-spread law', () => {
  it('100% of a 7-day window paces at exactly 100/7 % per day', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_SPAN_MS }), (offset) => {
        const start = BASE_MS + offset;
        const r = targetRate(LIMIT_PERCENT, dec(0), start + WEEK_MS, start, DAY_MS);
        expect(r.toFixed(10)).toBe('14.2857142857');
        expect(close(r, dec(100).div(7))).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('for any L, U ≤ L, R > t the target rate is (L − U)/(R − t)', () => {
    fc.assert(
      fc.property(
        percent(1000).filter((l) => l.gt(0)),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: MAX_SPAN_MS }),
        fc.integer({ min: 1, max: MAX_SPAN_MS }),
        (limit, share, t, gap) => {
          const used = limit.times(dec(share.toFixed(6)));
          const r = targetRate(limit, used, BASE_MS + t + gap, BASE_MS + t, 1);
          expect(close(r, limit.minus(used).div(gap))).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('spending exactly at the target rate keeps the target constant and reaches L at R', () => {
    fc.assert(
      fc.property(
        percent(99),
        fc.integer({ min: HOUR_MS, max: MAX_WINDOW_MS }),
        fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 20 }),
        (u0, horizon, steps) => {
          const resetMs = BASE_MS + horizon;
          let t = BASE_MS;
          let used = u0;
          const r0 = targetRate(LIMIT_PERCENT, used, resetMs, t, 1);
          const total = steps.reduce((a, b) => a + b, 0);
          for (const s of steps) {
            // Split the time to the reset in proportion to the steps; the last step lands on R.
            const next = Math.min(resetMs, t + Math.floor((horizon * s) / total));
            used = used.plus(r0.times(next - t));
            t = next;
            if (t < resetMs) expect(close(targetRate(LIMIT_PERCENT, used, resetMs, t, 1), r0)).toBe(true);
          }
          used = used.plus(r0.times(resetMs - t));
          expect(close(used, LIMIT_PERCENT)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('underspend raises the target rate and overspend lowers it', () => {
    fc.assert(
      fc.property(
        percent(100),
        percent(100),
        fc.integer({ min: HOUR_MS, max: MAX_WINDOW_MS }),
        fc.integer({ min: 1, max: 999 }),
        (u0, spend, horizon, permille) => {
          const resetMs = BASE_MS + horizon;
          const r0 = targetRate(LIMIT_PERCENT, u0, resetMs, BASE_MS, 1);
          const dt = Math.max(1, Math.floor((horizon * permille) / 1000));
          const atTarget = r0.times(dt);
          const u1 = u0.plus(spend);
          fc.pre(u1.lt(LIMIT_PERCENT) && !spend.eq(atTarget));
          const r1 = targetRate(LIMIT_PERCENT, u1, resetMs, BASE_MS + dt, 1);
          if (spend.lt(atTarget)) expect(r1.gt(r0)).toBe(true);
          else expect(r1.lt(r0)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('the ideal line is 0 at the start, L at the reset and never decreases', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: MIN_WINDOW_MS, max: MAX_WINDOW_MS }),
        fc.integer({ min: 0, max: MAX_WINDOW_MS }),
        fc.integer({ min: 0, max: MAX_WINDOW_MS }),
        (len, a, b) => {
          const [t1, t2] = a <= b ? [a, b] : [b, a];
          const end = BASE_MS + len;
          expect(idealPercentAt(LIMIT_PERCENT, BASE_MS, end, BASE_MS).isZero()).toBe(true);
          expect(idealPercentAt(LIMIT_PERCENT, BASE_MS, end, end).eq(LIMIT_PERCENT)).toBe(true);
          expect(
            idealPercentAt(LIMIT_PERCENT, BASE_MS, end, BASE_MS + t1).lte(
              idealPercentAt(LIMIT_PERCENT, BASE_MS, end, BASE_MS + t2),
            ),
          ).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('a task fits at its earliest fit instant and not a millisecond before (while it fits in this period)', () => {
    fc.assert(
      fc.property(percent(100), percent(30), fc.integer({ min: 0, max: WEEK_MS - 1 }), (used, e, elapsed) => {
        const nowMs = BASE_MS + elapsed;
        const mk = (ms: number) =>
          windowHeadroom({
            spec: weekly,
            state: state(used, DateTime.fromMillis(BASE_MS + WEEK_MS), DateTime.fromMillis(nowMs)),
            timezone: 'UTC',
            nowMs: ms,
            burst: defaultPolicy().pacing.burst,
            defaultCapacityUsd: dec(500),
          });
        const h = mk(nowMs);
        const t = earliestFitMs(h, e, nowMs);
        expect(t).toBeDefined();
        expect(t! >= nowMs).toBe(true);
        if (t! < BASE_MS + WEEK_MS) {
          expect(fitsWindow(mk(t!), e)).toBe(true);
          if (t! > nowMs) expect(fitsWindow(mk(t! - 1), e)).toBe(false);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('paceWindow', () => {
  const wed9 = at('2026-11-25T09:00:00-06:00');
  const fri17 = at('2026-11-27T17:00:00-06:00');

  it('work the documented example: 42% used Wed 09:00, reset Fri 17:00 Chicago', () => {
    const p = paceWindow({
      spec: weekly,
      state: state('42', fri17, wed9),
      timezone: CHICAGO,
      now: wed9,
      policy: defaultPolicy(),
    });
    // 58% left over 56 h.
    expect(p.targetPerHourPercent.toFixed(4)).toBe('1.0357');
    expect(p.targetPerDayPercent.toFixed(4)).toBe('24.8571');
    // Period started Fri 20 Nov 17:00; 112 of 168 h elapsed.
    expect(p.start.toISO()).toBe('2026-11-20T17:00:00.000-06:00');
    expect(p.idealPercent.toFixed(4)).toBe('66.6667');
    expect(p.leadPercent.toFixed(4)).toBe('-24.6667');
    expect(p.status).toBe('behind');
    // B = 1 h at 100/168 %/h.
    expect(p.burstPercent.toFixed(4)).toBe('0.5952');
    expect(p.headroomPercent.toFixed(4)).toBe('25.2619');
  });

  it('report ahead and zero headroom when usage is above the line plus burst', () => {
    const p = paceWindow({
      spec: weekly,
      state: state('80', fri17, wed9),
      timezone: CHICAGO,
      now: wed9,
      policy: defaultPolicy(),
    });
    expect(p.status).toBe('ahead');
    expect(p.headroomPercent.isZero()).toBe(true);
    // Needs the line at 80 + 1 − 0.5952 → t = start + 80.4048% of 168 h.
    const t = earliestFit(p, dec(1), wed9)!;
    expect(t > wed9 && t < fri17).toBe(true);
    expect(earliestFit(p, dec(101), wed9)).toBeUndefined();
  });

  it('count unsignaled spend through percentPerUsd and reservations against headroom', () => {
    const p = paceWindow({
      spec: weekly,
      state: state('42', fri17, wed9, {
        unsignaledUsd: dec(10),
        percentPerUsd: dec('0.5'),
        reservedPercent: dec(3),
      }),
      timezone: CHICAGO,
      now: wed9,
      policy: defaultPolicy(),
    });
    expect(p.usedPercent.toString()).toBe('47');
    expect(p.leadPercent.toFixed(4)).toBe('-16.6667');
  });

  it('re-split the line from the observed usage when the reset is unknown (latest plausible)', () => {
    const seen = wed9.minus({ hours: 24 });
    const p = paceWindow({
      spec: weekly,
      state: {
        name: 'weekly',
        usedPercent: dec(28),
        reservedPercent: dec(0),
        confidence: 'unknown',
        observedAt: seen,
      },
      timezone: CHICAGO,
      now: wed9,
      policy: defaultPolicy(),
    });
    // Reset assumed 7 days after the observation; the line runs from 28% there to 100% at the reset.
    expect(p.resetAt.toMillis()).toBe(seen.plus({ days: 7 }).toMillis());
    expect(p.confidence).toBe('unknown');
    // 28 + 72 × 24/168 = 38.2857…
    expect(p.idealPercent.toFixed(4)).toBe('38.2857');
    const t = earliestFit(p, dec(15), wed9)!;
    // Needs 28 + 15 − B(0.5952) = 42.4048 on the line: 24 h × (42.4048 − 28)/72 × 7 = 33.6112 h after the observation.
    expect(t.diff(seen, 'hours').hours).toBeCloseTo(33.6112, 3);
  });

  it('use a percent burst as given', () => {
    const policy = policySchema.parse({ pacing: { burst: { percent: '5' } } });
    const p = paceWindow({
      spec: weekly,
      state: state('42', fri17, wed9),
      timezone: CHICAGO,
      now: wed9,
      policy,
    });
    expect(p.burstPercent.toString()).toBe('5');
  });

  it('let a rapid authorization raise the line X times faster, an overspend add to the lead, a bypass allow up to L', () => {
    const base = {
      spec: weekly,
      state: state('70', fri17, wed9),
      timezone: CHICAGO,
      now: wed9,
      policy: defaultPolicy(),
    };
    const plain = paceWindow(base);
    expect(plain.headroomPercent.isZero()).toBe(true);
    const rapid = paceWindow({
      ...base,
      authorizations: {
        rapid: {
          id: 'r',
          multiplier: dec(2),
          fromMs: wed9.minus({ hours: 24 }).toMillis(),
          untilMs: fri17.toMillis(),
        },
        overspendUsd: dec(0),
        bypass: false,
        ids: ['r'],
      },
    });
    // (88 + 2 × 24) / 168 × 100 = 80.952…
    expect(rapid.idealPercent.toFixed(3)).toBe('80.952');
    const over = paceWindow({
      ...base,
      authorizations: { overspendUsd: dec(50), bypass: false, ids: ['o'] },
    });
    // 50 USD × 100/500 = 10 points.
    expect(over.headroomPercent.toFixed(4)).toBe(dec('66.6667').plus('0.5952').plus(10).minus(70).toFixed(4));
    const bypass = paceWindow({ ...base, bypass: true });
    expect(bypass.headroomPercent.toString()).toBe('30');
  });
});
