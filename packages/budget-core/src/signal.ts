import { z } from 'zod';
import { idSchema } from './ids.js';
import { confidenceSchema } from './confidence.js';
import { instantSchema } from './time.js';
import { nonNegativeDecimalSchema } from './money.js';

/**
 * A usage-vs-limit observation: "weekly window 42% used, resets Fri 17:00, confidence provider".
 * `usedPercent` may exceed 100 (providers report overage).
 */
export const usageSignalSchema = z.object({
  account: idSchema,
  window: idSchema,
  usedPercent: nonNegativeDecimalSchema.refine((d) => d.lte(1000), 'usedPercent must be at most 1000'),
  resetAt: instantSchema.optional(),
  confidence: confidenceSchema.default('provider'),
  observedAt: instantSchema,
  /** Where the signal came from (`statusline`, `codex-log`, `header`, `cli`…), for the audit trail. */
  source: z.string().max(64).optional(),
});

/** See {@link usageSignalSchema}. */
export type UsageSignal = z.output<typeof usageSignalSchema>;
/** The wire (input) form of {@link UsageSignal}. */
export type UsageSignalInput = z.input<typeof usageSignalSchema>;
