import type { Decimal } from 'decimal.js';
import type { Account } from '../account.js';
import type { ReservationAmount } from '../decision.js';
import type { Policy } from '../policy.js';
import type { PriceTable } from '../prices.js';
import type { AccountSnapshot, PeriodTotals, Snapshot, WindowState } from '../snapshot.js';
import type { WindowSpec } from '../window.js';
import { DateTime } from 'luxon';
import { ZERO } from '../money.js';
import { estimateUsd } from '../prices.js';
import { shiftMs } from '../window-schedule.js';
import { ceilingPeriodBounds } from '../ceiling-period.js';
import {
  calibrationOf,
  emptyCalibrationState,
  observeSignal,
  type CalibrationState,
} from '../calibration.js';
import { emptyEstimatorState, recordActual, type EstimatorState } from '../estimator.js';
import { dispatchEstimate } from '../dispatch-estimate.js';
import { substream, type Prng } from './prng.js';
import { windowHeadroom } from '../headroom.js';
import { signalUpperBoundPercent } from '../signal-bound.js';
import { TruthWindow, type AdmittedTask, type SimSignal } from './provider.js';
import type { Scenario, ScenarioAccount } from './scenario.js';
import type { SimTask } from './demand.js';

/** A task running on an account. */
export interface Running {
  task: SimTask;
  account: string;
  model: string;
  startMs: number;
  endMs: number;
  /** True cost of the task on the model that runs it. */
  usd: Decimal;
  /** What the engine reserved (the gate's reservation, or the estimate for the baselines). */
  reserve: ReservationAmount;
  estimatedTokens: number;
}

/** The ledger of one account window as cumulative spend over time (for calibration and unsignaled spend). */
export interface WindowLedger {
  ms: number[];
  cum: Decimal[];
}

/** One simulated account: its engine-side account, the provider's truth and what the engine has seen. */
export interface SimAccount {
  scenario: ScenarioAccount;
  account: Account;
  truth: TruthWindow[];
  signals: Map<string, SimSignal>;
  ledgers: Map<string, WindowLedger>;
  /** Actual spend on the account as cumulative USD over time, for ceiling periods. */
  spend: WindowLedger;
  rng: Prng;
  nextSignalMs: number;
}

const SIGNAL_STREAM_BASE = 1000;

/** Builds the engine's Account from a scenario account (the truth stays out of it). */
function engineAccount(a: ScenarioAccount, timezone: string): Account {
  const windows: WindowSpec[] = a.windows.map((w) => {
    const spec: WindowSpec = { name: w.name, length: w.length, rolling: w.rolling };
    if (w.models) spec.models = w.models;
    if (w.capacityUsd) spec.capacityUsd = w.capacityUsd;
    return spec;
  });
  const acc: Account = { id: a.id, provider: a.provider, kind: a.kind, models: a.models, timezone, windows };
  if (a.ceilingUsd) acc.ceiling = { usd: a.ceilingUsd, period: a.period };
  if (a.concurrency !== undefined) acc.concurrency = a.concurrency;
  return acc;
}

function cumAt(l: WindowLedger, ms: number): Decimal {
  // Binary search for the last entry at or before ms.
  let lo = 0;
  let hi = l.ms.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((l.ms[mid] ?? 0) <= ms) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found < 0 ? ZERO : (l.cum[found] ?? ZERO);
}

function cumNow(l: WindowLedger): Decimal {
  return l.cum[l.cum.length - 1] ?? ZERO;
}

/**
 * The simulated world one strategy runs in: the provider's truth, the signals and ledger the engine
 * sees, the learning state, and tasks in flight. Every strategy gets a fresh world over the same
 * demand.
 */
export class World {
  readonly accounts: SimAccount[];
  readonly byId = new Map<string, SimAccount>();
  readonly running: Running[] = [];
  calibration: CalibrationState = emptyCalibrationState();
  estimator: EstimatorState = emptyEstimatorState();
  readonly startMs: number;
  readonly endMs: number;
  private snapshotCache: Snapshot | undefined;
  /** Until when the cached snapshot's ceiling periods hold. */
  private snapshotValidUntilMs = 0;
  /** Bumped whenever anything the strategies read changes (signals, starts, completions). */
  version = 0;
  private readonly bounds = new Map<string, { start: DateTime; end: DateTime }>();
  // Caches of derived values, cleared when what they derive from changes (touch, a completion).
  private readonly stateCache = new Map<string, WindowState | undefined>();
  private readonly estimateCache = new Map<string, { central: number; reserve: number }>();
  private readonly usdCache = new Map<string, Decimal>();
  // % of each (account, window) held by tasks in flight, kept as tasks start and complete.
  private readonly reservedPercent = new Map<string, Decimal>();

  private holdReservation(r: Running, sign: 1 | -1): void {
    for (const w of r.reserve.windows) {
      const key = `${r.account}\u0000${w.window}`;
      const next = (this.reservedPercent.get(key) ?? ZERO).plus(w.percent.times(sign));
      this.reservedPercent.set(key, next.isNegative() ? ZERO : next);
    }
  }

  constructor(
    readonly scenario: Scenario,
    readonly policy: Policy,
    readonly prices: PriceTable,
  ) {
    this.startMs = scenario.start.toMillis();
    this.endMs = scenario.end.toMillis();
    this.accounts = scenario.accounts.map((a, i) => ({
      scenario: a,
      account: engineAccount(a, scenario.timezone),
      truth: a.windows.map((w) => new TruthWindow(a.id, w, scenario.timezone, this.startMs, this.endMs)),
      signals: new Map(),
      ledgers: new Map(a.windows.map((w) => [w.name, { ms: [], cum: [] }])),
      spend: { ms: [], cum: [] },
      rng: substream(scenario.seed, SIGNAL_STREAM_BASE + i),
      nextSignalMs: this.startMs,
    }));
    for (const a of this.accounts) this.byId.set(a.account.id, a);
  }

  /** Marks the cached snapshot stale (anything the gate reads changed). */
  touch(): void {
    this.version++;
    this.snapshotCache = undefined;
    this.stateCache.clear();
  }

  /** Closes provider periods whose reset has come. */
  advance(nowMs: number): void {
    let rolled = false;
    for (const a of this.accounts) {
      for (const w of a.truth) {
        const before = w.instances.length;
        w.advance(nowMs);
        if (w.instances.length !== before) rolled = true;
      }
    }
    // A reset gives capacity back: whatever waited on the provider must be offered again.
    if (rolled) this.touch();
  }

  /** Emits every signal due at or before `nowMs` and feeds it to calibration; true when any was due. */
  emitSignals(nowMs: number): boolean {
    let any = false;
    for (const a of this.accounts) {
      if (a.truth.length === 0) continue;
      while (a.nextSignalMs <= nowMs) {
        for (const w of a.truth) {
          const s = w.signal(a.nextSignalMs, a.scenario.signals, a.rng);
          a.signals.set(w.spec.name, s);
          const ledger = a.ledgers.get(w.spec.name);
          if (!ledger) continue;
          const obs: Parameters<typeof observeSignal>[3] = {
            // Calibration reads the signal at the same bound as pacing (see computeWindowState).
            usedPercent: signalUpperBoundPercent(s.usedPercent, a.scenario.signals.quantumPercent),
            observedAt: DateTime.fromMillis(s.observedAtMs, { zone: 'UTC' }),
            cumulativeUsd: cumAt(ledger, s.observedAtMs),
          };
          if (s.resetAtMs !== undefined) {
            obs.resetAt = DateTime.fromMillis(s.resetAtMs, { zone: 'UTC' });
            const startMs = w.spec.rolling
              ? s.resetAtMs - w.lengthMs
              : shiftMs(w.spec.length, this.scenario.timezone, s.resetAtMs, -1);
            // The spend since the period began is known from the ledger once the period's start is.
            obs.usdSinceWindowStart = cumAt(ledger, s.observedAtMs).minus(cumAt(ledger, startMs));
          }
          this.calibration = observeSignal(this.calibration, a.account.id, w.spec.name, obs);
        }
        a.nextSignalMs += a.scenario.signals.everyMinutes * 60_000;
        any = true;
      }
    }
    if (any) this.touch();
    return any;
  }

  /** The next instant any account signals. */
  nextSignalMs(): number {
    let next = Number.POSITIVE_INFINITY;
    for (const a of this.accounts) if (a.truth.length > 0) next = Math.min(next, a.nextSignalMs);
    return next;
  }

  /** The next provider reset after `nowMs` (capacity returns then). */
  nextResetMs(nowMs: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (const a of this.accounts)
      for (const w of a.truth)
        if (w.resetMs !== undefined && w.resetMs > nowMs) next = Math.min(next, w.resetMs);
    return next;
  }

  /** USD of `tokens` on `model` at the scenario's prices and the default token mix. */
  usdOf(model: string, tokens: number): Decimal {
    const key = `${model}|${tokens}`;
    let usd = this.usdCache.get(key);
    if (!usd) {
      usd = estimateUsdOrThrow(this.prices, model, tokens);
      if (this.usdCache.size > 50_000) this.usdCache.clear();
      this.usdCache.set(key, usd);
    }
    return usd;
  }

  /** Whether the provider would refuse `model` on `account` now (a window it counts is exhausted). */
  providerExhausted(account: string, model: string): boolean {
    const a = this.byId.get(account);
    if (!a) return true;
    return a.truth.some((w) => w.counts(model) && w.exhausted());
  }

  /**
   * Starts a task: truth windows see the use and record the admission (the engine's reading of
   * each window then, and what is in flight on it), the reservation is held until it completes.
   */
  start(r: Running): void {
    const a = this.byId.get(r.account);
    // The engine's reading of used % before this task, as the gate computed it from the snapshot.
    const readings = a
      ? a.truth.map((w, i) => (w.counts(r.model) ? this.engineUsedPercent(a, i, r.startMs) : undefined))
      : [];
    if (a) for (const w of a.truth) if (w.counts(r.model)) w.use(r.startMs);
    this.running.push(r);
    this.holdReservation(r, 1);
    if (a) {
      for (const [i, w] of a.truth.entries()) {
        const engineUsedPercent = readings[i];
        if (engineUsedPercent === undefined) continue;
        const inFlight: AdmittedTask[] = [];
        for (const x of this.running) {
          if (x.account !== r.account || !w.counts(x.model)) continue;
          const held = x.reserve.windows.find((h) => h.window === w.spec.name);
          inFlight.push({ endMs: x.endMs, reservedPercent: held?.percent ?? ZERO, usd: x.usd });
        }
        w.admit({ atMs: r.startMs, engineUsedPercent, inFlight });
      }
    }
    this.touch();
  }

  /** U of the account's `i`-th window as the gate reads it now (signal, unsignaled spend, calibration). */
  private engineUsedPercent(a: SimAccount, i: number, nowMs: number): Decimal {
    const spec = a.account.windows[i];
    if (!spec) return ZERO;
    return windowHeadroom({
      spec,
      state: this.windowState(a, spec, nowMs),
      timezone: a.account.timezone,
      nowMs,
      burst: this.policy.pacing.burst,
      defaultCapacityUsd: this.policy.pacing.defaultCapacityUsd,
    }).usedPercent;
  }

  /** Completes every task that ends at or before `nowMs`; returns how many. */
  complete(nowMs: number): number {
    const done = this.running.filter((r) => r.endMs <= nowMs).sort((x, y) => x.endMs - y.endMs);
    if (done.length === 0) return 0;
    for (const r of done) {
      this.running.splice(this.running.indexOf(r), 1);
      this.holdReservation(r, -1);
      this.advance(r.endMs);
      const a = this.byId.get(r.account);
      if (!a) continue;
      for (const w of a.truth) {
        if (!w.counts(r.model)) continue;
        w.spend(r.endMs, r.usd);
        const l = a.ledgers.get(w.spec.name);
        if (l) {
          l.ms.push(r.endMs);
          l.cum.push(cumNow(l).plus(r.usd));
        }
      }
      a.spend.ms.push(r.endMs);
      a.spend.cum.push(cumNow(a.spend).plus(r.usd));
      this.estimateCache.clear();
      this.estimator = recordActual(this.estimator, this.policy, {
        taskClass: r.task.taskClass,
        model: r.model,
        tokens: r.task.actualTokens,
        estimatedTokens: r.estimatedTokens,
      });
    }
    this.touch();
    return done.length;
  }

  /** The earliest completion still to come. */
  nextCompletionMs(): number {
    let next = Number.POSITIVE_INFINITY;
    for (const r of this.running) next = Math.min(next, r.endMs);
    return next;
  }

  /**
   * The token estimates the engine dispatches with: what the estimator has learnt for the class on
   * the requested model, else on any model of the class (tokens do not depend on the model in the
   * simulation), else the orchestrator's own estimate. `reserve` is the learnt P90: the gate holds
   * it while a task runs, so the tasks in flight at a window's end cannot together overrun it when
   * a few turn out large; `central` is what the estimate's error is scored on.
   */
  estimateTokens(task: SimTask): { central: number; reserve: number } {
    const key = `${task.taskClass}\u0000${task.model}`;
    let hit = this.estimateCache.get(key);
    if (!hit) {
      const e = dispatchEstimate(
        this.estimator,
        this.policy,
        task.taskClass,
        task.model,
        task.estimateTokens,
        this.allModels,
      );
      // Only learnt numbers are cached: the request's own estimate differs from task to task.
      if (e.source === 'request') return { central: e.central, reserve: e.reserve };
      hit = { central: e.central, reserve: e.reserve };
      this.estimateCache.set(key, hit);
    }
    return hit;
  }

  /** Every model of every account, in order: a class's learnt sizes on one stand in for another. */
  private get allModels(): string[] {
    return this.accounts.flatMap((a) => a.account.models);
  }

  /** Actual spend of an account within [fromMs, toMs). */
  spendBetween(a: SimAccount, fromMs: number, toMs: number): Decimal {
    return cumAt(a.spend, toMs - 1).minus(cumAt(a.spend, fromMs - 1));
  }

  /** All actual spend of an account so far. */
  totalSpend(a: SimAccount): Decimal {
    return cumNow(a.spend);
  }

  /** The calendar period of a ceiling at `now`, computed once per period (luxon's zone maths is slow). */
  periodBounds(
    period: 'P1D' | 'P1W' | 'P1M',
    timezone: string,
    now: DateTime,
  ): { start: DateTime; end: DateTime } {
    const key = `${period}|${timezone}`;
    const nowMs = now.toMillis();
    const hit = this.bounds.get(key);
    if (hit && hit.start.toMillis() <= nowMs && nowMs < hit.end.toMillis()) return hit;
    const b = ceilingPeriodBounds(period, timezone, now);
    this.bounds.set(key, b);
    return b;
  }

  private periodTotals(
    a: SimAccount,
    period: 'P1D' | 'P1W' | 'P1M',
    accounts: string[],
    now: DateTime,
  ): PeriodTotals {
    const b = this.periodBounds(period, a.account.timezone, now);
    let committed = ZERO;
    let reserved = ZERO;
    for (const id of accounts) {
      const acc = this.byId.get(id);
      if (acc) committed = committed.plus(this.spendBetween(acc, b.start.toMillis(), b.end.toMillis()));
    }
    for (const r of this.running) if (accounts.includes(r.account)) reserved = reserved.plus(r.reserve.usd);
    return { start: b.start, end: b.end, committedUsd: committed, reservedUsd: reserved };
  }

  /** The engine's view of one window: the newest signal, unsignaled ledger spend, reservations, calibration. */
  windowState(a: SimAccount, spec: WindowSpec, nowMs: number): WindowState | undefined {
    const key = `${a.account.id}\u0000${spec.name}`;
    if (this.stateCache.has(key)) return this.stateCache.get(key);
    const st = this.computeWindowState(a, spec, nowMs);
    this.stateCache.set(key, st);
    return st;
  }

  private computeWindowState(a: SimAccount, spec: WindowSpec, nowMs: number): WindowState | undefined {
    const s = a.signals.get(spec.name);
    if (!s) return undefined;
    const ledger = a.ledgers.get(spec.name);
    const unsignaled = ledger ? cumNow(ledger).minus(cumAt(ledger, s.observedAtMs)) : ZERO;
    const reserved = this.reservedPercent.get(`${a.account.id}\u0000${spec.name}`) ?? ZERO;
    const prior = spec.capacityUsd ?? this.policy.pacing.defaultCapacityUsd;
    const state: WindowState = {
      name: spec.name,
      // A signal rounded to a quantum q says the true usage is below p + q/2: the engine reads it at
      // that bound, or a window filled to 100 % of the rounded reading overruns by up to q/2.
      usedPercent: signalUpperBoundPercent(s.usedPercent, a.scenario.signals.quantumPercent),
      observedAt: DateTime.fromMillis(s.observedAtMs, { zone: 'UTC' }),
      unsignaledUsd: unsignaled,
      reservedPercent: reserved,
      confidence: s.confidence,
      percentPerUsd: calibrationOf(this.calibration, a.account.id, spec.name, prior).percentPerUsd,
    };
    if (s.resetAtMs !== undefined) {
      state.resetAt = DateTime.fromMillis(s.resetAtMs, { zone: 'UTC' });
      if (spec.rolling)
        state.startedAt = DateTime.fromMillis(s.resetAtMs - spec.length.toMillis(), { zone: 'UTC' });
    }
    void nowMs;
    return state;
  }

  /** The register's state as the gate reads it (cached until something changes). */
  snapshot(now: DateTime): Snapshot {
    const nowMs = now.toMillis();
    if (this.snapshotCache && nowMs < this.snapshotValidUntilMs) return this.snapshotCache;
    let validUntil = Number.POSITIVE_INFINITY;
    const providers: Snapshot['providers'] = {};
    const accounts: AccountSnapshot[] = this.accounts.map((a) => {
      const windows: WindowState[] = [];
      for (const spec of a.account.windows) {
        const st = this.windowState(a, spec, nowMs);
        if (st) windows.push(st);
      }
      const inflight = this.running.filter((r) => r.account === a.account.id).length;
      const snap: AccountSnapshot = { account: a.account, windows, inflight };
      const ceiling =
        a.account.ceiling ??
        (Object.hasOwn(this.policy.ceilings.accounts, a.account.id)
          ? this.policy.ceilings.accounts[a.account.id]
          : undefined);
      if (ceiling) {
        snap.period = this.periodTotals(a, ceiling.period, [a.account.id], now);
        validUntil = Math.min(validUntil, snap.period.end.toMillis());
      }
      const p = (providers[a.account.provider] ??= { inflight: 0 });
      p.inflight += inflight;
      return snap;
    });
    for (const [provider, p] of Object.entries(providers)) {
      const c = Object.hasOwn(this.policy.ceilings.providers, provider)
        ? this.policy.ceilings.providers[provider]
        : undefined;
      const first = this.accounts.find((a) => a.account.provider === provider);
      if (c && first) {
        const ids = this.accounts.filter((a) => a.account.provider === provider).map((a) => a.account.id);
        p.period = this.periodTotals(first, c.period, ids, now);
        validUntil = Math.min(validUntil, p.period.end.toMillis());
      }
    }
    this.snapshotCache = {
      tenantId: 'sim',
      accounts,
      providers,
      tenantInflight: this.running.length,
      authorizations: [],
    };
    this.snapshotValidUntilMs = validUntil;
    return this.snapshotCache;
  }
}

/** A simulation that references a model the price table does not know cannot price its tasks. */
export class SimulationError extends Error {
  /** A stable error code. */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'SimulationError';
    this.code = code;
  }
}

function estimateUsdOrThrow(table: PriceTable, model: string, tokens: number): Decimal {
  const usd = estimateUsd(table, model, tokens);
  if (!usd) {
    throw new SimulationError(
      'BUDGET_ERR_SIM_UNKNOWN_MODEL',
      `the price table has no price for model "${model}"; add it under policy.prices`,
    );
  }
  return usd;
}
