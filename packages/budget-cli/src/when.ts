import { DateTime } from 'luxon';
import { parseWhen, ParseInputError } from '@mosaic/budget-core';
import { UsageError } from './errors.js';

/** Reads a WHEN flag against the real clock; a bad value is a usage error naming the flag. */
export function whenFlag(
  flag: string,
  text: string,
  timezone: string,
  now: DateTime = DateTime.utc(),
): DateTime {
  try {
    return parseWhen(text, { now, timezone });
  } catch (error) {
    if (error instanceof ParseInputError) throw new UsageError(`${flag}: ${error.message}`);
    throw error;
  }
}

/** The local zone of this machine, for WHEN texts without one (overridable by --timezone). */
export function localZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** An instant as "Fri 27 Nov 17:00 CST (2026-11-27T23:00:00Z)": in a zone and in UTC. */
export function showInstant(dt: DateTime, zone: string): string {
  const local = dt.setZone(zone);
  // Shown to the second: a relative WHEN ("in 3d4h") carries milliseconds nobody needs to read.
  const utc = dt.toUTC().set({ millisecond: 0 });
  return `${local.toFormat('ccc d LLL yyyy HH:mm ZZZZ')} (${utc.toISO({ suppressMilliseconds: true })})`;
}

/** "in 3d 4h", "5h 12m ago": a short relative distance for tables. */
export function relative(dt: DateTime, now: DateTime = DateTime.utc()): string {
  const ms = dt.toMillis() - now.toMillis();
  const abs = Math.abs(ms);
  const d = Math.floor(abs / 86_400_000);
  const h = Math.floor((abs % 86_400_000) / 3_600_000);
  const m = Math.floor((abs % 3_600_000) / 60_000);
  const text = d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : `${m}m`;
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}
