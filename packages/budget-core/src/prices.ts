import type { Decimal } from 'decimal.js';
import { memoized, memoizedByNumber } from './memo.js';
import { dec } from './money.js';
import type { ModelPrice, Policy } from './policy.js';
import type { TokenUsage } from './spend.js';
import { PRICES_DATA } from './prices-data.js';

/** Prices per model name, USD per million tokens. */
export type PriceTable = Record<string, ModelPrice>;

const PER_MILLION = dec(1_000_000);

/** The shipped price table (see prices-data.ts for its date and source). */
export const DEFAULT_PRICES: Readonly<PriceTable> = Object.freeze(
  Object.fromEntries(
    Object.entries(PRICES_DATA.models).map(([model, p]) => [
      model,
      {
        input: dec(p.input),
        output: dec(p.output),
        cacheRead: dec(p.cacheRead),
        cacheWrite: dec(p.cacheWrite),
      },
    ]),
  ),
);

/**
 * The shipped prices with the policy's overrides applied (a policy entry replaces a whole model).
 * Built once per (immutable) prices object, since the gate asks on every call: the table returned is
 * shared, and never to be changed.
 */
export function priceTable(policy: Pick<Policy, 'prices'>): PriceTable {
  return tableWith(policy.prices);
}

const tableWith = memoized((prices: Policy['prices']): PriceTable =>
  Object.keys(prices).length === 0 ? DEFAULT_PRICES : { ...DEFAULT_PRICES, ...prices },
);

/** A model name without a dated snapshot's suffix (`claude-sonnet-4-5-20250929` → `claude-sonnet-4-5`). */
const undated = (model: string): string => model.replace(/-\d{8}$/, '');

/**
 * A model's prices as logs and operators name it: its own entry, else (for a dated snapshot the
 * table has no entry for) its undated name's; undefined when neither is known.
 */
export function modelPrice(table: PriceTable, model: string): ModelPrice | undefined {
  if (Object.hasOwn(table, model)) return table[model];
  const name = undated(model);
  return name !== model && Object.hasOwn(table, name) ? table[name] : undefined;
}

/**
 * USD for a token usage on a model named exactly as in the table; `undefined` when the table does
 * not know that name. {@link priceOf} also prices dated snapshots.
 */
export function priceUsage(table: PriceTable, model: string, usage: TokenUsage): Decimal | undefined {
  const p = Object.hasOwn(table, model) ? table[model] : undefined;
  if (!p) return undefined;
  return p.input
    .times(usage.inputTokens)
    .plus(p.output.times(usage.outputTokens))
    .plus(p.cacheRead.times(usage.cacheReadTokens))
    .plus(p.cacheWrite.times(usage.cacheWriteTokens))
    .div(PER_MILLION);
}

/**
 * USD of usages as logs name their models: a dated snapshot the table has no exact entry for is
 * priced as its undated name; undefined when neither is known. Each model's entry is looked up once
 * and its prices divided per token once, for callers that price many usages (an import prices every
 * entry of a transcript). The result is {@link priceUsage}'s decimal: dividing by a power of ten only
 * moves the point, and the products stay far inside the 40 significant digits money is computed with.
 */
export function modelPricer(table: PriceTable): (model: string, usage: TokenUsage) => Decimal | undefined {
  const perToken = new Map<string, ModelPrice | null>();
  const lookUp = (model: string): ModelPrice | null => {
    const p = modelPrice(table, model);
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

/** {@link modelPricer} for one usage. */
export function priceOf(table: PriceTable, model: string, usage: TokenUsage): Decimal | undefined {
  return modelPricer(table)(model, usage);
}

/**
 * How an estimate given as one token count splits into the four kinds. Agentic coding sessions
 * re-send a long, cached context every turn, so most tokens are cache reads (0.55); fresh input is
 * the new code and tool output (0.30); the model writes comparatively little (0.10); and each turn
 * appends a little to the cache (0.05). The shares sum to 1. The split matters because output costs
 * 5–8× input and cache reads a tenth of it; calibration replaces this prior with observed mixes.
 */
export const DEFAULT_TOKEN_MIX = Object.freeze({
  input: dec('0.3'),
  output: dec('0.1'),
  cacheRead: dec('0.55'),
  cacheWrite: dec('0.05'),
});

/**
 * USD for `tokens` total tokens on `model` (a dated snapshot priced as in {@link modelPrice}), split
 * by {@link DEFAULT_TOKEN_MIX}; `undefined` for an unknown model.
 */
export function estimateUsd(table: PriceTable, model: string, tokens: number): Decimal | undefined {
  const p = modelPrice(table, model);
  if (!p) return undefined;
  return estimateOfPrice(p, tokens);
}

// A task class's or the policy's estimate is the same token count on every call, so the USD of a
// few counts is kept per price entry (two decimal operations saved).
const estimateOfPrice = memoizedByNumber(64, (p: ModelPrice, tokens: number): Decimal =>
  blendedPrice(p).times(tokens).div(PER_MILLION),
);
/**
 * USD per million tokens of the default mix on one model. The gate prices every candidate model on
 * every call, and the blend is seven decimal operations on prices that do not change, so it is
 * memoised per (immutable) price entry.
 */
const blendedPrice = memoized((p: ModelPrice): Decimal => {
  const m = DEFAULT_TOKEN_MIX;
  return p.input
    .times(m.input)
    .plus(p.output.times(m.output))
    .plus(p.cacheRead.times(m.cacheRead))
    .plus(p.cacheWrite.times(m.cacheWrite));
});
