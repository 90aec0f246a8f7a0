import { DateTime } from 'luxon';
import { dec } from '../money.js';
import { WINDOW_NAMES, windowNameForMinutes, type SignalDraft } from './signal-draft.js';

/** Response headers as Node, fetch or a proxy hand them over; names are matched case-insensitively. */
export type HeaderBag = Record<string, string | string[] | undefined> | Iterable<[string, string]>;

/** Signals and status read from one provider response. */
export interface HeaderSignals {
  signals: SignalDraft[];
  /** Anthropic `-status`: `allowed`, `allowed_warning` or `rejected`. */
  status?: string;
  /** Anthropic `-representative-claim` mapped to our window name: the window that binds. */
  bindingWindow?: string;
}

function normalise(headers: HeaderBag): Map<string, string> {
  const out = new Map<string, string>();
  const entries: Iterable<[string, string | string[] | undefined]> =
    Symbol.iterator in headers ? headers : Object.entries(headers);
  for (const [k, v] of entries) {
    const value = Array.isArray(v) ? v[0] : v;
    if (value !== undefined) out.set(k.toLowerCase(), value.trim());
  }
  return out;
}

function num(text: string | undefined): number | undefined {
  if (text === undefined || !/^-?\d+(?:\.\d+)?$/.test(text)) return undefined;
  return Number(text);
}

function unix(text: string | undefined): DateTime | undefined {
  const n = num(text);
  return n === undefined || n <= 0 ? undefined : DateTime.fromSeconds(n, { zone: 'utc' });
}

const CLAIMS: Record<string, string> = { five_hour: WINDOW_NAMES.fiveHour, seven_day: WINDOW_NAMES.sevenDay };

/**
 * Reads provider rate-limit headers into signals observed at `now`, confidence `provider`.
 * Anthropic: `anthropic-ratelimit-unified-{5h,7d}-utilization` is a fraction (above 1 when over the
 * limit) turned into percent, `-reset` is unix seconds. Codex: `x-codex-{primary,secondary}-used-percent`
 * (already percent), `-window-minutes`, `-reset-at` (unix seconds). Unreadable values are skipped.
 *
 * @example
 * parseRateLimitHeaders({ 'anthropic-ratelimit-unified-5h-utilization': '0.42' }, { now }).signals[0]?.usedPercent; // 42
 */
export function parseRateLimitHeaders(headers: HeaderBag, options: { now: DateTime }): HeaderSignals {
  const h = normalise(headers);
  const signals: SignalDraft[] = [];
  const base = { confidence: 'provider' as const, observedAt: options.now, source: 'header' };

  for (const [key, window] of [
    ['5h', WINDOW_NAMES.fiveHour],
    ['7d', WINDOW_NAMES.sevenDay],
  ] as const) {
    const util = num(h.get(`anthropic-ratelimit-unified-${key}-utilization`));
    if (util === undefined || util < 0) continue;
    const s: SignalDraft = { ...base, window, usedPercent: dec(String(util)).times(100) };
    const reset = unix(h.get(`anthropic-ratelimit-unified-${key}-reset`));
    if (reset) s.resetAt = reset;
    signals.push(s);
  }

  for (const [key, defaultMinutes] of [
    ['primary', 300],
    ['secondary', 10_080],
  ] as const) {
    const used = num(h.get(`x-codex-${key}-used-percent`));
    if (used === undefined || used < 0) continue;
    const minutes = num(h.get(`x-codex-${key}-window-minutes`));
    const s: SignalDraft = {
      ...base,
      window: windowNameForMinutes(
        minutes !== undefined && minutes > 0 ? Math.round(minutes) : defaultMinutes,
      ),
      usedPercent: dec(String(used)),
    };
    const reset = unix(h.get(`x-codex-${key}-reset-at`));
    if (reset) s.resetAt = reset;
    signals.push(s);
  }

  const out: HeaderSignals = { signals };
  const status = h.get('anthropic-ratelimit-unified-status');
  if (status) out.status = status;
  const claim = h.get('anthropic-ratelimit-unified-representative-claim');
  if (claim) out.bindingWindow = CLAIMS[claim] ?? claim;
  return out;
}
