import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { estimateToFixed4, headroomEstimate, sameHeadroomInputs } from './headroom-estimate.js';
import { windowHeadroom, type WindowHeadroomInput } from './headroom.js';
import { burstSchema } from './policy.js';
import { dec } from './money.js';
import { DAY_MS, HOUR_MS } from './time.js';
import { windowSpecSchema } from './window.js';
import { currentWindowMs } from './window-schedule.js';
import type { ActiveAuthorizations } from './authorizations-active.js';
import type { WindowState } from './snapshot.js';
import type { Confidence } from './confidence.js';

// Instants within two weeks either side of the 2026 autumn DST changes (Europe 25 Oct, America
// 1 Nov) and of Lord Howe's half-hour change, so fixed windows are shifted across them.
const BASE_MS = DateTime.fromISO('2026-10-28T12:00:00Z').toMillis();
const SPAN_MS = 14 * DAY_MS;
const ZONES = ['America/Chicago', 'Europe/London', 'UTC', 'Australia/Lord_Howe'] as const;
const SPECS = [
  windowSpecSchema.parse({ name: 'five-hour', length: 'PT5H', rolling: true, capacityUsd: '40' }),
  windowSpecSchema.parse({ name: 'weekly', length: 'P7D', capacityUsd: '1000' }),
  windowSpecSchema.parse({ name: 'monthly', length: 'P1M', capacityUsd: '30' }),
  windowSpecSchema.parse({ name: 'odd', length: 'PT7H13M', rolling: true, capacityUsd: '7.3' }),
  windowSpecSchema.parse({ name: 'uncalibrated', length: 'P1D' }),
];
const BURSTS = [
  burstSchema.parse({ pace: 'PT1H' }),
  burstSchema.parse({ pace: 'PT37M' }),
  burstSchema.parse({ percent: '2.5' }),
];
const CONFIDENCES: Confidence[] = ['user', 'provider', 'estimated', 'unknown'];
const NUM_RUNS = 400;
// A nudged input changes the headroom only where it is not clamped, so the comparison of inputs
// needs more runs to meet enough of those.
const SAME_RUNS = 1_000;

// Usage with up to four decimals, reaching past 100% (providers report overage); few distinct
// values are likely, so equal usage on two windows (the gate's near-ties) is common.
const percentArb = fc.oneof(
  fc.integer({ min: 0, max: 12_000 }).map((n) => dec(n).div(100)),
  fc.integer({ min: 0, max: 1_200_000 }).map((n) => dec(n).div(10_000)),
  fc.constantFrom(dec(0), dec(50), dec(100), dec('33.3333')),
);
const offsetArb = fc.integer({ min: -SPAN_MS, max: SPAN_MS });

const inputArb: fc.Arbitrary<WindowHeadroomInput> = fc
  .record({
    spec: fc.constantFrom(...SPECS),
    zone: fc.constantFrom(...ZONES),
    now: offsetArb,
    hasState: fc.boolean(),
    used: percentArb,
    unsignaledCents: fc.option(fc.integer({ min: 0, max: 50_000 })),
    reserved: fc.integer({ min: 0, max: 2_000 }).map((n) => dec(n).div(100)),
    observedAgo: fc.integer({ min: -HOUR_MS, max: 9 * DAY_MS }),
    resetIn: fc.option(fc.integer({ min: -40 * DAY_MS, max: 40 * DAY_MS })),
    startedAgo: fc.option(fc.integer({ min: -HOUR_MS, max: 8 * HOUR_MS })),
    confidence: fc.constantFrom(...CONFIDENCES),
    calibrated: fc.option(fc.integer({ min: 1, max: 100_000 }).map((n) => dec(n).div(3_000))),
    burst: fc.constantFrom(...BURSTS),
    defaultCapacity: fc.constantFrom(dec(200), dec(333)),
    rapid: fc.option(
      fc.record({
        multiplier: fc.integer({ min: 101, max: 400 }).map((n) => dec(n).div(100)),
        from: offsetArb,
        until: offsetArb,
      }),
    ),
    overspend: fc.option(fc.integer({ min: 0, max: 20_000 }).map((n) => dec(n).div(100))),
    bypass: fc.boolean(),
  })
  .map((g) => {
    const nowMs = BASE_MS + g.now;
    const at = (ms: number) => DateTime.fromMillis(ms, { zone: g.zone });
    const state: WindowState | undefined = g.hasState
      ? {
          name: g.spec.name,
          usedPercent: g.used,
          observedAt: at(nowMs - g.observedAgo),
          reservedPercent: g.reserved,
          confidence: g.confidence,
          ...(g.unsignaledCents !== null ? { unsignaledUsd: dec(g.unsignaledCents).div(100) } : {}),
          ...(g.resetIn !== null ? { resetAt: at(nowMs + g.resetIn) } : {}),
          ...(g.startedAgo !== null ? { startedAt: at(nowMs - g.startedAgo) } : {}),
          ...(g.calibrated !== null ? { percentPerUsd: g.calibrated } : {}),
        }
      : undefined;
    let authorizations: ActiveAuthorizations | undefined;
    if (g.rapid || g.overspend) {
      authorizations = { overspendUsd: g.overspend ?? dec(0), bypass: false, ids: ['a'] };
      if (g.rapid) {
        const fromMs = BASE_MS + Math.min(g.rapid.from, g.rapid.until);
        const untilMs = BASE_MS + Math.max(g.rapid.from, g.rapid.until) + 1;
        authorizations.rapid = { id: 'r', multiplier: g.rapid.multiplier, fromMs, untilMs };
      }
    }
    return {
      spec: g.spec,
      state,
      timezone: g.zone,
      nowMs,
      burst: g.burst,
      defaultCapacityUsd: g.defaultCapacity,
      ...(authorizations ? { authorizations } : {}),
      bypass: g.bypass,
    };
  });

const periodOf = (i: WindowHeadroomInput) => currentWindowMs(i.spec, i.timezone, i.state, i.nowMs);

/** The same input with every decimal rebuilt from its text: equal values, different objects. */
function copyOf(i: WindowHeadroomInput): WindowHeadroomInput {
  const re = <T extends { toString(): string } | undefined>(d: T) =>
    (d === undefined ? undefined : dec(d.toString())) as T;
  const state = i.state && {
    ...i.state,
    usedPercent: re(i.state.usedPercent),
    reservedPercent: re(i.state.reservedPercent),
    ...(i.state.unsignaledUsd ? { unsignaledUsd: re(i.state.unsignaledUsd) } : {}),
    ...(i.state.percentPerUsd ? { percentPerUsd: re(i.state.percentPerUsd) } : {}),
  };
  const a = i.authorizations;
  const authorizations = a && {
    ...a,
    overspendUsd: re(a.overspendUsd),
    ...(a.rapid ? { rapid: { ...a.rapid, multiplier: re(a.rapid.multiplier) } } : {}),
  };
  return { ...i, state, ...(authorizations ? { authorizations } : {}) };
}

// One input changed by a little, so that a comparison that forgot it would call two windows with
// different headrooms the same.
const NUDGES = [
  'used',
  'reserved',
  'unsignaled',
  'calibrated',
  'overspend',
  'rapid',
  'burst',
  'bypass',
] as const;
function nudged(i: WindowHeadroomInput, what: (typeof NUDGES)[number]): WindowHeadroomInput {
  const bit = dec('0.0001');
  const s = i.state;
  const a = i.authorizations ?? { overspendUsd: dec(0), bypass: false, ids: [] };
  switch (what) {
    case 'used':
      return s ? { ...i, state: { ...s, usedPercent: s.usedPercent.plus(bit) } } : i;
    case 'reserved':
      return s ? { ...i, state: { ...s, reservedPercent: s.reservedPercent.plus(bit) } } : i;
    case 'unsignaled':
      return s ? { ...i, state: { ...s, unsignaledUsd: (s.unsignaledUsd ?? dec(0)).plus(bit) } } : i;
    case 'calibrated':
      return s ? { ...i, state: { ...s, percentPerUsd: (s.percentPerUsd ?? dec(1)).plus(bit) } } : i;
    case 'overspend':
      return { ...i, authorizations: { ...a, overspendUsd: a.overspendUsd.plus(bit) } };
    case 'rapid':
      return a.rapid
        ? { ...i, authorizations: { ...a, rapid: { ...a.rapid, multiplier: a.rapid.multiplier.plus(bit) } } }
        : i;
    case 'burst':
      return { ...i, burst: burstSchema.parse({ percent: '0.0001' }) };
    case 'bypass':
      return { ...i, bypass: i.bypass !== true };
  }
}

describe('the headroom estimate the gate ranks with', () => {
  it('brackets the exact decimal headroom within its error, across DST changes, and an error of 0 means exactly 0', () => {
    fc.assert(
      fc.property(inputArb, fc.boolean(), (input, withPeriod) => {
        const exact = windowHeadroom(input).headroomPercent;
        const e = withPeriod ? headroomEstimate(input, periodOf(input)) : headroomEstimate(input);
        if (e.error === 0) expect(exact.isZero()).toBe(true);
        // Small enough to be useful: far below the 0.00005 that decides the fourth decimal.
        expect(e.error).toBeLessThan(1e-9);
        expect(exact.minus(e.percent).abs().lte(e.error)).toBe(true);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('prints, whenever it is sure, exactly what toFixed(4) prints of the exact headroom', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const text = estimateToFixed4(headroomEstimate(input));
        if (text !== undefined) expect(text).toBe(windowHeadroom(input).headroomPercent.toFixed(4));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('brackets the exact ideal line and cap within its bound, and prints them, when sure, as toFixed(4) does', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const h = windowHeadroom(input);
        const e = headroomEstimate(input);
        const bound = e.bound ?? Number.NaN;
        for (const [exact, estimate] of [
          [h.idealPercent, e.ideal],
          [h.capPercent, e.cap],
        ] as const) {
          expect(estimate).toBeDefined();
          const percent = estimate ?? Number.NaN;
          expect(exact.minus(percent).abs().lte(bound)).toBe(true);
          const text = estimateToFixed4({ percent, error: bound });
          if (text !== undefined) expect(text).toBe(exact.toFixed(4));
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('is unsure of the fourth decimal only within its error of a rounding boundary', () => {
    expect(estimateToFixed4({ percent: 12.34565, error: 1e-12 })).toBeUndefined();
    expect(estimateToFixed4({ percent: 12.34565, error: Number.NaN })).toBeUndefined();
    expect(estimateToFixed4({ percent: 12.3456, error: 1e-12 })).toBe('12.3456');
    expect(estimateToFixed4({ percent: 99.99996, error: 1e-12 })).toBe('100.0000');
    expect(estimateToFixed4({ percent: 0, error: 0 })).toBe('0.0000');
    expect(estimateToFixed4({ percent: -1, error: 1e-12 })).toBeUndefined();
  });

  it('windows whose inputs are the same (equal values, other objects) have the same exact headroom, and are recognised as such', () => {
    fc.assert(
      fc.property(inputArb, inputArb, fc.constantFrom('copy', 'other', ...NUDGES), (a, other, how) => {
        const b =
          how === 'copy'
            ? copyOf(a)
            : how === 'other'
              ? { ...other, nowMs: a.nowMs }
              : nudged(copyOf(a), how);
        const same = sameHeadroomInputs(a, periodOf(a), b, periodOf(b));
        if (how === 'copy') expect(same).toBe(true);
        if (same) expect(windowHeadroom(b).headroomPercent.eq(windowHeadroom(a).headroomPercent)).toBe(true);
      }),
      { numRuns: SAME_RUNS },
    );
  });
});
