import type { Decimal } from 'decimal.js';
import { DateTime } from 'luxon';
import type { ReservationAmount } from '../decision.js';
import type { DispatchRequest } from '../dispatch.js';
import { decide } from '../gate.js';
import { candidateModels, mappedAccounts, resolveLadder } from '../ladder.js';
import { ZERO, dec } from '../money.js';
import { DAY_MS } from '../time.js';
import { windowHeadroom } from '../headroom.js';
import type { SimTask } from './demand.js';
import type { SimAccount, World } from './world.js';

/** The three ways of dispatching the same demand that a simulation compares. */
export const STRATEGIES = ['paced', 'greedy', 'static-daily-cap'] as const;
/** See {@link STRATEGIES}. */
export type Strategy = (typeof STRATEGIES)[number];

/** What a strategy does with a task offered now. */
export type Offer =
  | { kind: 'allow' | 'downgrade' | 'reroute'; account: string; model: string; reserve: ReservationAmount }
  | { kind: 'wait'; retryAtMs?: number }
  | { kind: 'refuse'; reason: string };

/** A strategy: offered a task at an instant, it admits it somewhere, makes it wait, or refuses it. */
export type Chooser = (world: World, task: SimTask, nowMs: number) => Offer;

function request(task: SimTask, tokens: number): DispatchRequest {
  const r: DispatchRequest = {
    taskId: task.id,
    taskClass: task.taskClass,
    model: task.model,
    estimate: { tokens },
    urgency: task.urgency,
    agent: 'simulated-agent',
    host: 'simulated-host',
  };
  if (task.deadlineMs !== undefined) r.deadline = DateTime.fromMillis(task.deadlineMs, { zone: 'UTC' });
  return r;
}

/** The real gate over the world's snapshot, with the learnt estimate. */
export const paced: Chooser = (world, task, nowMs) => {
  const now = DateTime.fromMillis(nowMs, { zone: 'UTC' });
  const d = decide(
    request(task, world.estimateTokens(task).reserve),
    world.snapshot(now),
    world.policy,
    now,
    world.prices,
  );
  switch (d.decision) {
    case 'allow':
    case 'downgrade':
    case 'reroute':
      return { kind: d.decision, account: d.account, model: d.model, reserve: d.reserve };
    case 'queue':
      return { kind: 'wait', retryAtMs: d.retryAt.toMillis() };
    case 'refuse':
      return { kind: 'refuse', reason: d.reason };
  }
};

/** The (account, model) pairs a task may use, best first: the ladder from its model, accounts in routing order. */
export function candidates(world: World, task: SimTask): { acct: SimAccount; model: string }[] {
  // The candidates depend only on the policy and the accounts, fixed for a run: memoise per world.
  let memo = candidateMemo.get(world);
  if (!memo) {
    memo = new Map();
    candidateMemo.set(world, memo);
  }
  const key = `${task.taskClass}\u0000${task.model}`;
  let hit = memo.get(key);
  if (!hit) {
    hit = computeCandidates(world, task);
    memo.set(key, hit);
  }
  return hit;
}

const candidateMemo = new WeakMap<World, Map<string, { acct: SimAccount; model: string }[]>>();

function computeCandidates(world: World, task: SimTask): { acct: SimAccount; model: string }[] {
  const snaps = world.accounts.map((a) => ({ account: a.account, windows: [], inflight: 0 }));
  const mapped = mappedAccounts(world.policy, task.taskClass, snaps);
  const models = candidateModels(resolveLadder(world.policy, task.taskClass, mapped), task.model);
  const out: { acct: SimAccount; model: string }[] = [];
  for (const model of models) {
    for (const m of mapped) {
      const acct = world.byId.get(m.account.id);
      if (acct && acct.account.models.includes(model)) out.push({ acct, model });
    }
  }
  return out;
}

function ceilingRoom(world: World, acct: SimAccount, usd: Decimal, nowMs: number): boolean {
  const c = acct.account.ceiling;
  if (!c) return true;
  const b = world.periodBounds(c.period, acct.account.timezone, DateTime.fromMillis(nowMs, { zone: 'UTC' }));
  let used = world.spendBetween(acct, b.start.toMillis(), b.end.toMillis());
  for (const r of world.running) if (r.account === acct.account.id) used = used.plus(r.reserve.usd);
  return used.plus(usd).lte(c.usd);
}

function admitKind(task: SimTask, model: string, first: boolean): 'allow' | 'downgrade' | 'reroute' {
  if (model !== task.model) return 'downgrade';
  return first ? 'allow' : 'reroute';
}

/** The % of each window of the account that counts `model` which `usd` takes, at the engine's calibration. */
function windowShares(world: World, acct: SimAccount, model: string, usd: Decimal, nowMs: number) {
  const out: ReservationAmount['windows'] = [];
  for (const spec of acct.account.windows) {
    if (spec.models && !spec.models.includes(model)) continue;
    const ppu =
      world.windowState(acct, spec, nowMs)?.percentPerUsd ??
      dec(100).div(spec.capacityUsd ?? world.policy.pacing.defaultCapacityUsd);
    out.push({ window: spec.name, percent: usd.times(ppu) });
  }
  return out;
}

/**
 * Builds a baseline that walks the candidates in order and takes the first the provider accepts
 * (and the hard ceiling allows), subject to an extra per-window test.
 */
function baseline(
  extra: (world: World, acct: SimAccount, model: string, usd: Decimal, nowMs: number) => boolean,
  retryAt: (world: World, nowMs: number) => number | undefined = () => undefined,
): Chooser {
  return (world, task, nowMs) => {
    const tokens = world.estimateTokens(task).reserve;
    const cands = candidates(world, task);
    for (const [i, c] of cands.entries()) {
      if (world.providerExhausted(c.acct.account.id, c.model)) continue;
      const usd = world.usdOf(c.model, tokens);
      if (!ceilingRoom(world, c.acct, usd, nowMs)) continue;
      if (!extra(world, c.acct, c.model, usd, nowMs)) continue;
      return {
        kind: admitKind(task, c.model, i === 0),
        account: c.acct.account.id,
        model: c.model,
        reserve: { usd, windows: windowShares(world, c.acct, c.model, usd, nowMs) },
      };
    }
    const at = retryAt(world, nowMs);
    return at === undefined ? { kind: 'wait' } : { kind: 'wait', retryAtMs: at };
  };
}

/** No pacing: admit wherever the provider has not yet cut the account off. */
export const greedy: Chooser = baseline(() => true);

/**
 * A fixed daily cap: each window of a day or more may use `100 × day / length` % per calendar day
 * of the scenario's zone (1/7 of a week), measured as the engine measures usage; what a day leaves
 * unused is not re-split over the others.
 */
export function staticDailyCap(): Chooser {
  // Per (account, window): the engine's used % at the start of the current day (or period).
  const base = new Map<string, { dayMs: number; resetMs: number; used: Decimal }>();
  return baseline(
    (world, acct, model, usd, nowMs) => {
      const tz = world.scenario.timezone;
      const dayMs = world
        .periodBounds('P1D', tz, DateTime.fromMillis(nowMs, { zone: 'UTC' }))
        .start.toMillis();
      for (const spec of acct.account.windows) {
        const lenMs = spec.length.toMillis();
        if (lenMs < DAY_MS || (spec.models && !spec.models.includes(model))) continue;
        const state = world.windowState(acct, spec, nowMs);
        const h = windowHeadroom({
          spec,
          state,
          timezone: acct.account.timezone,
          nowMs,
          burst: world.policy.pacing.burst,
          defaultCapacityUsd: world.policy.pacing.defaultCapacityUsd,
        });
        const key = `${acct.account.id}\u0000${spec.name}`;
        let b = base.get(key);
        if (!b || b.dayMs !== dayMs || b.resetMs !== h.resetMs) {
          // A new day (or a new period) starts from what is used now; a fresh period from zero.
          const fresh = b !== undefined && b.resetMs !== h.resetMs && b.dayMs === dayMs;
          b = { dayMs, resetMs: h.resetMs, used: fresh ? ZERO : h.usedPercent };
          base.set(key, b);
        }
        const cap = dec(100).times(DAY_MS).div(lenMs);
        const today = h.usedPercent.plus(h.reservedPercent).minus(b.used);
        if (today.plus(usd.times(h.percentPerUsd)).gt(cap)) return false;
      }
      return true;
    },
    // A new day brings a new share even when nothing else changes.
    (world, nowMs) =>
      world
        .periodBounds('P1D', world.scenario.timezone, DateTime.fromMillis(nowMs, { zone: 'UTC' }))
        .end.toMillis(),
  );
}

/** The chooser for a strategy (a fresh one per run: the static cap keeps per-day state). */
export function chooserFor(strategy: Strategy): Chooser {
  switch (strategy) {
    case 'paced':
      return paced;
    case 'greedy':
      return greedy;
    case 'static-daily-cap':
      return staticDailyCap();
  }
}
