import { describe, expect, it } from 'vitest';
import { Duration } from 'luxon';
import { burstPercent } from './burst.js';
import { dec } from './money.js';
import { DAY_MS, HOUR_MS } from './time.js';

describe('burstPercent', () => {
  it('turn a pace duration into that much time at the even rate', () => {
    expect(burstPercent({ pace: Duration.fromISO('PT1H') }, dec(100), 7 * DAY_MS).toFixed(6)).toBe(
      '0.595238',
    );
    expect(burstPercent({ pace: Duration.fromISO('PT1H') }, dec(100), 5 * HOUR_MS).toString()).toBe('20');
  });

  it('take a percent burst as given', () => {
    expect(burstPercent({ percent: dec('2.5') }, dec(100), 7 * DAY_MS).toString()).toBe('2.5');
  });
});
