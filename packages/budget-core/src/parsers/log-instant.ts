import { DateTime } from 'luxon';
import { EARLIEST, LATEST } from '../time.js';

/**
 * An ISO-8601 timestamp from a log line, or undefined when it is unreadable or outside the range the
 * system accepts (importing time.js also makes luxon throw on invalid input, which is caught here).
 */
export function readLogInstant(text: string): DateTime | undefined {
  try {
    const dt = DateTime.fromISO(text, { setZone: true });
    return dt < EARLIEST || dt > LATEST ? undefined : dt;
  } catch {
    return undefined;
  }
}
