import { DateTime } from 'luxon';
import type { Decimal } from 'decimal.js';
import { dec } from '@mosaic/budget-core';

/** A database NUMERIC (string, or number from PGlite) as a Money decimal. */
export function numeric(value: string | number | null | undefined): Decimal {
  return dec(value === null || value === undefined ? 0 : String(value));
}

/** A database timestamp as a UTC luxon DateTime. */
export function instant(value: Date | string): DateTime {
  const d = value instanceof Date ? value : new Date(value);
  return DateTime.fromMillis(d.getTime(), { zone: 'utc' });
}

/** A luxon DateTime as the ISO text the wire and the database take. */
export function iso(value: DateTime): string {
  return value.toUTC().toISO() ?? '';
}

/** A database timestamp as wire text. */
export function isoOf(value: Date | string): string {
  return iso(instant(value));
}

/** A BIGINT count as a JS number (token counts stay far below 2^53). */
export function count(value: string | number | bigint): number {
  return Number(value);
}
