import type { Decimal } from 'decimal.js';
import { priceTable, priceUsage, policySchema, type PriceTable, type TokenUsage } from '@mosaic/budget-core';
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
  return priceUsage(table, model, usage) ?? priceUsage(table, model.replace(/-\d{8}$/, ''), usage);
}
