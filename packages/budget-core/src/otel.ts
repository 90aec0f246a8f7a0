import type { TokenUsage } from './spend.js';

/**
 * OpenTelemetry GenAI semantic-convention attributes of one model call's usage, keyed by their
 * attribute names. `gen_ai.provider.name` replaces the deprecated `gen_ai.system`, which is never
 * emitted.
 */
export interface GenAiUsageAttributes {
  'gen_ai.provider.name': string;
  'gen_ai.request.model': string;
  /** All input tokens, cached ones included: input + cache read + cache write. */
  'gen_ai.usage.input_tokens': number;
  'gen_ai.usage.output_tokens': number;
  /** The part of `gen_ai.usage.input_tokens` served from the provider's prompt cache. */
  'gen_ai.usage.cache_read.input_tokens': number;
  /** The part of `gen_ai.usage.input_tokens` written to the provider's prompt cache. */
  'gen_ai.usage.cache_creation.input_tokens': number;
}

/** What {@link toGenAiAttributes} reads: the ledger's token fields plus who served the call. */
export type GenAiUsageSource = TokenUsage & { provider: string; model: string };

/**
 * Maps a ledger row's token fields onto OTel GenAI attributes. The ledger's `inputTokens` excludes
 * cached tokens (as Anthropic reports them), while OTel's `gen_ai.usage.input_tokens` counts every
 * input token, so the cache reads and writes are added back in.
 * @example toGenAiAttributes({ provider: 'anthropic', model: 'claude-sonnet-4', inputTokens: 10,
 *   outputTokens: 5, cacheReadTokens: 100, cacheWriteTokens: 20 })['gen_ai.usage.input_tokens'] // 130
 */
export function toGenAiAttributes(source: GenAiUsageSource): GenAiUsageAttributes {
  return {
    'gen_ai.provider.name': source.provider,
    'gen_ai.request.model': source.model,
    'gen_ai.usage.input_tokens': source.inputTokens + source.cacheReadTokens + source.cacheWriteTokens,
    'gen_ai.usage.output_tokens': source.outputTokens,
    'gen_ai.usage.cache_read.input_tokens': source.cacheReadTokens,
    'gen_ai.usage.cache_creation.input_tokens': source.cacheWriteTokens,
  };
}

/**
 * The inverse of {@link toGenAiAttributes}: the ledger's fields from OTel attributes (cache
 * attributes absent count as zero; cached tokens are subtracted from the input count, never below 0).
 */
export function fromGenAiAttributes(attributes: {
  'gen_ai.provider.name': string;
  'gen_ai.request.model': string;
  'gen_ai.usage.input_tokens'?: number;
  'gen_ai.usage.output_tokens'?: number;
  'gen_ai.usage.cache_read.input_tokens'?: number;
  'gen_ai.usage.cache_creation.input_tokens'?: number;
}): GenAiUsageSource {
  const cacheRead = attributes['gen_ai.usage.cache_read.input_tokens'] ?? 0;
  const cacheWrite = attributes['gen_ai.usage.cache_creation.input_tokens'] ?? 0;
  const input = attributes['gen_ai.usage.input_tokens'] ?? 0;
  return {
    provider: attributes['gen_ai.provider.name'],
    model: attributes['gen_ai.request.model'],
    inputTokens: Math.max(0, input - cacheRead - cacheWrite),
    outputTokens: attributes['gen_ai.usage.output_tokens'] ?? 0,
    cacheReadTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
  };
}
