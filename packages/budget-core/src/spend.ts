import { z } from 'zod';
import { idSchema, labelSchema, modelSchema } from './ids.js';
import { instantSchema } from './time.js';
import { usdSchema } from './money.js';
import { providerSchema } from './account.js';

/** Whether a ledger row is what was expected (`projected`) or what happened (`actual`). */
export const spendKindSchema = z.enum(['projected', 'actual']);
/** See {@link spendKindSchema}. */
export type SpendKind = z.infer<typeof spendKindSchema>;

// Bound on any one token count: 10^12 tokens would cost millions; larger is corrupt input.
const MAX_TOKENS = 1_000_000_000_000;

/** A token count: a whole number, zero or more. */
export const tokenCountSchema = z.number().int().min(0).max(MAX_TOKENS);

/**
 * The four token counts, named so they map one-to-one onto OpenTelemetry GenAI attributes
 * (docs/observability.md): `inputTokens` excludes cached tokens, as Anthropic reports it.
 */
export const tokenUsageSchema = z.object({
  inputTokens: tokenCountSchema.default(0),
  outputTokens: tokenCountSchema.default(0),
  cacheReadTokens: tokenCountSchema.default(0),
  cacheWriteTokens: tokenCountSchema.default(0),
});
/** See {@link tokenUsageSchema}. */
export type TokenUsage = z.output<typeof tokenUsageSchema>;

/** One row of the spend ledger. */
export const spendRecordSchema = tokenUsageSchema.extend({
  tenantId: idSchema.optional(),
  host: labelSchema,
  agent: labelSchema,
  mission: labelSchema.optional(),
  task: labelSchema,
  taskClass: idSchema.default('unclassified'),
  provider: providerSchema,
  account: idSchema,
  model: modelSchema,
  usd: usdSchema,
  kind: spendKindSchema.default('actual'),
  occurredAt: instantSchema,
  idempotencyKey: z.string().min(1).max(256),
});

/** See {@link spendRecordSchema}. */
export type SpendRecord = z.output<typeof spendRecordSchema>;
/** The wire (input) form of {@link SpendRecord}. */
export type SpendRecordInput = z.input<typeof spendRecordSchema>;
