import type { Decimal } from 'decimal.js';
import type { Confidence } from '../confidence.js';
import { dec, ZERO } from '../money.js';
import { shiftMs } from '../window-schedule.js';
import type { Prng } from './prng.js';
import type { ScenarioWindow, SignalSettings } from './scenario.js';

/** One finished (or cut-off) period of a simulated window, as the report shows it. */
export interface WindowInstance {
  account: string;
  window: string;
  startMs: number;
  resetMs: number;
  /** False when the scenario started after the period began or ended before its reset. */
  complete: boolean;
  usedUsd: Decimal;
  truthUsd: Decimal;
  /** When true usage first reached the capacity, if before the reset. */
  exhaustedAtMs?: number;
  /** Why it ran out, set with `exhaustedAtMs`. */
  overrun?: OverrunAccount;
  /** Largest (used − ideal) as a fraction of the capacity. */
  maxLead: number;
}

/** A task as one window saw it admitted: what the engine reserved on it and what it truly costs. */
export interface AdmittedTask {
  endMs: number;
  /** The engine's reservation on this window, in % of it (the engine's % per USD). */
  reservedPercent: Decimal;
  /** The task's true cost, in API-equivalent USD. */
  usd: Decimal;
}

/**
 * What the engine promised at an admission: its reading of the window's usage then plus every
 * reservation in flight (the new task's included) stayed within the cap, which never exceeds 100 %.
 */
export interface Admission {
  atMs: number;
  /** The engine's reading of used % at the admission (the gate's U, before the new task). */
  engineUsedPercent: Decimal;
  /** Tasks in flight on this window right after the admission, the new one included. */
  inFlight: AdmittedTask[];
}

/**
 * The accounting of a window that ran out before its reset, in percentage points of its true
 * capacity. Since the last admission A, true usage rose only by the tasks in flight at A that
 * landed, and at A the engine's reading plus their reservations was within 100 %. So, exactly:
 * `percent − 100 ≤ readingErrorPercent + overReservationPercent`.
 */
export interface OverrunAccount {
  /** True used % when the window ran out, minus 100. */
  percent: number;
  /** Σ (true cost − reservation) of the tasks in flight at the last admission that have landed. */
  overReservationPercent: number;
  /** True used % at the last admission minus the engine's reading of it then. */
  readingErrorPercent: number;
  /** The largest single task's (true cost − reservation) among them. */
  largestOverReservationPercent: number;
}

/** A usage signal as the simulated provider emits it. */
export interface SimSignal {
  usedPercent: Decimal;
  observedAtMs: number;
  resetAtMs?: number;
  confidence: Confidence;
}

/** A point of true cumulative usage, for charts. */
export interface UsagePoint {
  ms: number;
  percent: number;
}

/**
 * One limit window as the provider really keeps it: true spend against a hidden capacity
 * (`truthUsd`). Fixed windows recur on the scenario's calendar; rolling ones start at the first use
 * after the previous one ended. Only the provider (and the report) reads this; the engine sees the
 * signals it emits.
 */
export class TruthWindow {
  readonly instances: WindowInstance[] = [];
  readonly points: UsagePoint[] = [];
  startMs: number | undefined;
  resetMs: number | undefined;
  usedUsd: Decimal = ZERO;
  private exhaustedAtMs: number | undefined;
  private overrun: OverrunAccount | undefined;
  /** The last admission in the current period (none yet: undefined). */
  private admission: (Admission & { truthPercent: Decimal }) | undefined;
  private maxLead = 0;
  readonly lengthMs: number;
  readonly truthUsd: Decimal;

  constructor(
    readonly account: string,
    readonly spec: ScenarioWindow,
    private readonly timezone: string,
    private readonly simStartMs: number,
    private readonly simEndMs: number,
  ) {
    this.lengthMs = spec.length.toMillis();
    this.truthUsd = spec.truthUsd;
    if (!spec.rolling) {
      let reset = spec.resetAt ? spec.resetAt.toMillis() : shiftMs(spec.length, timezone, simStartMs, 1);
      let k = 0;
      while (reset <= simStartMs && k++ < 100_000) reset = shiftMs(spec.length, timezone, reset, 1);
      this.resetMs = reset;
      this.startMs = shiftMs(spec.length, timezone, reset, -1);
      this.points.push({ ms: simStartMs, percent: 0 });
    }
  }

  /** Whether this window counts spend on `model`. */
  counts(model: string): boolean {
    return !this.spec.models || this.spec.models.includes(model);
  }

  /** Closes every period whose reset is at or before `nowMs`. */
  advance(nowMs: number): void {
    while (this.resetMs !== undefined && this.resetMs <= nowMs) {
      this.close(this.resetMs);
      if (this.spec.rolling) {
        this.startMs = undefined;
        this.resetMs = undefined;
      } else {
        this.startMs = this.resetMs;
        this.resetMs = shiftMs(this.spec.length, this.timezone, this.resetMs, 1);
      }
    }
  }

  private close(atMs: number): void {
    if (this.startMs === undefined || this.resetMs === undefined) return;
    const inst: WindowInstance = {
      account: this.account,
      window: this.spec.name,
      startMs: this.startMs,
      resetMs: this.resetMs,
      complete: this.startMs >= this.simStartMs && this.resetMs <= this.simEndMs,
      usedUsd: this.usedUsd,
      truthUsd: this.truthUsd,
      maxLead: this.maxLead,
    };
    if (this.exhaustedAtMs !== undefined) inst.exhaustedAtMs = this.exhaustedAtMs;
    if (this.overrun !== undefined) inst.overrun = this.overrun;
    this.instances.push(inst);
    this.points.push({ ms: Math.min(atMs, this.simEndMs), percent: this.percent() });
    this.points.push({ ms: Math.min(atMs, this.simEndMs), percent: 0 });
    this.usedUsd = ZERO;
    this.exhaustedAtMs = undefined;
    this.overrun = undefined;
    this.admission = undefined;
    this.maxLead = 0;
  }

  /** Closes the period in force at the scenario's end (marked incomplete when its reset is later). */
  finish(): void {
    this.advance(this.simEndMs);
    if (this.startMs !== undefined && this.resetMs !== undefined && this.startMs < this.simEndMs) {
      this.close(this.simEndMs);
    }
  }

  /** A use at `nowMs`: starts a rolling window that is not running. */
  use(nowMs: number): void {
    if (this.spec.rolling && this.startMs === undefined) {
      this.startMs = nowMs;
      this.resetMs = nowMs + this.lengthMs;
      this.points.push({ ms: nowMs, percent: 0 });
    }
  }

  /**
   * Records an admission in the current period (call it after {@link use}): the engine's reading of
   * used % then and every task in flight on this window, so an overrun can be accounted for.
   */
  admit(admission: Admission): void {
    this.admission = { ...admission, inFlight: [...admission.inFlight], truthPercent: this.percentDecimal() };
  }

  /** True spend lands in the window. */
  spend(nowMs: number, usd: Decimal): void {
    this.use(nowMs);
    this.usedUsd = this.usedUsd.plus(usd);
    const frac = this.usedUsd.div(this.truthUsd).toNumber();
    if (this.startMs !== undefined && this.resetMs !== undefined) {
      const ideal = (nowMs - this.startMs) / (this.resetMs - this.startMs);
      if (frac - ideal > this.maxLead) this.maxLead = frac - ideal;
      if (frac >= 1 && this.exhaustedAtMs === undefined && nowMs < this.resetMs) {
        this.exhaustedAtMs = nowMs;
        this.overrun = this.accountOverrun(nowMs);
      }
    }
    this.points.push({ ms: nowMs, percent: frac * 100 });
  }

  /** The accounting of an overrun at `nowMs` against the period's last admission. */
  private accountOverrun(nowMs: number): OverrunAccount {
    const percent = this.percentDecimal().minus(100).toNumber();
    const a = this.admission;
    // No admission in this period: the engine promised nothing about it, so nothing explains the
    // overrun (only tasks admitted in an earlier period landed here).
    if (!a) {
      return {
        percent,
        overReservationPercent: 0,
        readingErrorPercent: 0,
        largestOverReservationPercent: 0,
      };
    }
    let over = ZERO;
    let largest = ZERO;
    for (const t of a.inFlight) {
      // A task still running has added nothing yet, and its reservation is ≥ 0: leaving it out
      // keeps the bound exact rather than loose.
      if (t.endMs > nowMs) continue;
      const d = t.usd.times(100).div(this.truthUsd).minus(t.reservedPercent);
      over = over.plus(d);
      if (d.gt(largest)) largest = d;
    }
    return {
      percent,
      overReservationPercent: over.toNumber(),
      readingErrorPercent: a.truthPercent.minus(a.engineUsedPercent).toNumber(),
      largestOverReservationPercent: largest.toNumber(),
    };
  }

  /** Whether the provider refuses work on this window now. */
  exhausted(): boolean {
    return this.usedUsd.gte(this.truthUsd);
  }

  /** True used % of the current period. */
  percent(): number {
    return this.usedUsd.div(this.truthUsd).toNumber() * 100;
  }

  private percentDecimal(): Decimal {
    return this.usedUsd.times(100).div(this.truthUsd);
  }

  /** The signal the provider reports now: true % plus noise, rounded to the quantum. */
  signal(nowMs: number, settings: SignalSettings, rng: Prng): SimSignal {
    const q = settings.quantumPercent.toNumber();
    const noise = settings.noisePercent > 0 ? (rng.next() * 2 - 1) * settings.noisePercent : 0;
    const raw = Math.max(0, this.percent() + noise);
    const quantised = dec(Math.round(raw / q)).times(settings.quantumPercent);
    if (this.resetMs === undefined) {
      return { usedPercent: quantised, observedAtMs: nowMs, confidence: 'unknown' };
    }
    const confidence: Confidence = this.spec.rolling ? 'provider' : this.spec.confidence;
    return { usedPercent: quantised, observedAtMs: nowMs, resetAtMs: this.resetMs, confidence };
  }
}
