import { DateTime } from 'luxon';
import { policySchema, type Policy } from '../policy.js';
import { priceTable, type PriceTable } from '../prices.js';
import { HOUR_MS } from '../time.js';
import { ZERO } from '../money.js';
import { calibrationOf } from '../calibration.js';
import { estimateError, estimatorCells, quantile } from '../estimator.js';
import { expandDemand, minutesMs, type SimTask } from './demand.js';
import type { OverrunAccount, UsagePoint, WindowInstance } from './provider.js';
import type { Scenario } from './scenario.js';
import { candidates, chooserFor, STRATEGIES, type Chooser, type Strategy } from './strategies.js';
import { World, type SimAccount } from './world.js';

/** One window period in a run's report (the `--json` contract; fields may be added, never renamed). */
export interface WindowReport {
  account: string;
  window: string;
  /** Extension: when the period began. */
  startAt: string;
  resetAt: string;
  complete: boolean;
  /** True usage at the reset as a fraction of the true capacity. */
  utilization: number;
  /** When true usage reached the capacity before the reset; null when it never did. */
  exhaustedAt: string | null;
  /** Largest lead over the ideal line, as a fraction of the capacity. */
  maxLead: number;
  /**
   * Extension: for a window exhausted early, the accounting of the overrun in percentage points
   * (see {@link OverrunAccount}); null otherwise.
   */
  overrun: OverrunAccount | null;
}

/** Task outcomes of a run. */
export interface TaskCounts {
  allowed: number;
  downgraded: number;
  rerouted: number;
  /** Tasks that waited at least once before they were admitted (or the scenario ended). */
  queued: number;
  refused: number;
  queueDelayMinutes: { mean: number; p95: number };
  /** Extension: tasks still waiting when the scenario ended. */
  unserved: number;
  /** Extension: admissions the provider turned away because a window was already exhausted. */
  providerRejected: number;
}

/** What the engine learnt in a run: calibration per window against the hidden truth, estimate errors. */
export interface LearningReport {
  calibration: {
    account: string;
    window: string;
    percentPerUsd: number;
    truePercentPerUsd: number;
    error: number;
  }[];
  estimates: { taskClass: string; model: string; n: number; mape: number; bias: number }[];
}

/** One strategy's run. */
export interface RunReport {
  strategy: Strategy;
  windows: WindowReport[];
  tasks: TaskCounts;
  /** Hours in which demand waited while every account that could serve it was exhausted. */
  momentumLostHours: number;
  /** Extension: true API-equivalent USD spent. */
  spendUsd: string;
  /** Extension: the same per account (for an api account, real money). */
  spendByAccount: Record<string, string>;
  /** Extension. */
  learning: LearningReport;
}

/** The report of `mosaic budget simulate --json`. */
export interface SimulationReport {
  /** Extension: the scenario's name, seed and span. */
  scenario: { name: string | null; seed: number; start: string; end: string; tasks: number };
  runs: RunReport[];
}

/** A window's true usage over time, for charts. */
export interface SeriesPanel {
  account: string;
  window: string;
  rolling: boolean;
  periods: { startMs: number; resetMs: number }[];
  points: UsagePoint[];
}

/** Everything a simulation produces: the report and, per strategy, the usage series behind it. */
export interface SimulationResult {
  report: SimulationReport;
  series: { strategy: Strategy; panels: SeriesPanel[] }[];
}

/** Options of {@link simulate}. */
export interface SimulateOptions {
  strategies?: readonly Strategy[];
}

/**
 * The policy a scenario runs under: its own, or the defaults the issue specifies — each account's
 * models are its ladder, accounts in their listed order, every account serves every class.
 */
export function scenarioPolicy(s: Scenario): Policy {
  if (s.policy) return s.policy;
  const ladder: string[] = [];
  for (const a of s.accounts) for (const m of a.models) if (!ladder.includes(m)) ladder.push(m);
  return policySchema.parse({ ladder, routing: { order: s.accounts.map((a) => a.id) } });
}

interface Waiting {
  task: SimTask;
  retryAtMs: number;
  waited: boolean;
}

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

function priorityOf(policy: Policy, task: SimTask): number {
  return policy.urgency.priority[task.urgency] ?? 0;
}

function ceilingFull(world: World, acct: SimAccount, nowMs: number): boolean {
  const c = acct.account.ceiling;
  if (!c) return false;
  const b = world.periodBounds(c.period, acct.account.timezone, DateTime.fromMillis(nowMs, { zone: 'UTC' }));
  return world.spendBetween(acct, b.start.toMillis(), b.end.toMillis()).gte(c.usd);
}

function runOne(
  scenario: Scenario,
  policy: Policy,
  prices: PriceTable,
  tasks: SimTask[],
  strategy: Strategy,
) {
  const world = new World(scenario, policy, prices);
  const choose: Chooser = chooserFor(strategy);
  const counts: TaskCounts = {
    allowed: 0,
    downgraded: 0,
    rerouted: 0,
    queued: 0,
    refused: 0,
    queueDelayMinutes: { mean: 0, p95: 0 },
    unserved: 0,
    providerRejected: 0,
  };
  const delays: number[] = [];
  const lostHours = new Set<number>();
  const candCache = new Map<string, ReturnType<typeof candidates>>();
  let queue: Waiting[] = [];
  let next = 0;
  let t = world.startMs;
  const end = world.endMs;

  // The queue is kept in offer order (priority, then age): arrivals are appended, and only an
  // arrival that outranks the tail forces a re-sort, so a long backlog is not sorted on every event.
  let unsorted = false;
  // The earliest retryAt in the queue, recomputed after each pass (the only place retries change).
  let minRetry = Number.POSITIVE_INFINITY;
  // One waiting task per (class, model), for the momentum check.
  const waitingKinds = new Map<string, SimTask>();
  // How many tasks of each (class, model) wait, so a pass knows when every kind is blocked.
  const kindCount = new Map<string, number>();
  // Kinds that had to wait, with the world's version then and when they may be offered again.
  const stillBlocked = new Map<string, { version: number; untilMs: number }>();
  const kindOf = (t: SimTask) => `${t.taskClass}\u0000${t.model}`;
  const leave = (t: SimTask) => {
    const k = kindOf(t);
    const n = (kindCount.get(k) ?? 0) - 1;
    if (n <= 0) kindCount.delete(k);
    else kindCount.set(k, n);
  };
  const enqueue = (w: Waiting) => {
    const k = kindOf(w.task);
    kindCount.set(k, (kindCount.get(k) ?? 0) + 1);
    const tail = queue[queue.length - 1];
    if (tail && priorityOf(policy, w.task) > priorityOf(policy, tail.task)) unsorted = true;
    queue.push(w);
  };
  const pass = (nowMs: number) => {
    if (unsorted) {
      queue.sort(
        (a, b) =>
          priorityOf(policy, b.task) - priorityOf(policy, a.task) ||
          a.task.atMs - b.task.atMs ||
          (a.task.id < b.task.id ? -1 : 1),
      );
      unsorted = false;
    }
    // Tasks of one class and model are alike to the gate (same learnt estimate, same routes): once
    // the first in line must wait, those behind it wait too, so they are not offered again.
    const blocked = new Set<string>();
    for (const [k, b] of stillBlocked) {
      // Nothing the strategy reads has changed since this kind had to wait, and its time has not come.
      if (b.version === world.version && nowMs < b.untilMs) blocked.add(k);
    }
    stillBlocked.clear();
    const remaining: Waiting[] = [];
    for (const [i, w] of queue.entries()) {
      if (blocked.size === kindCount.size) {
        // Every kind of task waiting is blocked: the rest of the queue keeps its place untouched.
        for (let j = i; j < queue.length; j++) remaining.push(queue[j] as Waiting);
        break;
      }
      const key = `${w.task.taskClass}\u0000${w.task.model}`;
      if (blocked.has(key)) {
        remaining.push(w);
        continue;
      }
      if (strategy !== 'paced' && w.task.deadlineMs !== undefined && nowMs > w.task.deadlineMs) {
        counts.refused++;
        leave(w.task);
        continue;
      }
      const tokens = world.estimateTokens(w.task).central;
      const offer = choose(world, w.task, nowMs);
      if (offer.kind === 'refuse') {
        counts.refused++;
        leave(w.task);
        continue;
      }
      if (offer.kind === 'wait') {
        if (!w.waited) counts.queued++;
        w.waited = true;
        // Never wake in the same instant: a wait with no better time is re-offered on the next change.
        w.retryAtMs = Math.max(offer.retryAtMs ?? Number.POSITIVE_INFINITY, nowMs + 60_000);
        blocked.add(key);
        stillBlocked.set(key, { version: world.version, untilMs: w.retryAtMs });
        remaining.push(w);
        continue;
      }
      if (world.providerExhausted(offer.account, offer.model)) {
        // The engine's view lags the provider: the provider turns the task away and it waits.
        counts.providerRejected++;
        if (!w.waited) counts.queued++;
        w.waited = true;
        w.retryAtMs = world.nextSignalMs();
        blocked.add(key);
        remaining.push(w);
        continue;
      }
      const kind =
        offer.kind === 'allow' ? 'allowed' : offer.kind === 'downgrade' ? 'downgraded' : 'rerouted';
      counts[kind]++;
      leave(w.task);
      delays.push((nowMs - w.task.atMs) / 60_000);
      world.start({
        task: w.task,
        account: offer.account,
        model: offer.model,
        startMs: nowMs,
        endMs: nowMs + minutesMs(w.task.minutes),
        usd: world.usdOf(offer.model, w.task.actualTokens),
        reserve: offer.reserve,
        estimatedTokens: tokens,
      });
    }
    queue = remaining;
    minRetry = Number.POSITIVE_INFINITY;
    waitingKinds.clear();
    for (const w of queue) {
      if (w.retryAtMs < minRetry) minRetry = w.retryAtMs;
      const key = `${w.task.taskClass}\u0000${w.task.model}`;
      if (!waitingKinds.has(key)) waitingKinds.set(key, w.task);
    }
  };

  const checkMomentum = (nowMs: number) => {
    const hour = Math.floor((nowMs - world.startMs) / HOUR_MS);
    if (lostHours.has(hour)) return;
    for (const [key, task] of waitingKinds) {
      let cands = candCache.get(key);
      if (!cands) {
        cands = candidates(world, task);
        candCache.set(key, cands);
      }
      const stuck = cands.every(
        (c) => world.providerExhausted(c.acct.account.id, c.model) || ceilingFull(world, c.acct, nowMs),
      );
      if (stuck) {
        lostHours.add(hour);
        return;
      }
    }
  };

  world.emitSignals(t);
  for (;;) {
    world.advance(t);
    let changed = world.complete(t) > 0;
    changed = world.emitSignals(t) || changed;
    while (next < tasks.length && (tasks[next]?.atMs ?? Infinity) <= t) {
      const task = tasks[next++];
      if (task) enqueue({ task, retryAtMs: t, waited: false });
      changed = true;
    }
    if (changed || minRetry <= t || world.nextResetMs(t - 1) === t) {
      pass(t);
    }
    checkMomentum(t);
    let nextT = Math.min(
      tasks[next]?.atMs ?? Number.POSITIVE_INFINITY,
      world.nextCompletionMs(),
      world.nextSignalMs(),
      world.nextResetMs(t),
      world.startMs + (Math.floor((t - world.startMs) / HOUR_MS) + 1) * HOUR_MS,
    );
    if (minRetry > t && minRetry < nextT) nextT = minRetry;
    if (nextT >= end) break;
    t = nextT;
  }
  world.advance(end);
  world.complete(end);
  counts.unserved = queue.length;
  counts.queueDelayMinutes = {
    mean: delays.length === 0 ? 0 : round4(delays.reduce((a, b) => a + b, 0) / delays.length),
    p95: delays.length === 0 ? 0 : round4(quantile(delays, 0.95)),
  };
  const instances: WindowInstance[] = [];
  const panels: SeriesPanel[] = [];
  for (const a of world.accounts) {
    for (const w of a.truth) {
      w.finish();
      instances.push(...w.instances);
      panels.push({
        account: a.account.id,
        window: w.spec.name,
        rolling: w.spec.rolling,
        periods: w.instances.map((i) => ({ startMs: i.startMs, resetMs: i.resetMs })),
        points: w.points,
      });
    }
  }
  const zone = scenario.timezone;
  const iso = (ms: number) => DateTime.fromMillis(ms, { zone }).toISO() ?? '';
  const windows: WindowReport[] = instances.map((i) => ({
    account: i.account,
    window: i.window,
    startAt: iso(i.startMs),
    resetAt: iso(i.resetMs),
    complete: i.complete,
    utilization: round4(i.usedUsd.div(i.truthUsd).toNumber()),
    exhaustedAt: i.exhaustedAtMs === undefined ? null : iso(i.exhaustedAtMs),
    maxLead: round4(i.maxLead),
    overrun: i.overrun
      ? {
          percent: round4(i.overrun.percent),
          overReservationPercent: round4(i.overrun.overReservationPercent),
          readingErrorPercent: round4(i.overrun.readingErrorPercent),
          largestOverReservationPercent: round4(i.overrun.largestOverReservationPercent),
        }
      : null,
  }));
  let spend = ZERO;
  const spendByAccount: Record<string, string> = {};
  for (const a of world.accounts) {
    spend = spend.plus(world.totalSpend(a));
    spendByAccount[a.account.id] = world.totalSpend(a).toFixed(2);
  }
  const learning: LearningReport = { calibration: [], estimates: [] };
  for (const a of world.accounts) {
    for (const w of a.scenario.windows) {
      const prior = w.capacityUsd ?? policy.pacing.defaultCapacityUsd;
      const k = calibrationOf(world.calibration, a.account.id, w.name, prior).percentPerUsd.toNumber();
      const truth = 100 / w.truthUsd.toNumber();
      learning.calibration.push({
        account: a.account.id,
        window: w.name,
        percentPerUsd: round4(k),
        truePercentPerUsd: round4(truth),
        error: round4((k - truth) / truth),
      });
    }
  }
  for (const c of estimatorCells(world.estimator)) {
    const e = estimateError(world.estimator, c.taskClass, c.model);
    learning.estimates.push({ ...c, n: e.n, mape: round4(e.mape), bias: round4(e.bias) });
  }
  const run: RunReport = {
    strategy,
    windows,
    tasks: counts,
    momentumLostHours: lostHours.size,
    spendUsd: spend.toFixed(2),
    spendByAccount,
    learning,
  };
  return { run, panels };
}

/**
 * Runs a scenario under each strategy over the same demand: the real gate (`paced`), no pacing
 * (`greedy`) and a fixed daily share (`static-daily-cap`). Pure and deterministic: the seed is in
 * the scenario, and time is simulated.
 *
 * @example
 * const { report } = simulate(scenarioSchema.parse(JSON.parse(text)));
 * report.runs.find((r) => r.strategy === 'paced')?.windows[0]?.utilization; // e.g. 0.982
 */
export function simulate(scenario: Scenario, options: SimulateOptions = {}): SimulationResult {
  const policy = scenarioPolicy(scenario);
  const prices = priceTable(policy);
  const tasks = expandDemand(scenario);
  const zone = scenario.timezone;
  const report: SimulationReport = {
    scenario: {
      name: scenario.name ?? null,
      seed: scenario.seed,
      start: scenario.start.setZone(zone).toISO() ?? '',
      end: scenario.end.setZone(zone).toISO() ?? '',
      tasks: tasks.length,
    },
    runs: [],
  };
  const series: SimulationResult['series'] = [];
  for (const strategy of options.strategies ?? STRATEGIES) {
    const { run, panels } = runOne(scenario, policy, prices, tasks, strategy);
    report.runs.push(run);
    series.push({ strategy, panels });
  }
  return { report, series };
}
