import { z } from 'zod';
import { idSchema, labelSchema } from './ids.js';
import { instantSchema } from './time.js';
import { decimalSchema, usdSchema } from './money.js';
import { providerSchema } from './account.js';

/**
 * What an authorization permits:
 * - `rapid`: pace `multiplier` times faster than even pacing (the ideal line rises that much faster);
 * - `overspend`: spend `amountUsd` beyond a hard ceiling, or beyond the pace line of a subscription;
 * - `urgency-bypass`: tasks at a bypass urgency level ignore pacing (never a window's 100%, never a
 *   hard ceiling).
 */
export const authorizationKindSchema = z.enum(['rapid', 'overspend', 'urgency-bypass']);
/** See {@link authorizationKindSchema}. */
export type AuthorizationKind = z.infer<typeof authorizationKindSchema>;

/** Which spend an authorization covers; an empty scope covers the whole tenant. */
export const authorizationScopeSchema = z
  .object({
    account: idSchema.optional(),
    provider: providerSchema.optional(),
    taskClass: idSchema.optional(),
    mission: labelSchema.optional(),
  })
  .default({});

/** An explicit, recorded permission to spend faster than pace or beyond a ceiling. */
export const authorizationSchema = z
  .object({
    id: z.string().min(1).max(128),
    scope: authorizationScopeSchema,
    kind: authorizationKindSchema,
    multiplier: decimalSchema
      .refine((d) => d.gt(1) && d.lte(1000), 'multiplier must be > 1 and ≤ 1000')
      .optional(),
    amountUsd: usdSchema.optional(),
    from: instantSchema,
    until: instantSchema,
    reason: z.string().min(1).max(2000),
    createdBy: z.string().min(1).max(256),
    revokedAt: instantSchema.optional(),
  })
  .superRefine((a, ctx) => {
    if (a.kind === 'rapid' && !a.multiplier) {
      ctx.addIssue({
        code: 'custom',
        path: ['multiplier'],
        message: 'a rapid authorization needs a multiplier > 1',
      });
    }
    if (a.kind === 'overspend' && !a.amountUsd) {
      ctx.addIssue({
        code: 'custom',
        path: ['amountUsd'],
        message: 'an overspend authorization needs amountUsd',
      });
    }
    if (a.until <= a.from) {
      ctx.addIssue({ code: 'custom', path: ['until'], message: 'until must be after from' });
    }
  });

/** See {@link authorizationSchema}. */
export type Authorization = z.output<typeof authorizationSchema>;
/** The wire (input) form of {@link Authorization}. */
export type AuthorizationInput = z.input<typeof authorizationSchema>;
