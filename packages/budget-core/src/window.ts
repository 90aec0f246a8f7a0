import { z } from 'zod';
import { durationSchema } from './time.js';
import { idSchema, modelSchema } from './ids.js';
import { positiveDecimalSchema } from './money.js';

/**
 * A limit window an account is measured against. A **fixed** window recurs on a calendar schedule
 * (weekly Fridays 17:00 America/Chicago: `length: "P7D"` and a first reset; monthly on day N:
 * `length: "P1M"`); a **rolling** window starts at the first use after the previous one ended and
 * lasts `length` of elapsed time. `models`, when given, restricts the window to those models (an
 * Opus-only week); otherwise every model of the account counts.
 */
export const windowSpecSchema = z.object({
  name: idSchema,
  length: durationSchema,
  rolling: z.boolean().default(false),
  models: z.array(modelSchema).min(1).optional(),
  /**
   * Prior for calibration: how many API-equivalent USD this window is believed to hold. Learning
   * replaces it as signals arrive; it is only the cold start.
   */
  capacityUsd: positiveDecimalSchema.optional(),
});

/** See {@link windowSpecSchema}. */
export type WindowSpec = z.output<typeof windowSpecSchema>;
/** The wire (input) form of {@link WindowSpec}. */
export type WindowSpecInput = z.input<typeof windowSpecSchema>;
