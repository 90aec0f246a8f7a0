import { DateTime, IANAZone } from 'luxon';
import { EARLIEST, LATEST } from '../time.js';
import { ParseInputError } from './parse-error.js';

/** What a WHEN is resolved against: the current instant and the zone that local times are read in. */
export interface WhenOptions {
  now: DateTime;
  /** IANA zone for texts that carry no offset or zone of their own. */
  timezone: string;
}

const WEEKDAYS: Record<string, number> = {
  mon: 1,
  monday: 1,
  tue: 2,
  tues: 2,
  tuesday: 2,
  wed: 3,
  wednesday: 3,
  thu: 4,
  thur: 4,
  thurs: 4,
  thursday: 4,
  fri: 5,
  friday: 5,
  sat: 6,
  saturday: 6,
  sun: 7,
  sunday: 7,
};

const UNIT_MS: Record<string, number> = {
  w: 7 * 86_400_000,
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1_000,
};

const ACCEPTED =
  'accepted: ISO-8601 ("2026-12-01T09:00:00Z", "2026-12-01T09:00" in the zone), ' +
  '"fri 17:00", "2026-12-01 09:00 Europe/Berlin", "in 3d4h" (units w d h m s)';

function fail(text: string, why: string): never {
  throw new ParseInputError('BUDGET_ERR_INVALID_WHEN', `cannot read the time "${text}": ${why}; ${ACCEPTED}`);
}

function checkZone(text: string, zone: string): string {
  if (!IANAZone.isValidZone(zone)) fail(text, `"${zone}" is not an IANA time zone such as "Europe/Berlin"`);
  return zone;
}

function inRange(text: string, dt: DateTime): DateTime {
  if (dt < EARLIEST || dt > LATEST) fail(text, 'it is outside 2000-01-01 .. 2200-01-01');
  return dt;
}

function fromIso(iso: string, zone: string): DateTime | undefined {
  // luxon throws on invalid input (Settings.throwOnInvalid); an unreadable ISO text is "not this form".
  try {
    return DateTime.fromISO(iso, { zone, setZone: true });
  } catch {
    return undefined;
  }
}

/**
 * Reads a WHEN as operators type it into an instant. Relative forms are measured in elapsed time
 * from `now`; a weekday form is the next such wall-clock time strictly after `now` in the zone.
 *
 * @example
 * parseWhen('fri 17:00', { now, timezone: 'America/Chicago' }); // the coming Friday 17:00 CST
 * parseWhen('in 3d4h', { now, timezone: 'UTC' }); // now + 76 h
 * parseWhen('2026-12-01 09:00 Europe/Berlin', { now, timezone: 'UTC' }); // 08:00Z
 */
export function parseWhen(text: string, options: WhenOptions): DateTime {
  const raw = text.trim();
  const zone = checkZone(raw, options.timezone);
  if (raw === '') fail(text, 'it is empty');
  const lower = raw.toLowerCase();

  if (lower === 'now') return options.now.setZone(zone);

  const rel = /^in\s+((?:\d+\s*[wdhms]\s*)+)$/.exec(lower);
  if (rel?.[1]) {
    let ms = 0;
    for (const part of rel[1].matchAll(/(\d+)\s*([wdhms])/g)) {
      ms += Number(part[1]) * (UNIT_MS[part[2] ?? ''] ?? 0);
    }
    if (ms <= 0) fail(text, 'a relative time must be in the future');
    return inRange(text, options.now.setZone(zone).plus({ milliseconds: ms }));
  }
  if (lower.startsWith('in '))
    fail(text, 'a relative time is "in" followed by amounts such as 3d4h, 90m or 2w');

  const wk = /^([a-z]+)\s+(\d{1,2}):(\d{2})(?:\s+(\S+))?$/.exec(lower);
  if (wk?.[1] && WEEKDAYS[wk[1]] === undefined && !/^\d/.test(wk[1])) {
    fail(text, `"${wk[1]}" is not a weekday (mon, tue, wed, thu, fri, sat, sun)`);
  }
  if (wk?.[1] && WEEKDAYS[wk[1]] !== undefined) {
    const weekday = WEEKDAYS[wk[1]] ?? 1;
    const hour = Number(wk[2]);
    const minute = Number(wk[3]);
    if (hour > 23 || minute > 59) fail(text, 'the time of day must be HH:MM between 00:00 and 23:59');
    // The zone keeps its original spelling (case matters for IANA names such as Europe/Berlin).
    const explicit = raw.split(/\s+/)[2];
    const z = explicit ? checkZone(raw, explicit) : zone;
    const local = options.now.setZone(z);
    for (let add = 0; add <= 7; add += 1) {
      const day = local.plus({ days: add });
      if (day.weekday !== weekday) continue;
      const candidate = day.set({ hour, minute, second: 0, millisecond: 0 });
      if (candidate > options.now) return candidate;
    }
    // Unreachable: within eight days the weekday recurs after now. Kept so the type is total.
    fail(text, 'no such weekday time after now');
  }

  // "2026-12-01 09:00 Europe/Berlin": a local date-time followed by a zone name.
  const zoned = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{1,2}:\d{2}(?::\d{2})?))?\s+([A-Za-z][A-Za-z0-9_+/-]*)$/.exec(
    raw,
  );
  if (zoned?.[1] && zoned[3]) {
    const z = checkZone(raw, zoned[3]);
    const time = zoned[2] ? `T${zoned[2].replace(/^(\d):/, '0$1:')}` : '';
    const dt = fromIso(`${zoned[1]}${time}`, z);
    if (!dt) fail(text, 'the date or time is not valid');
    return inRange(text, dt);
  }

  // ISO-8601, with an offset (kept) or without (read in the zone). A space may stand for the T.
  if (/^\d{4}-\d{2}-\d{2}/.test(raw)) {
    const iso = raw.replace(/^(\d{4}-\d{2}-\d{2}) (\d)/, '$1T$2');
    const dt = fromIso(iso, zone);
    if (!dt) fail(text, 'it looks like ISO-8601 but the date or time is not valid');
    return inRange(text, dt);
  }

  fail(text, 'it matches none of the accepted forms');
}
