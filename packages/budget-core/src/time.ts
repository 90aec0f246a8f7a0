import { DateTime, Duration, IANAZone, Settings } from 'luxon';
import { z } from 'zod';

// An invalid DateTime silently poisons every comparison it meets; make luxon throw instead.
Settings.throwOnInvalid = true;

declare module 'luxon' {
  interface TSSettings {
    throwOnInvalid: true;
  }
}

// luxon checks a zone by building an Intl.DateTimeFormat every time (tens of microseconds), and every
// stored account is parsed again whenever the register reads it; a name valid once stays valid for the
// life of the process. The set is bounded because zone names come from user input.
const KNOWN_ZONES_MAX = 1024;
const knownZones = new Set<string>();

function isZone(name: string): boolean {
  if (knownZones.has(name)) return true;
  if (!IANAZone.isValidZone(name)) return false;
  if (knownZones.size >= KNOWN_ZONES_MAX) knownZones.clear();
  knownZones.add(name);
  return true;
}

/** An IANA time-zone name such as `America/Chicago`. */
export const timezoneSchema = z
  .string()
  .min(1)
  .refine(isZone, 'must be an IANA time zone such as "America/Chicago"');

/** Earliest and latest instants the system accepts: anything outside is a typo, not a plan. */
export const EARLIEST = DateTime.fromISO('2000-01-01T00:00:00Z', { setZone: true });
/** See {@link EARLIEST}. */
export const LATEST = DateTime.fromISO('2200-01-01T00:00:00Z', { setZone: true });

function parseInstant(text: string): DateTime | undefined {
  try {
    const dt = DateTime.fromISO(text, { setZone: true });
    return dt;
  } catch {
    return undefined;
  }
}

/**
 * An instant on the wire: ISO-8601 with an explicit offset or `Z` (a local time without a zone is
 * ambiguous and rejected). Parsed to a luxon DateTime that keeps the offset it was written with.
 */
export const instantSchema = z
  .string()
  .trim()
  .regex(/(?:Z|[+-]\d{2}:?\d{2})$/i, 'must be ISO-8601 with an offset or Z, e.g. "2026-11-27T17:00:00-06:00"')
  .transform((text, ctx) => {
    const dt = parseInstant(text);
    if (!dt) {
      ctx.addIssue({ code: 'custom', message: `"${text}" is not a valid ISO-8601 instant` });
      return z.NEVER;
    }
    if (dt < EARLIEST || dt > LATEST) {
      ctx.addIssue({ code: 'custom', message: `"${text}" is outside 2000-01-01 .. 2200-01-01` });
      return z.NEVER;
    }
    return dt;
  });

/** An ISO-8601 duration such as `P7D` or `PT5H`; must be positive. */
export const durationSchema = z
  .string()
  .trim()
  .transform((text, ctx) => {
    let d: Duration;
    try {
      d = Duration.fromISO(text);
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: `"${text}" is not an ISO-8601 duration such as "P7D" or "PT5H"`,
      });
      return z.NEVER;
    }
    if (!(d.toMillis() > 0)) {
      ctx.addIssue({ code: 'custom', message: `"${text}" must be a positive duration` });
      return z.NEVER;
    }
    return d;
  });

/** Milliseconds in an hour. */
export const HOUR_MS = 3_600_000;
/** Milliseconds in a day of elapsed time (24 h; pacing uses elapsed time, see docs/pacing.md). */
export const DAY_MS = 86_400_000;
