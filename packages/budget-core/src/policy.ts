import { z } from 'zod';
import { idSchema, modelSchema } from './ids.js';
import { durationSchema } from './time.js';
import { ceilingSchema, providerSchema } from './account.js';
import { nonNegativeDecimalSchema, positiveDecimalSchema, usdSchema } from './money.js';
import { urgencySchema } from './urgency.js';
import { authorizationSchema } from './authorization.js';
import { tokenCountSchema } from './spend.js';

/** Per-million-token prices of one model in USD (input, output, cache read, cache write). */
export const modelPriceSchema = z.object({
  input: nonNegativeDecimalSchema,
  output: nonNegativeDecimalSchema,
  cacheRead: nonNegativeDecimalSchema,
  cacheWrite: nonNegativeDecimalSchema,
});
/** See {@link modelPriceSchema}. */
export type ModelPrice = z.output<typeof modelPriceSchema>;

/** An anticipated task size: tokens, USD, or both (USD wins when both are given). */
export const estimateSchema = z
  .object({ tokens: tokenCountSchema.optional(), usd: usdSchema.optional() })
  .refine((e) => e.tokens !== undefined || e.usd !== undefined, 'an estimate needs tokens or usd');
/** See {@link estimateSchema}. */
export type Estimate = z.output<typeof estimateSchema>;

/** What a task class may use and how it is estimated when the caller gives no estimate. */
export const taskClassPolicySchema = z.object({
  /** Accounts that may serve this class; absent means every account. */
  accounts: z.array(idSchema).min(1).optional(),
  /** A ladder for this class only; absent means the policy's ladder. */
  ladder: z.array(modelSchema).min(1).optional(),
  /** Whether a task of this class may wait in the queue (otherwise: refuse when nothing fits now). */
  queue: z.boolean().default(true),
  /** Cold-start estimate for this class. */
  estimate: estimateSchema.optional(),
});
/** See {@link taskClassPolicySchema}. */
export type TaskClassPolicy = z.output<typeof taskClassPolicySchema>;

/**
 * How far ahead of the ideal line an account may run: as a duration of pace (`{pace: "PT1H"}`: one
 * hour's worth of the window's even rate) or as percentage points of the window (`{percent: "2"}`).
 */
export const burstSchema = z.union([
  z.object({ pace: durationSchema }).strict(),
  z.object({ percent: nonNegativeDecimalSchema }).strict(),
]);
/** See {@link burstSchema}. */
export type Burst = z.output<typeof burstSchema>;

const DEFAULT_PRIORITY = { low: 0, normal: 1, high: 2, critical: 3 } as const;

/** What the gate does when it cannot reach its database. */
export const failModeSchema = z.enum(['refuse', 'allow-capped']);
/** See {@link failModeSchema}. */
export type FailMode = z.infer<typeof failModeSchema>;

const CAP_NEEDED = 'allow-capped needs capUsdPerMinute: failing open without a cap has no bound';

/** One account's behaviour while the gate cannot reach its database. */
export const failureRuleSchema = z
  .object({
    onDatabaseDown: failModeSchema,
    /** With allow-capped: most USD one replica may allow for this account per minute. */
    capUsdPerMinute: usdSchema.optional(),
  })
  .refine((r) => r.onDatabaseDown !== 'allow-capped' || r.capUsdPerMinute !== undefined, {
    message: CAP_NEEDED,
    path: ['capUsdPerMinute'],
  });
/** See {@link failureRuleSchema}. */
export type FailureRule = z.output<typeof failureRuleSchema>;

/**
 * The fleet's whole budget policy: a document an operator keeps in git and applies with
 * `mosaic budget policy apply`. Every field has a default, so `{}` is a valid policy.
 */
export const policySchema = z.object({
  version: z.literal(1).default(1),
  /** Models from most to least capable, across providers: opus → sonnet → haiku → codex. */
  ladder: z.array(modelSchema).default([]),
  taskClasses: z.record(idSchema, taskClassPolicySchema).default({}),
  routing: z
    .object({
      order: z.array(idSchema).default([]),
      /**
       * Try subscription accounts (already paid for) before metered api accounts when ranking by
       * headroom; otherwise a key's fresh daily ceiling, 100% free every morning, outranks a
       * subscription that has room and real money is spent first.
       */
      meteredLast: z.boolean().default(true),
    })
    .prefault({}),
  ceilings: z
    .object({
      providers: z.record(providerSchema, ceilingSchema).default({}),
      accounts: z.record(idSchema, ceilingSchema).default({}),
    })
    .prefault({}),
  concurrency: z
    .object({
      tenant: z.number().int().positive().optional(),
      providers: z.record(providerSchema, z.number().int().positive()).default({}),
      accounts: z.record(idSchema, z.number().int().positive()).default({}),
    })
    .prefault({}),
  pacing: z
    .object({
      burst: burstSchema.prefault({ pace: 'PT1H' }),
      /** Capacity assumed for a window with no calibration and no capacityUsd, in API-equivalent USD. */
      defaultCapacityUsd: positiveDecimalSchema.prefault('500'),
    })
    .prefault({}),
  urgency: z
    .object({
      priority: z.partialRecord(urgencySchema, z.number().int()).default(DEFAULT_PRIORITY),
      /** Urgency levels that skip pacing when an `urgency-bypass` authorization covers them. */
      bypassLevels: z.array(urgencySchema).default(['high', 'critical']),
    })
    .prefault({}),
  reservations: z.object({ ttl: durationSchema.prefault('PT30M') }).prefault({}),
  queue: z.object({ enabled: z.boolean().default(true), maxWait: durationSchema.optional() }).prefault({}),
  failure: z
    .object({
      onDatabaseDown: failModeSchema.default('refuse'),
      /** With allow-capped: most USD one replica may allow per minute while the database is down. */
      capUsdPerMinute: usdSchema.optional(),
      /** An account's own fail mode and cap, overriding the two above for that account. */
      accounts: z.record(idSchema, failureRuleSchema).default({}),
    })
    .superRefine((f, ctx) => {
      if (f.onDatabaseDown === 'allow-capped' && f.capUsdPerMinute === undefined) {
        ctx.addIssue({ code: 'custom', path: ['capUsdPerMinute'], message: CAP_NEEDED });
      }
    })
    .prefault({}),
  /** Overrides of the shipped price table, per model. */
  prices: z.record(modelSchema, modelPriceSchema).default({}),
  /** Authorizations kept in the policy file itself (standing permissions). */
  authorizations: z.array(authorizationSchema).default([]),
  /** Default estimate when neither the request nor the task class gives one. */
  defaultEstimate: estimateSchema.prefault({ tokens: 50_000 }),
});

/** See {@link policySchema}. */
export type Policy = z.output<typeof policySchema>;
/** The wire (input) form of {@link Policy}. */
export type PolicyInput = z.input<typeof policySchema>;

/** The empty policy with every default applied. */
export function defaultPolicy(): Policy {
  return policySchema.parse({});
}
