import { DateTime } from 'luxon';
import { EARLIEST, LATEST } from '../time.js';

// The form Claude Code and Codex write, to the millisecond in UTC.
const UTC_MILLIS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * An ISO-8601 timestamp from a log line, or undefined when it is unreadable or outside the range the
 * system accepts (importing time.js also makes luxon throw on invalid input, which is caught here).
 */
export function readLogInstant(text: string): DateTime | undefined {
  try {
    // luxon's ISO parser is most of the cost of a log line. The usual form goes through Date.parse,
    // which already refuses a month, minute or second out of range but rolls over a day past the
    // month's end (February 30th) and an hour of 24: such text is left to luxon, which refuses it.
    // For a "Z" timestamp fromISO with setZone gives a DateTime in UTC, as fromMillis does here.
    const dt = UTC_MILLIS.test(text) ? fromUtcMillis(text) : DateTime.fromISO(text, { setZone: true });
    return dt < EARLIEST || dt > LATEST ? undefined : dt;
  } catch {
    return undefined;
  }
}

function fromUtcMillis(text: string): DateTime {
  const ms = Date.parse(text);
  const dt = Number.isNaN(ms) ? undefined : DateTime.fromMillis(ms, { zone: 'utc' });
  return dt !== undefined && dt.day === Number(text.slice(8, 10)) && dt.hour === Number(text.slice(11, 13))
    ? dt
    : DateTime.fromISO(text, { setZone: true });
}
