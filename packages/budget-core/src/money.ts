import { Decimal } from 'decimal.js';
import { z } from 'zod';

/** A decimal.js constructor configured for money: 40 significant digits, banker's rounding never used. */
export const Money = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP });

/** The type of every amount of money and every percentage in the core. */
export type Dec = Decimal;

const DECIMAL_TEXT = /^-?(?:\d+)(?:\.\d+)?$/;

/**
 * A decimal on the wire: a string such as `"12.50"` (numbers are accepted too, for hand-written
 * files, but are converted through their shortest decimal text so no binary-float noise leaks in).
 */
export const decimalSchema = z
  .union([
    z.string().trim().regex(DECIMAL_TEXT, 'expected a decimal number such as "12.50"'),
    z.number().finite(),
  ])
  .transform((v) => new Money(typeof v === 'number' ? String(v) : v));

/** A decimal that is zero or more. */
export const nonNegativeDecimalSchema = decimalSchema.refine((d) => d.gte(0), 'must be zero or more');

/** A decimal strictly greater than zero. */
export const positiveDecimalSchema = decimalSchema.refine((d) => d.gt(0), 'must be greater than zero');

/** A USD amount: zero or more, at most 1e12 (anything larger is a typo, not a budget). */
export const usdSchema = nonNegativeDecimalSchema.refine((d) => d.lte('1e12'), 'must be at most 1e12 USD');

/** Zero as a Money decimal. */
export const ZERO: Decimal = new Money(0);

/** Builds a Money decimal from a string, number or decimal. */
export function dec(v: Decimal.Value): Decimal {
  return new Money(v);
}

/** The smaller of two decimals. */
export function minDec(a: Decimal, b: Decimal): Decimal {
  return a.lte(b) ? a : b;
}

/** The larger of two decimals. */
export function maxDec(a: Decimal, b: Decimal): Decimal {
  return a.gte(b) ? a : b;
}
