import { priceTable, policySchema, type PriceTable } from '@mosaic/budget-core';
import type { Transport } from './transport/transport.js';
import { call } from './transport/call.js';

/** The live policy's price table (shipped prices with the policy's overrides). */
export async function livePriceTable(t: Transport): Promise<PriceTable> {
  const body = await call<{ policy?: unknown }>(t, 'GET', '/v1/policy');
  const parsed = policySchema.safeParse(body.policy ?? {});
  return priceTable(parsed.success ? parsed.data : policySchema.parse({}));
}
