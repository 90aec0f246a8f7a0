import { DateTime } from 'luxon';
import type { Urgency } from '../urgency.js';
import type { Scenario } from './scenario.js';
import { exponential, logNormal, logNormalMean, substream } from './prng.js';

/** One task the simulated fleet wants to run. */
export interface SimTask {
  id: string;
  atMs: number;
  taskClass: string;
  model: string;
  /** What the orchestrator believes it will take. */
  estimateTokens: number;
  /** What it will actually take, on whichever model runs it. */
  actualTokens: number;
  urgency: Urgency;
  deadlineMs?: number;
  minutes: number;
}

const MINUTE_MS = 60_000;
/** Default cap of a generated task's size, as a multiple of its P90 (see the generator schema). */
export const DEFAULT_MAX_OVER_P90 = 4;

/**
 * Every task of a scenario, sorted by arrival: its explicit `demand` and the Poisson streams of its
 * `generators`, each generator drawing from its own seeded substream so demand is identical for
 * every strategy and independent of the order of the other generators.
 */
export function expandDemand(s: Scenario): SimTask[] {
  const tasks: SimTask[] = [];
  const startMs = s.start.toMillis();
  const endMs = s.end.toMillis();
  s.demand.forEach((d, i) => {
    const atMs = d.at.toMillis();
    if (atMs < startMs || atMs >= endMs) return;
    const t: SimTask = {
      id: `d${i}`,
      atMs,
      taskClass: d.taskClass,
      model: d.model,
      estimateTokens: d.estimateTokens,
      actualTokens: d.actualTokens,
      urgency: d.urgency,
      minutes: d.minutes ?? s.taskMinutes,
    };
    if (d.deadline) t.deadlineMs = d.deadline.toMillis();
    tasks.push(t);
  });
  s.generators.forEach((g, gi) => {
    const rng = substream(s.seed, gi);
    const ratePerMs = g.ratePerHour / 3_600_000;
    let day = s.start.setZone(s.timezone).startOf('day');
    let n = 0;
    // An unbiased estimate is the distribution's mean, not its median: spend adds up by the mean.
    const mean = logNormalMean(g.tokens.median, g.tokens.p90);
    const maxTokens = g.tokens.max ?? g.tokens.p90 * DEFAULT_MAX_OVER_P90;
    while (day.toMillis() < endMs) {
      if (g.days.includes(day.weekday)) {
        const from = Math.max(startMs, day.plus({ minutes: g.activeHours.fromMin }).toMillis());
        const to = Math.min(endMs, day.plus({ minutes: g.activeHours.toMin }).toMillis());
        let t = from + exponential(rng, ratePerMs);
        while (t < to) {
          const draw = logNormal(rng, g.tokens.median, g.tokens.p90);
          const actual = Math.max(1, Math.round(Math.min(draw, maxTokens)));
          tasks.push({
            id: `g${gi}-${n++}`,
            atMs: Math.floor(t),
            taskClass: g.taskClass,
            model: g.model,
            estimateTokens: Math.max(1, Math.round(mean * g.estimateBias)),
            actualTokens: actual,
            urgency: g.urgency,
            minutes: g.minutes ?? s.taskMinutes,
          });
          t += exponential(rng, ratePerMs);
        }
      }
      day = day.plus({ days: 1 });
    }
  });
  // Ties broken by id so the order never depends on the engine's sort.
  return tasks.sort((a, b) => a.atMs - b.atMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Minutes as milliseconds. */
export function minutesMs(m: number): number {
  return Math.round(m * MINUTE_MS);
}

/** An instant in epoch ms as an ISO string in `zone`. */
export function isoAt(ms: number, zone: string): string {
  return DateTime.fromMillis(ms, { zone }).toISO() ?? new Date(ms).toISOString();
}
