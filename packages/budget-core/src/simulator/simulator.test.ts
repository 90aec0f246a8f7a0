import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scenarioSchema, type ScenarioInput } from './scenario.js';
import { simulate } from './engine.js';
import { formatReport } from './report.js';
import { renderPaceSvg } from './pace-svg.js';
import { expandDemand } from './demand.js';

const SCENARIOS = fileURLToPath(new URL('../../../../docs/scenarios/', import.meta.url));

// Bounds on generated scenarios: a week, Max-plan capacities, and demand from just above capacity
// to twice it (the regime where pacing matters). The 5-hour window holds 15–30 % of the week, so a
// P90 task (about $4 of Opus) is at most 5 % of any window. Task sizes keep the generator's tail
// (up to 4 × P90): the engine reserves the learnt P90, so a tail task near a reset can overrun a
// window by what it costs beyond that, and the property states exactly that bound.
const MIN_TRUTH_USD = 600;
const MAX_TRUTH_USD = 1500;
const MIN_SESSION_SHARE = 0.15;
const MAX_SESSION_SHARE = 0.3;
// The report rounds each percentage to four decimals; the inequality is checked up to that.
const ROUNDING_PERCENT = 0.0003;
// Each run simulates a week (about two seconds), so CI tries five scenarios on a fresh random seed
// every time; SIM_PROPERTY_RUNS raises that for a longer local search.
const PROPERTY_RUNS = Number(process.env.SIM_PROPERTY_RUNS ?? 5);
// A week of same-size tasks simulates in a tenth of a second: that property tries more by default.
const EXACT_PROPERTY_RUNS = Number(process.env.SIM_PROPERTY_RUNS ?? 25);
// A failure prints its seed; SIM_PROPERTY_SEED replays it.
const PROPERTY_SEED = process.env.SIM_PROPERTY_SEED;

/** fast-check's options for a simulator property: its number of runs, and the seed to replay if set. */
const runsOf = (numRuns: number): fc.Parameters<unknown> => ({
  numRuns,
  ...(PROPERTY_SEED === undefined ? {} : { seed: Number(PROPERTY_SEED) }),
});
// Simulations are seconds each on a loaded two-core machine.
const SIM_TIMEOUT_MS = 240_000;
const OPUS_USD_PER_TASK = 2.12; // mean of the generator below at the default token mix

/** The generator's task sizes: log-normal with the tail above, or every task the same size. */
type Sizes = { median: number; p90: number; max?: number };
const TAILED: Sizes = { median: 120000, p90: 300000 };
// The tailed generator's mean, so both shapes ask for the same spend per hour.
const EXACT: Sizes = { median: 155000, p90: 155000, max: 155000 };

function oneWeek(
  seed: number,
  truthUsd: number,
  demandFactor: number,
  sessionUsd: number,
  tokens: Sizes = TAILED,
): ScenarioInput {
  // Demand runs 60 weekday hours; size its rate so a week's demand is demandFactor × capacity.
  const rate = (truthUsd * demandFactor) / (60 * OPUS_USD_PER_TASK);
  return {
    version: 1,
    seed,
    start: '2026-11-27T17:00:00-06:00',
    end: '2026-12-04T17:00:00-06:00',
    timezone: 'America/Chicago',
    accounts: [
      {
        id: 'max-a',
        provider: 'anthropic',
        kind: 'subscription',
        models: ['claude-opus-4', 'claude-sonnet-4', 'claude-haiku-4'],
        windows: [
          { name: 'weekly', length: 'P7D', resetAt: '2026-12-04T17:00:00-06:00', truthUsd: String(truthUsd) },
          { name: 'session', length: 'PT5H', rolling: true, truthUsd: String(sessionUsd) },
        ],
      },
    ],
    generators: [
      {
        taskClass: 'feature',
        model: 'claude-opus-4',
        ratePerHour: Math.round(rate * 100) / 100,
        activeHours: '08:00-20:00',
        days: 'Mon-Fri',
        tokens,
      },
    ],
  };
}

/** A random week in the bounds above: seed, capacity, demand and the 5-hour window's share. */
function randomWeek(tokens: Sizes) {
  return fc
    .tuple(
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: MIN_TRUTH_USD, max: MAX_TRUTH_USD }),
      fc.double({ min: 1.1, max: 2, noNaN: true }),
      fc.double({ min: MIN_SESSION_SHARE, max: MAX_SESSION_SHARE, noNaN: true }),
    )
    .map(([seed, truth, factor, sessionShare]) =>
      scenarioSchema.parse(oneWeek(seed, truth, factor, Math.round(truth * sessionShare), tokens)),
    );
}

describe('simulator', () => {
  it('is deterministic: the same scenario gives the same report', () => {
    const s = scenarioSchema.parse(oneWeek(3, 500, 1.5, 120));
    const a = simulate(s, { strategies: ['paced'] }).report;
    const b = simulate(s, { strategies: ['paced'] }).report;
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.runs[0]?.windows.length).toBeGreaterThan(0);
  });

  it('expands generators only inside their active hours and days', () => {
    const s = scenarioSchema.parse(oneWeek(5, 500, 1, 120));
    for (const t of expandDemand(s)) {
      const local = new Date(t.atMs).toLocaleString('en-US', {
        timeZone: 'America/Chicago',
        hour12: false,
        weekday: 'short',
        hour: '2-digit',
      });
      expect(local).not.toMatch(/Sat|Sun/);
    }
  });

  it('rejects a scenario whose demand names a model no account serves', () => {
    const bad = {
      ...oneWeek(1, 500, 1, 120),
      demand: [
        {
          at: '2026-11-30T10:00:00-06:00',
          taskClass: 'x',
          model: 'gpt-9',
          estimateTokens: 1,
          actualTokens: 1,
        },
      ],
    };
    const r = scenarioSchema.safeParse(bad);
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('no account serves model');
  });

  it('renders a table and a pace chart', () => {
    const result = simulate(scenarioSchema.parse(oneWeek(9, 400, 1.5, 100)));
    const text = formatReport(result.report);
    for (const s of ['paced', 'greedy', 'static-daily-cap', 'max-a/weekly']) expect(text).toContain(s);
    const svg = renderPaceSvg(result);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('max-a / weekly');
    expect(svg).not.toContain('max-a / session');
  });

  for (const file of readdirSync(SCENARIOS)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    it(
      `shipped scenario ${file}: paced fills every weekly window to ≥ 97 % without exhausting it early, greedy exhausts early`,
      () => {
        const s = scenarioSchema.parse(JSON.parse(readFileSync(join(SCENARIOS, file), 'utf8')));
        const { report } = simulate(s, { strategies: ['paced', 'greedy'] });
        const [paced, greedy] = report.runs;
        const weekly = (w: { window: string; complete: boolean }) => w.window === 'weekly' && w.complete;
        for (const w of paced?.windows.filter(weekly) ?? []) {
          expect(w.utilization, `${w.account} ${w.resetAt}`).toBeGreaterThanOrEqual(0.97);
        }
        expect(paced?.windows.filter((w) => w.exhaustedAt !== null)).toEqual([]);
        expect(paced?.tasks.refused).toBe(0);
        expect(paced?.momentumLostHours).toBe(0);
        expect(greedy?.windows.some((w) => weekly(w) && w.exhaustedAt !== null)).toBe(true);
      },
      SIM_TIMEOUT_MS,
    );
  }

  it('accounts for the overrun of seed 52539: one 1.2 M-token task admitted 2.5 h before the reset', () => {
    // The counterexample fast-check found (seed 901664422): the weekly window ran out at Fri 15:12
    // (100.11 %; 100.12 % at the reset). The task admitted at 14:35 drew the generator's cap,
    // 1.2 M tokens = 1.47 % of the window, against a P90 reservation of 0.29 %; the engine's
    // reading was above the truth then (a negative reading error).
    const s = scenarioSchema.parse(oneWeek(52539, 1120, 1.291875, Math.round(1120 * 0.15)));
    const weekly = simulate(s, { strategies: ['paced'] }).report.runs[0]?.windows.find(
      (w) => w.window === 'weekly',
    );
    expect(weekly?.exhaustedAt).toBe('2026-12-04T15:12:40.233-06:00');
    expect(weekly?.overrun).toEqual({
      percent: 0.1098,
      overReservationPercent: 0.8264,
      readingErrorPercent: -0.0356,
      largestOverReservationPercent: 1.182,
    });
  });

  it(
    'property: with unbiased estimates that are exact (every task costs what it is estimated), the paced engine never exhausts a window early',
    () => {
      // The issue's statement, literally, in the regime where it can hold: no task costs more than
      // what the engine reserves for it once it has learnt the size, so nothing but the engine's
      // own reading and pacing could run a window out. With random sizes see the next property.
      fc.assert(
        fc.property(randomWeek(EXACT), (s) => {
          const { report } = simulate(s, { strategies: ['paced'] });
          const [paced] = report.runs;
          expect(paced?.windows.filter((w) => w.exhaustedAt !== null)).toEqual([]);
          expect(paced?.momentumLostHours).toBe(0);
          expect(paced?.tasks.refused).toBe(0);
        }),
        runsOf(EXACT_PROPERTY_RUNS),
      );
    },
    SIM_TIMEOUT_MS,
  );

  it(
    "property: with unbiased estimates, a paced window runs out before its reset only by what tasks in flight spent beyond their reservations (plus the engine's reading error)",
    () => {
      fc.assert(
        fc.property(randomWeek(TAILED), (s) => {
          const { report } = simulate(s, { strategies: ['paced'] });
          for (const w of report.runs[0]?.windows ?? []) {
            if (w.exhaustedAt === null) {
              expect(w.overrun).toBeNull();
              continue;
            }
            // The engine's promise at every admission: its reading of usage plus every reservation
            // in flight stays within 100 %. So an early overrun is at most what the tasks in flight
            // at the last admission spent beyond their P90 reservations, plus how far the engine's
            // reading was below the truth then; and it needs at least one task over its reservation.
            const o = w.overrun;
            expect(o, `${w.account}/${w.window} ${w.exhaustedAt}`).not.toBeNull();
            if (!o) continue;
            expect(o.largestOverReservationPercent).toBeGreaterThan(0);
            expect(o.percent).toBeLessThanOrEqual(
              o.overReservationPercent + Math.max(0, o.readingErrorPercent) + ROUNDING_PERCENT,
            );
          }
        }),
        runsOf(PROPERTY_RUNS),
      );
    },
    SIM_TIMEOUT_MS,
  );
});
