import { DateTime } from 'luxon';
import { z } from 'zod';
import { dec } from '../money.js';
import { WINDOW_NAMES, type SignalDraft } from './signal-draft.js';

/** What a Claude Code status-line refresh tells us. */
export interface StatusLineInput {
  sessionId?: string;
  model?: string;
  /** Empty when the JSON carries no `rate_limits` (API users, the first prompt, some versions). */
  signals: SignalDraft[];
}

const limitSchema = z
  .object({ used_percentage: z.number().nonnegative(), resets_at: z.number().positive().optional() })
  .nullish()
  .catch(undefined);

// Only the fields we use; the rest of the status-line object changes between Claude Code versions.
const statusSchema = z.object({
  session_id: z.string().optional().catch(undefined),
  model: z
    .union([z.string(), z.object({ id: z.string().optional(), display_name: z.string().optional() })])
    .optional()
    .catch(undefined),
  rate_limits: z
    .object({ five_hour: limitSchema, seven_day: limitSchema })
    .partial()
    .nullish()
    .catch(undefined),
});

function toSignal(w: z.output<typeof limitSchema>, window: string, now: DateTime): SignalDraft | undefined {
  if (!w) return undefined;
  const s: SignalDraft = {
    window,
    usedPercent: dec(String(w.used_percentage)),
    confidence: 'provider',
    observedAt: now,
    source: 'statusline',
  };
  if (w.resets_at !== undefined) s.resetAt = DateTime.fromSeconds(w.resets_at, { zone: 'utc' });
  return s;
}

/**
 * Reads the JSON object Claude Code pipes to a status-line command. `rate_limits.five_hour` and
 * `.seven_day` (`used_percentage`, `resets_at` in unix seconds) become signals observed at `now`;
 * anything missing or malformed degrades to fewer signals, never an error, because a status line
 * must always print something.
 */
export function parseStatusLine(json: unknown, options: { now: DateTime }): StatusLineInput {
  const parsed = statusSchema.safeParse(json);
  if (!parsed.success) return { signals: [] };
  const d = parsed.data;
  const signals = [
    toSignal(d.rate_limits?.five_hour, WINDOW_NAMES.fiveHour, options.now),
    toSignal(d.rate_limits?.seven_day, WINDOW_NAMES.sevenDay, options.now),
  ].filter((s): s is SignalDraft => s !== undefined);
  const out: StatusLineInput = { signals };
  if (d.session_id) out.sessionId = d.session_id;
  const model = typeof d.model === 'string' ? d.model : (d.model?.id ?? d.model?.display_name);
  if (model) out.model = model;
  return out;
}
