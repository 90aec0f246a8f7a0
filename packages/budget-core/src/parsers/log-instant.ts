import { DateTime } from 'luxon';
import { EARLIEST, LATEST } from '../time.js';

// The form Claude Code and Codex write, to the millisecond in UTC.
const UTC_MILLIS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const EARLIEST_MS = EARLIEST.toMillis();
const LATEST_MS = LATEST.toMillis();

/**
 * An ISO-8601 timestamp from a log line, or undefined when it is unreadable or outside the range the
 * system accepts (importing time.js also makes luxon throw on invalid input, which is caught here).
 */
export function readLogInstant(text: string): DateTime | undefined {
  try {
    // luxon's ISO parser is most of the cost of a log line; the usual form goes through Date.parse.
    // For a "Z" timestamp fromISO with setZone gives a DateTime in UTC, as fromMillis does here.
    const ms = utcMillis(text);
    const dt =
      ms !== undefined ? DateTime.fromMillis(ms, { zone: 'utc' }) : DateTime.fromISO(text, { setZone: true });
    return dt < EARLIEST || dt > LATEST ? undefined : dt;
  } catch {
    return undefined;
  }
}

/**
 * {@link readLogInstant} as epoch milliseconds, without building a DateTime for the usual form: an
 * import reads a timestamp on every usage line, and most of those lines are repeats it drops.
 */
export function readLogMillis(text: string): number | undefined {
  const ms = utcMillis(text);
  if (ms === undefined) return readLogInstant(text)?.toMillis();
  return ms < EARLIEST_MS || ms > LATEST_MS ? undefined : ms;
}

/**
 * The instant of a "…Z" millisecond timestamp when Date.parse reads it as written. Date.parse already
 * refuses a month, minute or second out of range but rolls a day past the month's end (February 30th)
 * and an hour of 24 over: such text gives undefined and is left to luxon, which refuses it.
 */
function utcMillis(text: string): number | undefined {
  if (!UTC_MILLIS.test(text)) return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return undefined;
  const d = new Date(ms);
  return d.getUTCDate() === Number(text.slice(8, 10)) && d.getUTCHours() === Number(text.slice(11, 13))
    ? ms
    : undefined;
}
