import { DateTime } from 'luxon';
import type { Decimal } from 'decimal.js';
import type { Ceiling } from './account.js';
import type { Decision, ReservationAmount } from './decision.js';
import type { DispatchRequest } from './dispatch.js';
import type { Estimate, Policy } from './policy.js';
import type { AccountSnapshot, PeriodTotals, Snapshot } from './snapshot.js';
import type { Trace, TraceStep } from './trace.js';
import type { WindowSpec } from './window.js';
import { ZERO } from './money.js';
import { memoized } from './memo.js';
import { estimateUsd, priceTable, type PriceTable } from './prices.js';
import {
  taskAuthorizations,
  type ActiveAuthorizations,
  type TaskAuthorizations,
} from './authorizations-active.js';
import {
  LIMIT_PERCENT,
  earliestFitMs,
  windowAllowancePercent,
  windowBurstPercent,
  windowHeadroom,
  windowPercentPerUsd,
  windowUsedPercent,
  type WindowHeadroom,
  type WindowHeadroomInput,
} from './headroom.js';
import {
  estimateToFixed4,
  headroomEstimate,
  num,
  sameHeadroomInputs,
  type HeadroomEstimate,
} from './headroom-estimate.js';
import { currentWindowMs, type EffectiveWindowMs } from './window-schedule.js';
import { candidateModels, candidatesText, ladderText, mappedAccounts, resolveLadder } from './ladder.js';
import { ceilingPeriodBounds } from './ceiling-period.js';

/**
 * How long a task held back only by a concurrency limit waits before it is offered again. A task's
 * completion time is unknown to the gate, so this is a polling interval, not a prediction: short
 * enough that a freed slot is used promptly, long enough not to spin.
 */
export const CONCURRENCY_RETRY_MS = 30_000;

/**
 * A window that paces a model on an account. Its period is computed with the account; its decimal
 * numbers only when the account is tested or an estimate cannot settle its rank (see {@link exact}).
 */
interface PacedWindow {
  spec: WindowSpec;
  input: WindowHeadroomInput;
  period: EffectiveWindowMs;
  /** The exact numbers, once computed. */
  h?: WindowHeadroom;
  /** The headroom in doubles with an error bound, for ranking, once computed. */
  estimate?: HeadroomEstimate;
  /** The headroom as trace text, shared by every model tested against this window (set when traced). */
  headroom?: string;
  /** The numbers the trace shows, once traced. */
  text?: WindowText;
}

/** A tested window's numbers as the trace shows them (see {@link windowText}). */
interface WindowText {
  percentPerUsd: Decimal;
  used: Decimal;
  reserved: Decimal;
  burst: Decimal;
  /** As the trace prints it: '0' when there is none, else four decimals. */
  allowance: string;
  ideal: string;
  cap: string;
  headroom: string;
}

/** A window's exact numbers, computed on first use. */
function exact(w: PacedWindow): WindowHeadroom {
  w.h ??= windowHeadroom(w.input, w.period);
  return w.h;
}

/** The estimate of a window's headroom, computed on first use. */
function estimateOf(w: PacedWindow): HeadroomEstimate {
  w.estimate ??= headroomEstimate(w.input, w.period);
  return w.estimate;
}

/**
 * A tested window's numbers as the trace shows them: the inputs and the products that need no
 * division as decimals, and the four-decimal text of the ideal line, the cap and the headroom from
 * the estimate, or from the exact numbers where the estimate is too close to a rounding boundary.
 */
function windowText(w: PacedWindow): WindowText {
  const { input, period } = w;
  const e = estimateOf(w);
  const percentPerUsd = windowPercentPerUsd(input.spec, input.state, input.defaultCapacityUsd);
  const bound = e.bound ?? Number.NaN;
  const ideal = e.ideal === undefined ? undefined : estimateToFixed4({ percent: e.ideal, error: bound });
  const cap = e.cap === undefined ? undefined : estimateToFixed4({ percent: e.cap, error: bound });
  const headroom = estimateToFixed4(e);
  return {
    percentPerUsd,
    used: w.h?.usedPercent ?? windowUsedPercent(input.state, period.signalInWindow, percentPerUsd),
    reserved: input.state?.reservedPercent ?? ZERO,
    burst: windowBurstPercent(input.burst, period.resetMs - period.startMs),
    allowance: allowanceText(w, e, percentPerUsd),
    ideal: ideal ?? pct(exact(w).idealPercent),
    cap: cap ?? pct(exact(w).capPercent),
    headroom: headroom ?? pct(exact(w).headroomPercent),
  };
}

/** A window's overspend allowance as the trace prints it, from the estimate when it is certain. */
function allowanceText(w: PacedWindow, e: HeadroomEstimate, percentPerUsd: Decimal): string {
  if (w.h) return w.h.allowancePercent.isZero() ? '0' : pct(w.h.allowancePercent);
  const auth = w.input.authorizations;
  if (!auth || auth.overspendUsd.isZero() || percentPerUsd.isZero()) return '0';
  const text =
    e.allowance === undefined || e.bound === undefined
      ? undefined
      : estimateToFixed4({ percent: e.allowance, error: e.bound });
  return text ?? pct(windowAllowancePercent(auth, percentPerUsd));
}

/**
 * Whether a task taking `share` of the window fits it now (see `fitsWindow`): decided on the
 * estimates when the share is clear of the headroom by more than both errors, else exactly.
 */
function fitsNow(w: PacedWindow, share: WindowShare): boolean {
  const e = estimateOf(w);
  if (!w.h && share.approx > 0) {
    const margin = e.error + share.error;
    if (share.approx < e.percent - margin) return true;
    if (share.approx > e.percent + margin) return false;
  }
  const h = exact(w);
  const p = share.percent;
  return p.lte(h.headroomPercent) && (p.gt(0) || h.usedPercent.plus(h.reservedPercent).lte(h.capPercent));
}

/**
 * An account's routing score for one model: exact, or a double whose exact value lies within
 * `error` of `percent`.
 */
interface RankScore {
  exact?: Decimal;
  percent: number;
  error: number;
  /** The window that certainly sets an estimated score (its headroom is below every other's). */
  binding?: PacedWindow;
}

/**
 * The share of one window a tested task would take, in percent: a double within `error` of it
 * for the checks and the text, and the exact decimal only where something needs it (a near-tie
 * with the headroom, or the reservation of the admitted candidate). The product and the text in
 * decimals cost about as much as the rest of a tested window.
 */
class WindowShare {
  private exactPercent?: Decimal;
  /** As the trace prints it: four decimals, exactly as `toFixed(4)` prints the exact share. */
  readonly text: string;

  constructor(
    private readonly usd: Decimal,
    private readonly percentPerUsd: Decimal,
    /** Within `error` of the exact share. */
    readonly approx: number,
    readonly error: number,
  ) {
    this.text = estimateToFixed4({ percent: approx, error }) ?? pct(this.percent);
  }

  /** The exact share: the estimate in USD times the window's percent per USD. */
  get percent(): Decimal {
    this.exactPercent ??= this.usd.times(this.percentPerUsd);
    return this.exactPercent;
  }
}

/** The share of a window with `percentPerUsd` that a task of `usd` would take. */
function shareOf(usd: Decimal, percentPerUsd: Decimal): WindowShare {
  // Two conversions to the nearest double and one product: three roundings, well within 2^-50.
  const approx = num(usd) * num(percentPerUsd);
  return new WindowShare(usd, percentPerUsd, approx, Math.abs(approx) * 2 ** -50);
}

/** An account being ranked for a model, with its score and whether it sorts last as metered. */
interface Ranked {
  acct: AccountEval;
  score: RankScore;
  metered: 0 | 1;
}

/** A hard USD ceiling as it applies to one account now. */
interface CeilingCheck {
  scope: 'account' | 'provider';
  limitUsd: Decimal;
  /** Committed + reserved in the current period. */
  usedUsd: Decimal;
  totals: PeriodTotals | undefined;
  ceiling: Ceiling;
  /** 100 × (limit − used) / limit, computed only when accounts are ranked. */
  leftPercent?: Decimal;
}

/** Everything about one account that does not depend on the model. */
interface AccountEval {
  snap: AccountSnapshot;
  id: string;
  provider: string;
  auth: ActiveAuthorizations;
  /** The task may skip pacing here (bypass urgency under an urgency-bypass authorization). */
  bypass: boolean;
  windows: PacedWindow[];
  /** Whether the account's numbers are in the trace yet. */
  traced: boolean;
  /** The hard ceilings that apply, computed on first use (see {@link GateRun.ceilings}). */
  ceilings?: CeilingCheck[];
  /** The first concurrency limit the account is at, if any. */
  busy?: { scope: 'account' | 'provider' | 'tenant'; inflight: number; limit: number };
}

/** One (account, model) tested now. */
interface CandidateEval {
  acct: AccountEval;
  model: string;
  usd: Decimal;
  estimateSource: string;
  /** The share of each pacing window this task would take, in `acct.windows` order (undefined: not counted). */
  shares: (WindowShare | undefined)[];
  fits: boolean;
  /** The plain-words reason it does not fit, with its numbers. */
  why?: string;
}

// toFixed costs as much as an addition. The burst recurs across calls (it is memoised per setting
// and period), so its text is memoised per (immutable) decimal; other numbers are mostly fresh each
// call, where a memo lookup and insert would cost more than it saves.
const burstText = memoized((d: Decimal) => d.toFixed(4));
/** A computed percentage as trace text: four decimals. */
const pct = (d: Decimal) => d.toFixed(4);
// Resets recur across calls, so their ISO text is memoised (bounded).
const isoMemo = new Map<number, string>();
const iso = (ms: number) => {
  let v = isoMemo.get(ms);
  if (v === undefined) {
    v = new Date(ms).toISOString();
    if (isoMemo.size >= 1024) isoMemo.clear();
    isoMemo.set(ms, v);
  }
  return v;
};

function usdOf(e: Estimate | undefined, table: PriceTable, model: string): Decimal | undefined {
  if (!e) return undefined;
  if (e.usd !== undefined) return e.usd;
  if (e.tokens !== undefined) return estimateUsd(table, model, e.tokens);
  return undefined;
}

/**
 * The estimate for a task on a candidate model: the request's USD, else its tokens priced for that
 * model, else the task class's estimate, else the policy's default. A token estimate on a model the
 * price table does not know is priced at the dearest known model, so an unknown price errs towards
 * caution rather than admitting an unbounded task for free.
 */
export function estimateFor(
  request: DispatchRequest,
  policy: Policy,
  table: PriceTable,
  model: string,
): { usd: Decimal; source: string } {
  const req = usdOf(request.estimate, table, model);
  if (req)
    return { usd: req, source: request.estimate?.usd !== undefined ? 'request.usd' : 'request.tokens' };
  const cls = Object.hasOwn(policy.taskClasses, request.taskClass)
    ? policy.taskClasses[request.taskClass]
    : undefined;
  const c = usdOf(cls?.estimate, table, model);
  if (c) return { usd: c, source: 'taskClass' };
  const d = usdOf(policy.defaultEstimate, table, model);
  if (d) return { usd: d, source: 'policy.defaultEstimate' };
  const tokens = request.estimate?.tokens ?? cls?.estimate?.tokens ?? policy.defaultEstimate.tokens ?? 0;
  let worst = ZERO;
  for (const m of Object.keys(table)) {
    const u = estimateUsd(table, m, tokens);
    if (u && u.gt(worst)) worst = u;
  }
  return { usd: worst, source: 'dearest-known-price' };
}

/** The gate's working state for one call: lazily evaluated accounts and memoised estimates. */
class GateRun {
  readonly trace: Trace = [];
  readonly nowMs: number;
  private readonly accounts = new Map<string, AccountEval>();
  private readonly estimates = new Map<string, { usd: Decimal; source: string }>();
  /** The authorizations in force for this task, per account. */
  private readonly authorizationsFor: TaskAuthorizations;
  private readonly bypassLevel: boolean;

  constructor(
    readonly request: DispatchRequest,
    readonly snapshot: Snapshot,
    readonly policy: Policy,
    readonly now: DateTime,
    readonly table: PriceTable,
  ) {
    this.nowMs = now.toMillis();
    this.authorizationsFor = taskAuthorizations(
      policy.authorizations.length === 0
        ? snapshot.authorizations
        : [...snapshot.authorizations, ...policy.authorizations],
      request,
      this.nowMs,
    );
    this.bypassLevel = policy.urgency.bypassLevels.includes(request.urgency);
  }

  estimate(model: string): { usd: Decimal; source: string } {
    let e = this.estimates.get(model);
    if (!e) {
      e = estimateFor(this.request, this.policy, this.table, model);
      this.estimates.set(model, e);
    }
    return e;
  }

  account(snap: AccountSnapshot): AccountEval {
    const id = snap.account.id;
    const hit = this.accounts.get(id);
    if (hit) return hit;
    const { account } = snap;
    const { policy, snapshot, nowMs } = this;
    const auth = this.authorizationsFor(id, account.provider);
    const bypass = this.bypassLevel && auth.bypass;
    const windows: PacedWindow[] = [];
    // Windows are evaluated in name order so the trace does not depend on input order.
    const specs = windowsByName(account);
    for (const spec of specs) {
      const state = snap.windows.find((w) => w.name === spec.name);
      // A window with no signal is not paced: the provider gave nothing to pace against.
      if (!state) continue;
      const input: WindowHeadroomInput = {
        spec,
        state,
        timezone: account.timezone,
        nowMs,
        burst: policy.pacing.burst,
        defaultCapacityUsd: policy.pacing.defaultCapacityUsd,
        authorizations: auth,
        bypass,
      };
      windows.push({ spec, input, period: currentWindowMs(spec, account.timezone, state, nowMs) });
    }
    const prov = Object.hasOwn(snapshot.providers, account.provider)
      ? snapshot.providers[account.provider]
      : undefined;
    const ev: AccountEval = {
      snap,
      id,
      provider: account.provider,
      auth,
      bypass,
      windows,
      traced: false,
    };
    const accLimit =
      account.concurrency ??
      (Object.hasOwn(policy.concurrency.accounts, id) ? policy.concurrency.accounts[id] : undefined);
    const provLimit = Object.hasOwn(policy.concurrency.providers, account.provider)
      ? policy.concurrency.providers[account.provider]
      : undefined;
    const tenantLimit = policy.concurrency.tenant;
    if (accLimit !== undefined && snap.inflight >= accLimit) {
      ev.busy = { scope: 'account', inflight: snap.inflight, limit: accLimit };
    } else if (provLimit !== undefined && (prov?.inflight ?? 0) >= provLimit) {
      ev.busy = { scope: 'provider', inflight: prov?.inflight ?? 0, limit: provLimit };
    } else if (tenantLimit !== undefined && snapshot.tenantInflight >= tenantLimit) {
      ev.busy = { scope: 'tenant', inflight: snapshot.tenantInflight, limit: tenantLimit };
    }
    this.accounts.set(id, ev);
    return ev;
  }

  /**
   * The hard ceilings that apply to an account, computed on first use: accounts that are only
   * ranked on their windows never need them.
   */
  ceilings(acct: AccountEval): CeilingCheck[] {
    if (acct.ceilings) return acct.ceilings;
    const { policy, snapshot } = this;
    const { account } = acct.snap;
    const ceilings: CeilingCheck[] = [];
    const ownCeiling =
      account.ceiling ??
      (Object.hasOwn(policy.ceilings.accounts, acct.id) ? policy.ceilings.accounts[acct.id] : undefined);
    if (ownCeiling) ceilings.push(ceilingCheck('account', ownCeiling, acct.snap.period, acct.auth));
    const prov = Object.hasOwn(snapshot.providers, account.provider)
      ? snapshot.providers[account.provider]
      : undefined;
    const provCeiling = Object.hasOwn(policy.ceilings.providers, account.provider)
      ? policy.ceilings.providers[account.provider]
      : undefined;
    if (provCeiling) ceilings.push(ceilingCheck('provider', provCeiling, prov?.period, acct.auth));
    acct.ceilings = ceilings;
    return ceilings;
  }

  /**
   * Records an account's window numbers and authorizations in the trace, once, when the account is
   * first tested: accounts only ranked (never tested) appear through their score in `route.rank`.
   */
  private traceAccount(acct: AccountEval): void {
    if (acct.traced) return;
    acct.traced = true;
    if (acct.auth.ids.length > 0) {
      this.trace.push({
        rule: 'authorization.active',
        outcome: 'info',
        account: acct.id,
        numbers: {
          ids: acct.auth.ids.join(','),
          overspendUsd: acct.auth.overspendUsd.toString(),
          rapidMultiplier: acct.auth.rapid ? acct.auth.rapid.multiplier.toString() : '1',
          bypass: String(acct.bypass),
        },
      });
    }
    for (const w of acct.windows) {
      const t = windowText(w);
      w.text = t;
      w.headroom = t.headroom;
      this.trace.push({
        rule: 'window.state',
        outcome: 'info',
        account: acct.id,
        window: w.spec.name,
        numbers: {
          // Inputs are already short exact decimals; only computed values need rounding.
          used: t.used.toString(),
          reserved: t.reserved.toString(),
          ideal: t.ideal,
          burst: burstText(t.burst),
          allowance: t.allowance,
          cap: t.cap,
          headroom: t.headroom,
          start: iso(w.period.startMs),
          resetAt: iso(w.period.resetMs),
          confidence: w.period.confidence,
          basis: w.period.basis,
        },
      });
    }
  }

  /**
   * The accounts that serve `model`, best first: subscriptions before metered keys (unless the
   * policy's `routing.meteredLast` is off), then by score (see {@link scoreFor}); the sort is
   * stable and the input is in routing order, so ties keep routing order, then account id.
   */
  rank(model: string, snaps: readonly AccountSnapshot[]): AccountEval[] {
    const accts = snaps.map((a) => this.account(a));
    if (accts.length < 2) return accts;
    // Each account with its score, so that the sort reads fields rather than looking scores up.
    const meteredLast = this.policy.routing.meteredLast;
    const ranked: Ranked[] = accts.map((acct) => ({
      acct,
      score: this.rankScore(acct, model),
      metered: meteredLast && acct.snap.account.kind === 'api' ? 1 : 0,
    }));
    const exactScore = (r: Ranked): Decimal => {
      const s = r.score;
      if (!s.exact) {
        // A certainly binding window is the score (capped at L, as scoreFor does); the others
        // need no decimals.
        const h = s.binding ? exact(s.binding).headroomPercent : undefined;
        s.exact = h ? (h.lt(LIMIT_PERCENT) ? h : LIMIT_PERCENT) : this.scoreFor(r.acct, model);
      }
      return s.exact;
    };
    // Scores whose error intervals do not overlap are ordered by their doubles; only near-ties pay
    // for the exact decimals, and not even those when both are set by windows with the same inputs
    // (accounts reporting the same usage against the same schedule).
    const byScore = (a: Ranked, b: Ranked): number => {
      const sa = a.score;
      const sb = b.score;
      if (sa.exact !== undefined && sa.exact === sb.exact) return 0;
      if (!sa.exact || !sb.exact) {
        const gap = sb.percent - sa.percent;
        if (Math.abs(gap) > sa.error + sb.error) return gap > 0 ? 1 : -1;
        if (
          sa.binding &&
          sb.binding &&
          sameHeadroomInputs(sa.binding.input, sa.binding.period, sb.binding.input, sb.binding.period)
        )
          return 0;
      }
      return exactScore(b).comparedTo(exactScore(a));
    };
    ranked.sort((a, b) => a.metered - b.metered || byScore(a, b));
    // Built by assignment: Object.fromEntries cost as much as ranking ten accounts.
    const numbers: Record<string, string> = {};
    const order: string[] = [];
    for (const [i, r] of ranked.entries()) {
      numbers[r.acct.id] = (r.score.exact ? undefined : estimateToFixed4(r.score)) ?? pct(exactScore(r));
      order.push(r.acct.id);
      accts[i] = r.acct;
    }
    this.step({ rule: 'route.rank', outcome: 'info', model, numbers, order });
    return accts;
  }

  /**
   * {@link GateRun.scoreFor} for ranking: from the windows' estimates when every counted window of
   * a subscription account has one and none is computed exactly yet, else exact.
   */
  private rankScore(acct: AccountEval, model: string): RankScore {
    if (acct.snap.account.kind === 'subscription') {
      let percent = 100;
      let error = 0;
      let counted = 0;
      let low: PacedWindow | undefined;
      for (const w of acct.windows) {
        if (w.spec.models && !w.spec.models.includes(model)) continue;
        if (w.h) {
          counted = -1;
          break;
        }
        counted += 1;
        w.estimate ??= headroomEstimate(w.input, w.period);
        const e = w.estimate;
        // A window certainly out of room makes the score exactly 0, whatever the others say.
        if (e.error === 0 && e.percent === 0) return { exact: ZERO, percent: 0, error: 0 };
        if (e.percent < percent) {
          percent = e.percent;
          low = w;
        }
        if (e.error > error) error = e.error;
      }
      if (counted > 0) {
        const s: RankScore = { percent, error };
        if (low?.estimate && certainlyLowest(low, acct.windows, model)) s.binding = low;
        return s;
      }
    }
    const d = this.scoreFor(acct, model);
    const percent = d.toNumber();
    // toNumber rounds to the nearest double.
    return { exact: d, percent, error: Math.abs(percent) * 2 ** -50 };
  }

  /** Tests one (account, model) now, recording each rule in the trace. */
  evaluate(acct: AccountEval, model: string): CandidateEval {
    this.traceAccount(acct);
    const ceilings = this.ceilings(acct);
    const { usd, source } = this.estimate(model);
    const shares: (WindowShare | undefined)[] = [];
    let fits = true;
    let why: string | undefined;
    for (const w of acct.windows) {
      if (w.spec.models && !w.spec.models.includes(model)) {
        shares.push(undefined);
        continue;
      }
      const t = w.text ?? windowText(w);
      const share = shareOf(usd, t.percentPerUsd);
      const pText = share.text;
      shares.push(share);
      const ok = fitsNow(w, share);
      this.step({
        rule: w.input.bypass === true ? 'window.limit' : 'window.pace',
        outcome: ok ? 'pass' : 'fail',
        account: acct.id,
        model,
        window: w.spec.name,
        numbers: { estimate: pText, headroom: t.headroom },
      });
      if (!ok && fits) {
        fits = false;
        why = `${w.spec.name} window of ${acct.id} has ${t.headroom}% headroom for a ${pText}% task (used ${pct(t.used)}%, reserved ${pct(t.reserved)}%, pace line ${t.ideal}% + burst ${burstText(t.burst)}%)`;
      }
    }
    for (const c of ceilings) {
      const after = c.usedUsd.plus(usd);
      const ok = after.lte(c.limitUsd);
      this.step({
        rule: `ceiling.${c.scope}`,
        outcome: ok ? 'pass' : 'fail',
        account: acct.id,
        model,
        numbers: {
          ceilingUsd: c.ceiling.usd.toString(),
          limitUsd: c.limitUsd.toString(),
          committedUsd: (c.totals?.committedUsd ?? ZERO).toString(),
          reservedUsd: (c.totals?.reservedUsd ?? ZERO).toString(),
          estimateUsd: usd.toString(),
          period: c.ceiling.period,
        },
      });
      if (!ok && fits) {
        fits = false;
        const left = c.limitUsd.minus(c.usedUsd);
        const state = left.isNegative()
          ? `is $${left.neg().toString()} over`
          : `has $${left.toString()} left`;
        why = `the ${c.scope} ceiling of ${acct.id} ${state} its $${c.limitUsd.toString()} for a $${usd.toString()} task`;
      }
    }
    if (acct.busy) {
      this.step({
        rule: `concurrency.${acct.busy.scope}`,
        outcome: 'fail',
        account: acct.id,
        model,
        numbers: { inflight: String(acct.busy.inflight), limit: String(acct.busy.limit) },
      });
      if (fits) {
        fits = false;
        why = `${acct.id} is at its ${acct.busy.scope} concurrency limit (${acct.busy.inflight} of ${acct.busy.limit} in flight)`;
      }
    }
    this.step({
      rule: 'candidate',
      outcome: fits ? 'pass' : 'fail',
      account: acct.id,
      model,
      numbers: { estimateUsd: usd.toString(), estimateSource: source },
    });
    const c: CandidateEval = {
      acct,
      model,
      usd,
      estimateSource: source,
      shares,
      fits,
    };
    if (why !== undefined) c.why = why;
    return c;
  }

  /** The earliest instant (ms) the candidate fits given no further spend; undefined: never. */
  earliest(c: CandidateEval): number | undefined {
    let at = this.nowMs;
    for (const [i, w] of c.acct.windows.entries()) {
      const p = c.shares[i]?.percent;
      if (p === undefined) continue;
      const t = earliestFitMs(exact(w), p, this.nowMs);
      if (t === undefined) return undefined;
      if (t > at) at = t;
    }
    for (const ch of this.ceilings(c.acct)) {
      if (ch.usedUsd.plus(c.usd).lte(ch.limitUsd)) continue;
      // A task larger than a whole period's ceiling never fits; otherwise it fits in the next period.
      if (c.usd.gt(ch.ceiling.usd.plus(c.acct.auth.overspendUsd))) return undefined;
      // Without totals from the register, the period is computed here: an account's in its own
      // zone, a provider's (which spans accounts in several zones) in UTC, as the register does.
      const zone = ch.scope === 'account' ? c.acct.snap.account.timezone : 'UTC';
      const end = ch.totals?.end ?? ceilingPeriodBounds(ch.ceiling.period, zone, this.now).end;
      if (end.toMillis() > at) at = end.toMillis();
    }
    if (c.acct.busy && this.nowMs + CONCURRENCY_RETRY_MS > at) at = this.nowMs + CONCURRENCY_RETRY_MS;
    return at;
  }

  /**
   * The routing score of an account for a model, in percent of a limit still usable now: for a
   * subscription account, the smallest headroom among its paced windows that count the model; for
   * an api account (or one with no paced window), the smallest remaining share of its ceilings. The
   * most available headroom relative to pace ranks first.
   */
  scoreFor(acct: AccountEval, model: string): Decimal {
    let score = LIMIT_PERCENT;
    let paced = false;
    if (acct.snap.account.kind === 'subscription') {
      for (const w of acct.windows) {
        if (w.spec.models && !w.spec.models.includes(model)) continue;
        paced = true;
        const h = exact(w);
        if (h.headroomPercent.lt(score)) score = h.headroomPercent;
      }
    }
    if (paced) return score;
    for (const ch of this.ceilings(acct)) {
      ch.leftPercent ??= ch.limitUsd.isZero()
        ? ZERO
        : ch.limitUsd.minus(ch.usedUsd).times(LIMIT_PERCENT).div(ch.limitUsd);
      if (ch.leftPercent.lt(score)) score = ch.leftPercent;
    }
    return score;
  }

  step(s: TraceStep): void {
    this.trace.push(s);
  }

  reserve(c: CandidateEval): ReservationAmount {
    const windows: ReservationAmount['windows'] = [];
    for (const [i, w] of c.acct.windows.entries()) {
      const p = c.shares[i]?.percent;
      if (p !== undefined) windows.push({ window: w.spec.name, percent: p });
    }
    return { usd: c.usd, windows };
  }
}

/** Whether `low`'s estimated headroom is certainly below every other counted window's. */
function certainlyLowest(low: PacedWindow, windows: readonly PacedWindow[], model: string): boolean {
  const l = low.estimate;
  if (!l) return false;
  for (const w of windows) {
    if (w === low || (w.spec.models && !w.spec.models.includes(model))) continue;
    const e = w.estimate;
    if (!e || !(e.percent - e.error > l.percent + l.error)) return false;
  }
  return true;
}

const sortedWindows = memoized((account: AccountSnapshot['account']): WindowSpec[] =>
  [...account.windows].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
);
/** An account's window specs in name order, memoised per account object (accounts are immutable values). */
function windowsByName(account: AccountSnapshot['account']): WindowSpec[] {
  return account.windows.length < 2 ? account.windows : sortedWindows(account);
}

function ceilingCheck(
  scope: 'account' | 'provider',
  ceiling: Ceiling,
  totals: PeriodTotals | undefined,
  auth: ActiveAuthorizations,
): CeilingCheck {
  const usedUsd = totals ? totals.committedUsd.plus(totals.reservedUsd) : ZERO;
  const limitUsd = auth.overspendUsd.isZero() ? ceiling.usd : ceiling.usd.plus(auth.overspendUsd);
  return { scope, limitUsd, usedUsd, totals, ceiling };
}

/**
 * The dispatch gate: decides whether a task may start now, where, and on which model. Pure: the
 * snapshot, policy and `now` are arguments. Tries, in order: the requested model on the requested
 * account (or the best mapped one) → `allow`; the same model on another mapped account →
 * `reroute`; cheaper models down the ladder on any mapped account → `downgrade`; the earliest
 * (account, model) that will fit → `queue`; else `refuse`. See docs/pacing.md.
 *
 * @example
 * const d = decide(
 *   dispatchRequestSchema.parse({ taskId: 't1', taskClass: 'feature', model: 'claude-opus-4',
 *     estimate: { usd: '4' }, agent: 'a', host: 'h' }),
 *   snapshot, policySchema.parse({}), DateTime.fromISO('2026-11-25T15:00:00Z'),
 * );
 * if (d.decision === 'queue') console.log(d.retryAt.toISO(), d.reason);
 * @throws RangeError when the snapshot lists a mapped account twice (a caller's bug, not a budget state).
 */
export function decide(
  request: DispatchRequest,
  snapshot: Snapshot,
  policy: Policy,
  now: DateTime,
  prices?: PriceTable,
): Decision {
  const run = new GateRun(request, snapshot, policy, now, prices ?? priceTable(policy));
  const { trace } = run;
  const mapped = mappedAccounts(policy, request.taskClass, snapshot.accounts);
  // Sorted by id, so a repeated account sits beside itself. Two states for one account cannot both
  // be true, and the gate would otherwise decide on whichever came first.
  // The same pass writes the ids for the trace.
  let ids = mapped[0]?.account.id ?? '';
  for (let i = 1; i < mapped.length; i++) {
    const id = mapped[i]?.account.id ?? '';
    if (id === mapped[i - 1]?.account.id)
      throw new RangeError(`the snapshot lists account ${id} twice; each account must appear once`);
    ids += `,${id}`;
  }
  if (mapped.length === 0) {
    trace.push({
      rule: 'accounts.mapped',
      outcome: 'fail',
      note: `no account is mapped to ${request.taskClass}`,
    });
    return { decision: 'refuse', reason: `No account is mapped to task class ${request.taskClass}.`, trace };
  }
  const ladder = resolveLadder(policy, request.taskClass, mapped);
  const models = candidateModels(ladder, request.model);
  trace.push({
    rule: 'ladder',
    outcome: 'info',
    numbers: {
      ladder: ladderText(ladder),
      candidates: candidatesText(ladder, request.model),
      accounts: ids,
    },
  });
  const serving = (model: string) => mapped.filter((a) => a.account.models.includes(model));

  // (a) The requested account, when it is mapped and serves the model.
  const requested =
    request.account !== undefined ? mapped.find((a) => a.account.id === request.account) : undefined;
  let firstMiss: CandidateEval | undefined;
  if (request.account !== undefined) {
    if (!requested || !requested.account.models.includes(request.model)) {
      trace.push({
        rule: 'account.requested',
        outcome: 'fail',
        account: request.account,
        model: request.model,
        note: requested
          ? 'the account does not serve the model'
          : 'the account is not mapped to this task class',
      });
    } else {
      const c = run.evaluate(run.account(requested), request.model);
      if (c.fits) return admit(run, 'allow', c, `${request.model} on ${c.acct.id} fits now`);
      firstMiss = c;
    }
  }

  // (a) without an account, then (b): the same model on the other mapped accounts, best first.
  // Accounts are ranked on their window numbers and tested in that order; the first that fits
  // ends the search, so most accounts are never tested in full.
  const tried: CandidateEval[] = firstMiss ? [firstMiss] : [];
  const others = run.rank(
    request.model,
    requested ? serving(request.model).filter((a) => a !== requested) : serving(request.model),
  );
  for (const [i, acct] of others.entries()) {
    const c = run.evaluate(acct, request.model);
    tried.push(c);
    if (i === 0 && request.account === undefined) {
      if (c.fits) return admit(run, 'allow', c, `${request.model} on ${c.acct.id} (most headroom) fits now`);
      firstMiss = c;
      continue;
    }
    if (c.fits) {
      return admit(
        run,
        'reroute',
        c,
        `${request.model} does not fit where asked (${firstMiss?.why ?? 'not available there'}); ${c.acct.id} has room`,
      );
    }
  }

  // (c) Down the ladder: the first cheaper model that fits on any mapped account, best first.
  for (const model of models.slice(1)) {
    const ranked = run.rank(model, serving(model));
    let fit: CandidateEval | undefined;
    for (const acct of ranked) {
      const c = run.evaluate(acct, model);
      tried.push(c);
      if (c.fits) {
        fit = c;
        break;
      }
    }
    trace.push({
      rule: 'ladder.step',
      outcome: fit ? 'pass' : 'fail',
      model,
      numbers: { accounts: String(ranked.length) },
    });
    if (fit) {
      const miss = firstMiss?.why ?? `no mapped account serves ${request.model}`;
      return admit(
        run,
        'downgrade',
        fit,
        `${request.model} fits on no mapped account (${miss}); ${model} on ${fit.acct.id} fits now`,
      );
    }
  }

  // (d) Queue at the (account, model) that fits earliest; ties go to the better model.
  const headline =
    firstMiss?.why ?? tried[0]?.why ?? `no mapped account serves ${request.model} or a cheaper model`;
  let best: { c: CandidateEval; at: number; rank: number } | undefined;
  for (const c of tried) {
    const at = run.earliest(c);
    const rank = models.indexOf(c.model);
    trace.push({
      rule: 'queue.earliest',
      outcome: at === undefined ? 'fail' : 'info',
      account: c.acct.id,
      model: c.model,
      numbers: { earliest: at === undefined ? 'never' : iso(at) },
    });
    if (at === undefined) continue;
    if (!best || at < best.at || (at === best.at && rank < best.rank)) best = { c, at, rank };
  }
  if (tried.length === 0) {
    return refuse(
      run,
      `No account mapped to task class ${request.taskClass} serves ${models.join(' or ')}.`,
      undefined,
    );
  }
  if (!best) {
    return refuse(
      run,
      `Nothing can ever run this task: it exceeds a whole window or ceiling on every mapped account (${headline}).`,
      tried[0],
    );
  }
  const cls = Object.hasOwn(policy.taskClasses, request.taskClass)
    ? policy.taskClasses[request.taskClass]
    : undefined;
  const retryAt = DateTime.fromMillis(best.at, { zone: now.zone });
  const when = iso(best.at);
  if (!policy.queue.enabled || cls?.queue === false) {
    const who = policy.queue.enabled ? `task class ${request.taskClass}` : 'the policy';
    return refuse(
      run,
      `Nothing fits now (${headline}) and ${who} forbids queueing; it would fit at ${when} on ${best.c.acct.id}.`,
      best.c,
    );
  }
  if (request.deadline && best.at > request.deadline.toMillis()) {
    return refuse(
      run,
      `Nothing fits before the deadline ${iso(request.deadline.toMillis())} (${headline}); the earliest fit is ${when} on ${best.c.acct.id}.`,
      best.c,
    );
  }
  const maxWait = policy.queue.maxWait;
  if (maxWait && best.at - run.nowMs > maxWait.toMillis()) {
    return refuse(
      run,
      `Nothing fits within the queue's longest wait ${maxWait.toISO()} (${headline}); the earliest fit is ${when}.`,
      best.c,
    );
  }
  trace.push({
    rule: 'queue',
    outcome: 'pass',
    account: best.c.acct.id,
    model: best.c.model,
    numbers: { retryAt: when },
  });
  return {
    decision: 'queue',
    account: best.c.acct.id,
    model: best.c.model,
    retryAt,
    reserve: run.reserve(best.c),
    reason: `Nothing fits now (${headline}); ${best.c.model} on ${best.c.acct.id} fits at ${when}.`,
    trace,
  };
}

const VERB = { allow: 'Allowed', downgrade: 'Downgraded', reroute: 'Rerouted' } as const;

function admit(
  run: GateRun,
  decision: 'allow' | 'downgrade' | 'reroute',
  c: CandidateEval,
  what: string,
): Decision {
  const tight = tightest(c);
  const reason = `${VERB[decision]}: ${what}; estimate $${c.usd.toString()}${tight}.`;
  run.trace.push({ rule: 'decision', outcome: 'pass', account: c.acct.id, model: c.model, note: decision });
  return { decision, account: c.acct.id, model: c.model, reserve: run.reserve(c), reason, trace: run.trace };
}

function refuse(run: GateRun, reason: string, c: CandidateEval | undefined): Decision {
  run.trace.push({ rule: 'decision', outcome: 'fail', note: 'refuse' });
  const d: Decision = { decision: 'refuse', reason, trace: run.trace };
  if (c) {
    d.account = c.acct.id;
    d.model = c.model;
  }
  return d;
}

/** The binding window in words: the counted window with the least headroom. */
function tightest(c: CandidateEval): string {
  const best = tightestByEstimate(c) ?? tightestExactly(c);
  return best
    ? ` = ${best.share.text}% of ${best.w.spec.name}, which has ${best.w.text?.headroom ?? pct(exact(best.w).headroomPercent)}% headroom`
    : ' (no paced window; ceilings only)';
}

/** The binding window: the first counted one with the least slack left after this task, exactly. */
function tightestExactly(c: CandidateEval): { w: PacedWindow; share: WindowShare } | undefined {
  let best: { w: PacedWindow; share: WindowShare; slack: Decimal } | undefined;
  for (const [i, w] of c.acct.windows.entries()) {
    const share = c.shares[i];
    if (share === undefined) continue;
    const slack = exact(w).headroomPercent.minus(share.percent);
    if (!best || slack.lt(best.slack)) best = { w, share, slack };
  }
  return best;
}

/**
 * {@link tightestExactly} from the estimates, or undefined (for the exact search) when two slacks
 * are too close for the estimates to order.
 */
function tightestByEstimate(c: CandidateEval): { w: PacedWindow; share: WindowShare } | null | undefined {
  let best: { w: PacedWindow; share: WindowShare; slack: number; error: number } | undefined;
  for (const [i, w] of c.acct.windows.entries()) {
    const share = c.shares[i];
    if (share === undefined) continue;
    const e = estimateOf(w);
    // The share's own error, and the subtraction's rounding.
    const error = e.error + share.error + (Math.abs(share.approx) + Math.abs(e.percent)) * 2 ** -50;
    const slack = e.percent - share.approx;
    if (!best || slack + error < best.slack - best.error) best = { w, share, slack, error };
    else if (!(slack - error > best.slack + best.error)) return undefined;
  }
  return best ?? null;
}
