import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fromGenAiAttributes, toGenAiAttributes } from './otel.js';

const count = fc.integer({ min: 0, max: 1_000_000_000 });

describe('OTel GenAI mapping', () => {
  it('counts cached tokens inside gen_ai.usage.input_tokens and names the provider, not gen_ai.system', () => {
    const a = toGenAiAttributes({
      provider: 'anthropic',
      model: 'claude-sonnet-4',
      inputTokens: 10,
      outputTokens: 5,
      cacheReadTokens: 100,
      cacheWriteTokens: 20,
    });
    expect(a).toEqual({
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.request.model': 'claude-sonnet-4',
      'gen_ai.usage.input_tokens': 130,
      'gen_ai.usage.output_tokens': 5,
      'gen_ai.usage.cache_read.input_tokens': 100,
      'gen_ai.usage.cache_creation.input_tokens': 20,
    });
    expect(Object.keys(a)).not.toContain('gen_ai.system');
  });

  it('property: mapping ledger fields to OTel and back returns the same fields', () => {
    fc.assert(
      fc.property(
        count,
        count,
        count,
        count,
        (inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens) => {
          const source = {
            provider: 'openai',
            model: 'gpt-5',
            inputTokens,
            outputTokens,
            cacheReadTokens,
            cacheWriteTokens,
          };
          expect(fromGenAiAttributes(toGenAiAttributes(source))).toEqual(source);
        },
      ),
    );
  });
});
