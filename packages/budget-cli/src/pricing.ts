import type { Decimal } from 'decimal.js';
import {
  dec,
  priceTable,
  priceUsage,
  policySchema,
  type ModelPrice,
  type PriceTable,
  type TokenUsage,
} from '@mosaic/budget-core';
import type { Transport } from './transport/transport.js';
import { call } from './transport/call.js';

/** The live policy's price table (shipped prices with the policy's overrides). */
export async function livePriceTable(t: Transport): Promise<PriceTable> {
  const body = await call<{ policy?: unknown }>(t, 'GET', '/v1/policy');
  const parsed = policySchema.safeParse(body.policy ?? {});
  return priceTable(parsed.success ? parsed.data : policySchema.parse({}));
}

/**
 * USD of a usage on a model. Logs name dated snapshots (`claude-sonnet-4-5-20250929`); when the table
 * has no exact entry, the name without its date suffix is tried. Undefined when neither is known.
 */
export function priceOf(table: PriceTable, model: string, usage: TokenUsage): Decimal | undefined {
  return priceUsage(table, model, usage) ?? priceUsage(table, undated(model), usage);
}

const undated = (model: string): string => model.replace(/-\d{8}$/, '');
const PER_MILLION = dec(1_000_000);

/**
 * {@link priceOf} for many usages on few models, as an import prices every entry of a transcript: each
 * model's entry (and its undated fallback) is looked up once and its prices divided per token once.
 * The result is the same decimal: dividing by a power of ten only moves the decimal point, and the
 * products stay far inside the 40 significant digits money is computed with.
 */
export function pricer(table: PriceTable): (model: string, usage: TokenUsage) => Decimal | undefined {
  const perToken = new Map<string, ModelPrice | null>();
  const lookUp = (model: string): ModelPrice | null => {
    const p = Object.hasOwn(table, model)
      ? table[model]
      : Object.hasOwn(table, undated(model))
        ? table[undated(model)]
        : undefined;
    return p
      ? {
          input: p.input.div(PER_MILLION),
          output: p.output.div(PER_MILLION),
          cacheRead: p.cacheRead.div(PER_MILLION),
          cacheWrite: p.cacheWrite.div(PER_MILLION),
        }
      : null;
  };
  return (model, usage) => {
    let p = perToken.get(model);
    if (p === undefined) perToken.set(model, (p = lookUp(model)));
    return p
      ? p.input
          .times(usage.inputTokens)
          .plus(p.output.times(usage.outputTokens))
          .plus(p.cacheRead.times(usage.cacheReadTokens))
          .plus(p.cacheWrite.times(usage.cacheWriteTokens))
      : undefined;
  };
}
