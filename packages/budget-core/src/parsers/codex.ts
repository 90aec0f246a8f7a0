import { DateTime } from 'luxon';
import { z } from 'zod';
import type { TokenUsage } from '../spend.js';
import { dec } from '../money.js';
import { readLogInstant } from './log-instant.js';
import { windowNameForMinutes, type SignalDraft } from './signal-draft.js';

/** Codex's own token counts for a turn, as it writes them (`input_tokens` includes cached ones). */
export interface CodexRawUsage {
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  reasoningOutputTokens: number;
  totalTokens: number;
}

/** One turn's usage read from a Codex session log. */
export interface CodexTurn {
  timestamp: DateTime;
  model: string;
  /** True when no `turn_context` named the model before this turn (ccusage then assumes `gpt-5`). */
  modelIsFallback: boolean;
  /** Mapped to our fields: `inputTokens` excludes cached input, which is `cacheReadTokens`. */
  usage: TokenUsage;
  /** As Codex wrote it, for reports that compare with ccusage's Codex totals. */
  raw: CodexRawUsage;
}

/**
 * What the parser remembers between lines of one session file. Plain JSON, so an incremental import
 * can store it with the file's byte offset and resume mid-file.
 */
export interface CodexParserState {
  model?: string;
  /** The previous cumulative `total_token_usage`, for logs whose events carry no `last_token_usage`. */
  previousTotal?: CodexRawUsage;
}

/** What one session-log line amounts to. */
export interface CodexLineResult {
  state: CodexParserState;
  turn?: CodexTurn;
  signals: SignalDraft[];
  malformed?: string;
}

/** ccusage's model for a Codex turn that no `turn_context` names. */
export const CODEX_FALLBACK_MODEL = 'gpt-5';

const count = z.number().int().nonnegative().max(1e12);
const rawUsageSchema = z.object({
  input_tokens: count.default(0),
  cached_input_tokens: count.default(0),
  output_tokens: count.default(0),
  reasoning_output_tokens: count.default(0),
  total_tokens: count.optional(),
});
const rateWindowSchema = z
  .object({
    used_percent: z.number().nonnegative(),
    window_minutes: z.number().int().positive().optional(),
    resets_at: z.number().optional(),
    resets_in_seconds: z.number().optional(),
  })
  .nullish();
const lineSchema = z.object({
  timestamp: z.string(),
  type: z.string(),
  payload: z.record(z.string(), z.unknown()).nullish(),
});
const tokenCountSchema = z.object({
  type: z.literal('token_count'),
  info: z
    .object({
      total_token_usage: rawUsageSchema.nullish(),
      last_token_usage: rawUsageSchema.nullish(),
      model: z.string().optional(),
    })
    .nullish(),
  rate_limits: z.object({ primary: rateWindowSchema, secondary: rateWindowSchema }).partial().nullish(),
});

function toRaw(u: z.output<typeof rawUsageSchema>): CodexRawUsage {
  return {
    inputTokens: u.input_tokens,
    cachedInputTokens: u.cached_input_tokens,
    outputTokens: u.output_tokens,
    reasoningOutputTokens: u.reasoning_output_tokens,
    totalTokens: u.total_tokens ?? u.input_tokens + u.output_tokens,
  };
}

function minus(a: CodexRawUsage, b: CodexRawUsage | undefined): CodexRawUsage {
  const d = (x: number, y: number | undefined): number => Math.max(0, x - (y ?? 0));
  return {
    inputTokens: d(a.inputTokens, b?.inputTokens),
    cachedInputTokens: d(a.cachedInputTokens, b?.cachedInputTokens),
    outputTokens: d(a.outputTokens, b?.outputTokens),
    reasoningOutputTokens: d(a.reasoningOutputTokens, b?.reasoningOutputTokens),
    totalTokens: d(a.totalTokens, b?.totalTokens),
  };
}

function sameUsage(a: CodexRawUsage, b: CodexRawUsage): boolean {
  return (
    a.inputTokens === b.inputTokens &&
    a.cachedInputTokens === b.cachedInputTokens &&
    a.outputTokens === b.outputTokens &&
    a.reasoningOutputTokens === b.reasoningOutputTokens &&
    a.totalTokens === b.totalTokens
  );
}

function isZero(u: CodexRawUsage): boolean {
  return (
    u.inputTokens === 0 && u.cachedInputTokens === 0 && u.outputTokens === 0 && u.reasoningOutputTokens === 0
  );
}

/**
 * Maps Codex counts to ours. Codex's `input_tokens` includes `cached_input_tokens` (OpenAI's
 * convention); ours exclude them (Anthropic's), so input = input − cached and cache read = cached.
 * `reasoning_output_tokens` are already inside `output_tokens` and are not added again. Codex reports
 * no cache writes.
 */
export function codexToTokenUsage(raw: CodexRawUsage): TokenUsage {
  const cached = Math.min(raw.cachedInputTokens, raw.inputTokens);
  return {
    inputTokens: raw.inputTokens - cached,
    outputTokens: raw.outputTokens,
    cacheReadTokens: cached,
    cacheWriteTokens: 0,
  };
}

function signal(
  w: z.output<typeof rateWindowSchema>,
  observedAt: DateTime,
  defaultMinutes: number,
): SignalDraft | undefined {
  if (!w) return undefined;
  const draft: SignalDraft = {
    window: windowNameForMinutes(w.window_minutes ?? defaultMinutes),
    usedPercent: dec(String(w.used_percent)),
    confidence: 'provider',
    observedAt,
    source: 'codex-log',
  };
  if (w.resets_at !== undefined) draft.resetAt = DateTime.fromSeconds(w.resets_at, { zone: 'utc' });
  // Older logs give the reset relative to the event, in seconds.
  else if (w.resets_in_seconds !== undefined)
    draft.resetAt = observedAt.plus({ seconds: w.resets_in_seconds });
  return draft;
}

/**
 * Reads one line of a Codex CLI session log (`rollout-*.jsonl`), given the state after the previous
 * line. A `turn_context` sets the model; an `event_msg` of type `token_count` yields the turn's usage
 * (`last_token_usage`, or the growth of `total_token_usage` when the former is absent, as ccusage
 * does; an all-zero turn yields nothing) and, from `rate_limits.primary`/`secondary`, usage signals
 * with confidence `provider`. Never throws.
 */
export function parseCodexLine(line: string, state: CodexParserState): CodexLineResult {
  const text = line.trim();
  if (text === '') return { state, signals: [] };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { state, signals: [], malformed: 'not JSON' };
  }
  const row = lineSchema.safeParse(json);
  if (!row.success)
    return { state, signals: [], malformed: row.error.issues[0]?.message ?? 'unexpected shape' };
  const { type, payload } = row.data;
  const ts = readLogInstant(row.data.timestamp);
  if (!ts) return { state, signals: [], malformed: `timestamp "${row.data.timestamp}" is not ISO-8601` };

  if (type === 'turn_context') {
    const model = typeof payload?.model === 'string' && payload.model !== '' ? payload.model : undefined;
    return { state: model ? { ...state, model } : state, signals: [] };
  }
  if (type !== 'event_msg' || payload?.type !== 'token_count') return { state, signals: [] };

  const ev = tokenCountSchema.safeParse(payload);
  if (!ev.success) return { state, signals: [], malformed: ev.error.issues[0]?.message ?? 'bad token_count' };
  const signals: SignalDraft[] = [];
  const primary = signal(ev.data.rate_limits?.primary, ts, 300);
  const secondary = signal(ev.data.rate_limits?.secondary, ts, 10_080);
  if (primary) signals.push(primary);
  if (secondary) signals.push(secondary);

  const info = ev.data.info;
  const total = info?.total_token_usage ? toRaw(info.total_token_usage) : undefined;
  const last = info?.last_token_usage ? toRaw(info.last_token_usage) : undefined;
  // Codex repeats a token_count event when nothing new was spent; an unchanged cumulative total is
  // that repeat, not a second turn.
  const repeated =
    total !== undefined && state.previousTotal !== undefined && sameUsage(total, state.previousTotal);
  const delta = repeated ? undefined : (last ?? (total ? minus(total, state.previousTotal) : undefined));
  const next: CodexParserState = { ...state };
  if (total) next.previousTotal = total;
  const model = info?.model ?? state.model;
  if (info?.model) next.model = info.model;
  if (!delta || isZero(delta)) return { state: next, signals };
  return {
    state: next,
    signals,
    turn: {
      timestamp: ts,
      model: model ?? CODEX_FALLBACK_MODEL,
      modelIsFallback: model === undefined,
      usage: codexToTokenUsage(delta),
      raw: delta,
    },
  };
}
