import { z } from 'zod';
import { idSchema, modelSchema } from './ids.js';
import { timezoneSchema } from './time.js';
import { windowSpecSchema } from './window.js';
import { usdSchema } from './money.js';

/** Accounts are either subscription (usage reported as % of limit windows) or api (metered USD). */
export const accountKindSchema = z.enum(['subscription', 'api']);
/** See {@link accountKindSchema}. */
export type AccountKind = z.infer<typeof accountKindSchema>;

/** Periods a hard USD ceiling can cover, as calendar periods in the account's time zone. */
export const ceilingPeriodSchema = z.enum(['P1D', 'P1W', 'P1M']);
/** See {@link ceilingPeriodSchema}. */
export type CeilingPeriod = z.infer<typeof ceilingPeriodSchema>;

/** A hard USD ceiling over a calendar period: committed + reserved + estimate never exceed it. */
export const ceilingSchema = z.object({ usd: usdSchema, period: ceilingPeriodSchema });
/** See {@link ceilingSchema}. */
export type Ceiling = z.output<typeof ceilingSchema>;

/** A provider such as `anthropic` or `openai`. */
export const providerSchema = idSchema;

/**
 * An account the fleet can spend on. `models` lists what it serves, most capable first. A
 * subscription account usually has limit windows; an api account has a ceiling. An account with
 * neither a usage signal nor windows is budgeted by its ceiling alone (no pacing).
 */
export const accountSchema = z
  .object({
    id: idSchema,
    provider: providerSchema,
    kind: accountKindSchema,
    models: z.array(modelSchema).min(1),
    timezone: timezoneSchema.default('UTC'),
    windows: z.array(windowSpecSchema).default([]),
    ceiling: ceilingSchema.optional(),
    /** Most tasks in flight at once on this account. */
    concurrency: z.number().int().positive().optional(),
  })
  .superRefine((a, ctx) => {
    if (a.kind === 'api' && !a.ceiling) {
      ctx.addIssue({
        code: 'custom',
        path: ['ceiling'],
        message: 'an api account needs a ceiling {usd, period}',
      });
    }
    const names = new Set<string>();
    for (const [i, w] of a.windows.entries()) {
      if (names.has(w.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['windows', i, 'name'],
          message: `duplicate window "${w.name}"`,
        });
      }
      names.add(w.name);
      for (const m of w.models ?? []) {
        if (!a.models.includes(m)) {
          ctx.addIssue({
            code: 'custom',
            path: ['windows', i, 'models'],
            message: `window "${w.name}" counts model "${m}" which the account does not serve`,
          });
        }
      }
    }
  });

/** See {@link accountSchema}. */
export type Account = z.output<typeof accountSchema>;
/** The wire (input) form of {@link Account}. */
export type AccountInput = z.input<typeof accountSchema>;
