import { DateTime } from 'luxon';
import { Decimal } from 'decimal.js';
import { WINDOW_NAMES, type SignalDraft } from './signal-draft.js';

/** What a Claude Code status-line refresh tells us. */
export interface StatusLineInput {
  sessionId?: string;
  model?: string;
  /** Empty when the JSON carries no `rate_limits` (API users, the first prompt, some versions). */
  signals: SignalDraft[];
}

// Hand-written checks rather than zod: this module is the core's light entry point
// (`@mosaic/budget-core/statusline`), loaded on every prompt, and zod's start-up cost dominates it.
function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

function finite(v: unknown, min: number): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= min ? v : undefined;
}

// Unix seconds beyond this are corrupt input, not a reset (year 2200).
const MAX_UNIX_SECONDS = 7_258_118_400;

function toSignal(v: unknown, window: string, now: DateTime): SignalDraft | undefined {
  const w = record(v);
  const used = finite(w?.used_percentage, 0);
  if (used === undefined || used > 1000) return undefined;
  const s: SignalDraft = {
    window,
    usedPercent: new Decimal(String(used)),
    confidence: 'provider',
    observedAt: now,
    source: 'statusline',
  };
  const resets = finite(w?.resets_at, 1);
  if (resets !== undefined && resets < MAX_UNIX_SECONDS)
    s.resetAt = DateTime.fromSeconds(resets, { zone: 'utc' });
  return s;
}

/**
 * Reads the JSON object Claude Code pipes to a status-line command. `rate_limits.five_hour` and
 * `.seven_day` (`used_percentage`, `resets_at` in unix seconds) become signals observed at `now`;
 * anything missing or malformed degrades to fewer signals, never an error, because a status line
 * must always print something.
 */
export function parseStatusLine(json: unknown, options: { now: DateTime }): StatusLineInput {
  const d = record(json);
  if (!d) return { signals: [] };
  const limits = record(d.rate_limits);
  const signals = [
    toSignal(limits?.five_hour, WINDOW_NAMES.fiveHour, options.now),
    toSignal(limits?.seven_day, WINDOW_NAMES.sevenDay, options.now),
  ].filter((s): s is SignalDraft => s !== undefined);
  const out: StatusLineInput = { signals };
  if (typeof d.session_id === 'string' && d.session_id !== '') out.sessionId = d.session_id;
  const m = d.model;
  const mo = record(m);
  const model = typeof m === 'string' ? m : typeof mo?.id === 'string' ? mo.id : mo?.display_name;
  if (typeof model === 'string' && model !== '') out.model = model;
  return out;
}
