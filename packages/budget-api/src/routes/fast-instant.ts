import { z } from 'zod';
import { DateTime, FixedOffsetZone } from 'luxon';
import { EARLIEST, LATEST, instantSchema } from '@mosaic/budget-core';

// The one shape clients and the CLI send (`Date#toISOString`, or an explicit offset): calendar date,
// time to the second, an optional fraction, and `Z` or `±HH:MM`. Anything else is left to luxon.
const COMMON_ISO =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):(\d{2}))$/;
// Offsets beyond ±14:00 exist nowhere; luxon's reading of them is left to luxon.
const MAX_OFFSET_HOURS = 14;
const EARLIEST_MS = EARLIEST.toMillis();
const LATEST_MS = LATEST.toMillis();

/**
 * What `DateTime.fromISO(text, { setZone: true })` answers for text of the common shape, computed
 * from the fields instead of through luxon's general ISO grammar (a sixth of the cost); undefined
 * whenever the text is of another shape, names a day or time that does not exist, or lies outside
 * the instants the core accepts, so that the core decides those and words their refusals.
 */
export function commonInstant(text: string): DateTime | undefined {
  const m = COMMON_ISO.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, fraction, zulu, sign, offH, offM] = m as unknown as (string | undefined)[];
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  // Date.UTC rolls 30 February over into March; luxon refuses it, and so must this.
  const midnight = new Date(Date.UTC(year, month - 1, day));
  if (
    midnight.getUTCFullYear() !== year ||
    midnight.getUTCMonth() !== month - 1 ||
    midnight.getUTCDate() !== day
  )
    return undefined;
  // luxon's own reading of a fraction (parseMillis): the first three digits, truncated.
  const millis = fraction === undefined ? 0 : Math.floor(parseFloat(`0.${fraction}`) * 1000);
  let offset = 0;
  if (zulu === undefined) {
    const hours = Number(offH);
    const minutes = Number(offM);
    if (hours > MAX_OFFSET_HOURS || minutes > 59) return undefined;
    offset = sign === '-' ? -(hours * 60 + minutes) : hours * 60 + minutes;
  }
  const ms = midnight.getTime() + ((hour * 60 + minute - offset) * 60 + second) * 1000 + millis;
  if (ms < EARLIEST_MS || ms > LATEST_MS) return undefined;
  return DateTime.fromMillis(ms, { zone: FixedOffsetZone.instance(offset) });
}

// The core's instant schema is a pipe: the trimmed, offset-checked string, then luxon's parse.
const coreParse = instantSchema.out.def.transform as (text: string, ctx: z.RefinementCtx) => DateTime;

/**
 * The core's {@link instantSchema} with {@link commonInstant} in front of its luxon parse: the same
 * input checks (so the same JSON Schema and the same refusals) and the same DateTime out, at a sixth
 * of the cost for the common shape. fast-instant.test.ts proves it equal to the core's schema.
 */
export const fastInstantSchema = z.pipe(
  instantSchema.in,
  z.transform((text: string, ctx) => commonInstant(text) ?? coreParse(text, ctx)),
);
