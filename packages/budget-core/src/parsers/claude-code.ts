import { DateTime } from 'luxon';
import { z } from 'zod';
import type { TokenUsage } from '../spend.js';
import { dec } from '../money.js';
import { readLogMillis } from './log-instant.js';
import { WINDOW_NAMES, type SignalDraft } from './signal-draft.js';

/** One assistant message's usage read from a Claude Code transcript line. */
export interface ClaudeCodeUsage {
  /** When the line was written, in UTC. */
  readonly timestamp: DateTime;
  /** The same instant in epoch milliseconds. */
  epochMs: number;
  model: string;
  usage: TokenUsage;
  sessionId?: string;
  requestId?: string;
  messageId?: string;
  /** `costUSD` when the line carries one (older Claude Code versions), as decimal text. */
  costUsd?: string;
  /** ccusage's dedupe key `message.id:requestId`; absent when either is missing (never deduped). */
  dedupeKey?: string;
}

/**
 * A {@link ClaudeCodeUsage} whose DateTime is built when it is read: an import needs only the epoch
 * milliseconds, and building a luxon DateTime for each of a transcript's usage lines (half of them
 * repeats that are dropped) was a tenth of the parser's cost.
 */
class Usage implements ClaudeCodeUsage {
  declare sessionId?: string;
  declare requestId?: string;
  declare messageId?: string;
  declare costUsd?: string;
  declare dedupeKey?: string;

  constructor(
    public epochMs: number,
    public model: string,
    public usage: TokenUsage,
  ) {}

  get timestamp(): DateTime {
    return DateTime.fromMillis(this.epochMs, { zone: 'utc' });
  }
}

/** What one transcript line amounts to. */
export type ClaudeCodeLine =
  | { kind: 'usage'; entry: ClaudeCodeUsage }
  | { kind: 'limit'; signal: SignalDraft }
  | { kind: 'skip'; reason: 'no-usage' | 'synthetic' | 'blank' }
  | { kind: 'malformed'; reason: string };

const count = z.number().int().nonnegative().max(1e12);

/**
 * The fields of a transcript line that ccusage reads; everything else on the line is ignored (Claude
 * Code adds fields often). It judges every line {@link plainRow} is not sure of.
 */
export const lineSchema = z.object({
  // Summary and user lines carry no timestamp or usage; they are skipped, not malformed.
  timestamp: z.string().optional(),
  sessionId: z.string().optional(),
  requestId: z.string().optional(),
  costUSD: z.number().nonnegative().optional(),
  message: z
    .object({
      id: z.string().optional(),
      model: z.string().optional(),
      usage: z
        .object({
          input_tokens: count,
          output_tokens: count,
          cache_creation_input_tokens: count.optional(),
          cache_read_input_tokens: count.optional(),
          cache_creation: z
            .object({
              ephemeral_5m_input_tokens: count.optional(),
              ephemeral_1h_input_tokens: count.optional(),
            })
            .optional(),
        })
        .optional(),
    })
    .optional(),
});

type Row = z.infer<typeof lineSchema>;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const optString = (v: unknown): boolean => v === undefined || typeof v === 'string';
const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 1e12;
const optCount = (v: unknown): boolean => v === undefined || isCount(v);

/**
 * The line as {@link lineSchema} would read it, when it certainly passes: a transcript holds hundreds
 * of thousands of lines and the schema's walk costs more than JSON.parse itself. This check only ever
 * says yes to what the schema accepts (claude-code.test.ts holds it to that); anything else, valid or
 * not, goes to the schema, which judges and explains. The fields it returns are the ones read below.
 */
export function plainRow(json: unknown): Row | undefined {
  if (!isObject(json)) return undefined;
  const { timestamp, sessionId, requestId, costUSD, message } = json;
  if (!optString(timestamp) || !optString(sessionId) || !optString(requestId)) return undefined;
  if (costUSD !== undefined && !(typeof costUSD === 'number' && costUSD >= 0 && Number.isFinite(costUSD)))
    return undefined;
  if (message !== undefined) {
    if (!isObject(message) || !optString(message.id) || !optString(message.model)) return undefined;
    const usage = message.usage;
    if (usage !== undefined) {
      if (!isObject(usage) || !isCount(usage.input_tokens) || !isCount(usage.output_tokens)) return undefined;
      if (!optCount(usage.cache_creation_input_tokens) || !optCount(usage.cache_read_input_tokens))
        return undefined;
      const split = usage.cache_creation;
      if (split !== undefined) {
        if (!isObject(split)) return undefined;
        if (!optCount(split.ephemeral_5m_input_tokens) || !optCount(split.ephemeral_1h_input_tokens))
          return undefined;
      }
    }
  }
  return json;
}

const LIMIT_TEXT = 'Claude AI usage limit reached|';

/**
 * Text on every line {@link parseClaudeCodeLine} reads as usage or a limit: the `usage` key and the
 * limit message both contain it. A reader may pass over a line without it that is a whole JSON object,
 * which could only be skipped, or malformed in a field that carries no spend. (JSON may spell a key
 * with \u escapes, which no transcript writer does for plain letters.)
 */
export const CLAUDE_CODE_MARK = 'usage';
const LIMIT = /Claude AI usage limit reached\|(\d{9,11})/;

/** ccusage's dedupe key: `message.id:requestId` when both are present, otherwise none. */
export function claudeCodeDedupeKey(
  messageId: string | undefined,
  requestId: string | undefined,
): string | undefined {
  return messageId !== undefined && requestId !== undefined ? `${messageId}:${requestId}` : undefined;
}

/**
 * Reads one line of a Claude Code JSONL transcript. Usage comes from `message.usage`; the cache
 * write count is the sum of `cache_creation.ephemeral_5m/1h_input_tokens` when that object is present
 * (it splits `cache_creation_input_tokens` by TTL), else `cache_creation_input_tokens`. A
 * "Claude AI usage limit reached|<unix seconds>" line becomes a reset signal for the 5-hour window
 * at 100 % with confidence `provider`. Never throws: a bad line is `malformed`.
 */
export function parseClaudeCodeLine(line: string): ClaudeCodeLine {
  const text = line.trim();
  if (text === '') return { kind: 'skip', reason: 'blank' };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'malformed', reason: 'not JSON' };
  }
  let row = plainRow(json);
  if (row === undefined) {
    const parsed = lineSchema.safeParse(json);
    if (!parsed.success) {
      return { kind: 'malformed', reason: parsed.error.issues[0]?.message ?? 'unexpected shape' };
    }
    row = parsed.data;
  }
  // includes() first: the regex, run on every line of a transcript, was a twentieth of an import's CPU.
  const limit = text.includes(LIMIT_TEXT) ? LIMIT.exec(text) : null;
  if (!row.message?.usage && !limit) return { kind: 'skip', reason: 'no-usage' };
  const ms = row.timestamp === undefined ? undefined : readLogMillis(row.timestamp);
  if (ms === undefined)
    return { kind: 'malformed', reason: `timestamp ${JSON.stringify(row.timestamp)} is not ISO-8601` };

  if (limit?.[1]) {
    const ts = DateTime.fromMillis(ms, { zone: 'utc' });
    const resetAt = DateTime.fromSeconds(Number(limit[1]), { zone: 'utc' });
    return {
      kind: 'limit',
      signal: {
        // The message names no window; the 5-hour session limit is the one hit in practice, and a
        // weekly limit reset further out than five hours is recorded as the weekly window.
        window: resetAt.diff(ts).as('hours') > 5 ? WINDOW_NAMES.sevenDay : WINDOW_NAMES.fiveHour,
        usedPercent: dec(100),
        resetAt,
        confidence: 'provider',
        observedAt: ts,
        source: 'claude-code-log',
      },
    };
  }

  const usage = row.message?.usage;
  if (!usage) return { kind: 'skip', reason: 'no-usage' };
  const model = row.message?.model ?? 'unknown';
  if (model === '<synthetic>') return { kind: 'skip', reason: 'synthetic' };
  const split = usage.cache_creation;
  const cacheWrite =
    split && (split.ephemeral_5m_input_tokens !== undefined || split.ephemeral_1h_input_tokens !== undefined)
      ? (split.ephemeral_5m_input_tokens ?? 0) + (split.ephemeral_1h_input_tokens ?? 0)
      : (usage.cache_creation_input_tokens ?? 0);
  const entry = new Usage(ms, model, {
    inputTokens: usage.input_tokens,
    outputTokens: usage.output_tokens,
    cacheReadTokens: usage.cache_read_input_tokens ?? 0,
    cacheWriteTokens: cacheWrite,
  });
  if (row.sessionId !== undefined) entry.sessionId = row.sessionId;
  if (row.requestId !== undefined) entry.requestId = row.requestId;
  if (row.message?.id !== undefined) entry.messageId = row.message.id;
  if (row.costUSD !== undefined) entry.costUsd = dec(row.costUSD).toString();
  const key = claudeCodeDedupeKey(entry.messageId, entry.requestId);
  if (key !== undefined) entry.dedupeKey = key;
  return { kind: 'usage', entry };
}
