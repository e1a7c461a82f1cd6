import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DateTime } from 'luxon';
import { addInterval, addIntervalTimes, intervalJson, parseInterval, type Interval } from '../../src/schedule/interval.js';
import { ScheduleError } from '../../src/schedule/schedule-error.js';

const HOUR = 3_600_000;
const ms = (iso: string): number => DateTime.fromISO(iso, { setZone: true }).toMillis();
const iso = (t: number, zone: string): string => DateTime.fromMillis(t, { zone }).toISO({ suppressMilliseconds: true }) as string;
const durationFields = (i: Interval) =>
  i.kind === 'duration' ? { years: i.years, months: i.months, weeks: i.weeks, days: i.days, clockMs: i.clockMs } : { seconds: i.seconds };

describe('parseInterval: valid', () => {
  const cases: Array<[string, ReturnType<typeof durationFields>, number | string]> = [
    ['60', { seconds: 60 }, 60],
    ['1', { seconds: 1 }, 1],
    [' 3600 ', { seconds: 3600 }, 3600],
    ['3155695200', { seconds: 3155695200 }, 3155695200], // exactly 100 average years
    ['PT60S', { years: 0, months: 0, weeks: 0, days: 0, clockMs: 60_000 }, 'PT60S'],
    ['PT1H30M', { years: 0, months: 0, weeks: 0, days: 0, clockMs: 5_400_000 }, 'PT1H30M'],
    ['P1D', { years: 0, months: 0, weeks: 0, days: 1, clockMs: 0 }, 'P1D'],
    ['P1W', { years: 0, months: 0, weeks: 1, days: 0, clockMs: 0 }, 'P1W'],
    ['P1M', { years: 0, months: 1, weeks: 0, days: 0, clockMs: 0 }, 'P1M'],
    ['P1Y', { years: 1, months: 0, weeks: 0, days: 0, clockMs: 0 }, 'P1Y'],
    ['P1Y2M3DT4H5M6S', { years: 1, months: 2, weeks: 0, days: 3, clockMs: 4 * HOUR + 5 * 60_000 + 6_000 }, 'P1Y2M3DT4H5M6S'],
    ['PT0.5S', { years: 0, months: 0, weeks: 0, days: 0, clockMs: 500 }, 'PT0.5S'],
    ['PT1,25S', { years: 0, months: 0, weeks: 0, days: 0, clockMs: 1250 }, 'PT1,25S'],
    ['PT0.001S', { years: 0, months: 0, weeks: 0, days: 0, clockMs: 1 }, 'PT0.001S'],
    ['pt1h', { years: 0, months: 0, weeks: 0, days: 0, clockMs: HOUR }, 'PT1H'],
    ['P1DT1H', { years: 0, months: 0, weeks: 0, days: 1, clockMs: HOUR }, 'P1DT1H'],
    ['P100Y', { years: 100, months: 0, weeks: 0, days: 0, clockMs: 0 }, 'P100Y'],
    ['PT0H0M1S', { years: 0, months: 0, weeks: 0, days: 0, clockMs: 1000 }, 'PT0H0M1S'],
  ];
  for (const [text, fields, json] of cases) {
    test(JSON.stringify(text), () => {
      const interval = parseInterval(text);
      assert.equal(interval.kind, 'seconds' in fields ? 'seconds' : 'duration');
      assert.deepEqual(durationFields(interval), fields);
      assert.equal(intervalJson(interval), json);
    });
  }
});

describe('parseInterval: invalid', () => {
  const cases: Array<[string, RegExp]> = [
    ['0', /must be greater than zero/],
    ['000', /must be greater than zero/],
    ['-5', /must be positive/],
    ['1.5', /not a whole number of seconds/],
    ['+60', /not a whole number of seconds/],
    ['', /must not be empty/],
    ['   ', /must not be empty/],
    ['abc', /is not a number of seconds or an ISO 8601 duration/],
    ['1e3', /is not a number of seconds or an ISO 8601 duration/],
    ['P', /is not a number of seconds or an ISO 8601 duration/],
    ['PT', /is not a number of seconds or an ISO 8601 duration/],
    ['P1DT', /is not a number of seconds or an ISO 8601 duration/],
    ['P1Y-', /is not a number of seconds or an ISO 8601 duration/],
    ['PT-5S', /must be a positive ISO 8601 duration/],
    ['-PT5S', /must be a positive ISO 8601 duration/],
    ['P1.5D', /is not a number of seconds or an ISO 8601 duration/],
    ['PT1.2345S', /is not a number of seconds or an ISO 8601 duration/],
    ['PT1S2M', /is not a number of seconds or an ISO 8601 duration/],
    ['1 h', /is not a number of seconds or an ISO 8601 duration/],
    ['PT0S', /must be greater than zero/],
    ['P0D', /must be greater than zero/],
    ['3155695201', /too large/],
    ['99999999999999999999999', /too large/],
    ['P101Y', /too large/],
    ['P1201M', /too large/],
    ['PT876600H1S', /too large/], // 100 x 365.25 days: over 100 average years
    ['P99999999999999999999Y', /too large/],
  ];
  for (const [text, what] of cases) {
    test(JSON.stringify(text), () => {
      assert.throws(
        () => parseInterval(text),
        (err: unknown) => {
          assert.ok(err instanceof ScheduleError);
          assert.equal(err.parameter, 'interval');
          assert.match(err.message, /^interval: /);
          assert.match(err.message, what);
          if (text.trim() !== '') assert.ok(err.message.includes(JSON.stringify(text)), err.message);
          return true;
        },
      );
    });
  }

  test('names the parameter it was given', () => {
    assert.throws(
      () => parseInterval('PT', 'retry_interval'),
      (err: unknown) =>
        err instanceof ScheduleError &&
        err.parameter === 'retry_interval' &&
        err.message === 'retry_interval: "PT" is not a number of seconds or an ISO 8601 duration',
    );
  });
});

describe('addInterval', () => {
  // [zone, interval, from (ISO with offset), expected local result, expected elapsed ms or null]
  const cases: Array<[string, string, string, string, number | null]> = [
    // P1D keeps the local wall time across DST (23 h / 25 h elapsed).
    ['Europe/Berlin', 'P1D', '2026-03-28T09:00:00+01:00', '2026-03-29T09:00:00+02:00', 23 * HOUR],
    ['Europe/Berlin', 'P1D', '2026-10-24T09:00:00+02:00', '2026-10-25T09:00:00+01:00', 25 * HOUR],
    ['America/New_York', 'P1D', '2026-03-07T09:00:00-05:00', '2026-03-08T09:00:00-04:00', 23 * HOUR],
    ['America/New_York', 'P1D', '2026-10-31T09:00:00-04:00', '2026-11-01T09:00:00-05:00', 25 * HOUR],
    ['Europe/Berlin', 'P1W', '2026-03-25T12:00:00+01:00', '2026-04-01T12:00:00+02:00', 7 * 24 * HOUR - HOUR],
    // PT1H and plain seconds are exact elapsed time across DST.
    ['Europe/Berlin', 'PT1H', '2026-03-29T01:30:00+01:00', '2026-03-29T03:30:00+02:00', HOUR],
    ['Europe/Berlin', 'PT1H', '2026-10-25T02:30:00+02:00', '2026-10-25T02:30:00+01:00', HOUR],
    ['America/New_York', 'PT1H', '2026-03-08T01:30:00-05:00', '2026-03-08T03:30:00-04:00', HOUR],
    ['America/New_York', 'PT1H', '2026-11-01T01:30:00-04:00', '2026-11-01T01:30:00-05:00', HOUR],
    ['Europe/Berlin', 'PT24H', '2026-03-28T09:00:00+01:00', '2026-03-29T10:00:00+02:00', 24 * HOUR],
    ['Europe/Berlin', '3600', '2026-10-25T02:30:00+02:00', '2026-10-25T02:30:00+01:00', HOUR],
    ['UTC', 'PT0.5S', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00.500Z', 500],
    // Spring forward: a local time that does not exist moves forward by the gap.
    ['Europe/Berlin', 'P1D', '2026-03-28T02:30:00+01:00', '2026-03-29T03:30:00+02:00', 24 * HOUR],
    ['America/New_York', 'P1D', '2026-03-07T02:30:00-05:00', '2026-03-08T03:30:00-04:00', 24 * HOUR],
    ['Europe/Berlin', 'P1D', '2026-03-29T03:30:00+02:00', '2026-03-30T03:30:00+02:00', 24 * HOUR],
    // Fall back: an ambiguous local time takes the earlier instant, whatever offset the start had.
    ['Europe/Berlin', 'P1D', '2026-10-24T02:30:00+02:00', '2026-10-25T02:30:00+02:00', 24 * HOUR],
    ['Europe/Berlin', 'P10M', '2025-12-25T02:30:00+01:00', '2026-10-25T02:30:00+02:00', null],
    ['America/New_York', 'P1D', '2026-10-31T01:30:00-04:00', '2026-11-01T01:30:00-04:00', 24 * HOUR],
    // Mixed: calendar part in the zone, then the clock part as elapsed time.
    ['Europe/Berlin', 'P1DT1H', '2026-03-28T09:00:00+01:00', '2026-03-29T10:00:00+02:00', 24 * HOUR],
    ['Europe/Berlin', 'P1DT1H', '2026-03-28T01:30:00+01:00', '2026-03-29T03:30:00+02:00', 25 * HOUR],
    // Month ends clamp; leap days.
    ['UTC', 'P1M', '2026-01-31T10:00:00Z', '2026-02-28T10:00:00Z', null],
    ['UTC', 'P1M', '2026-02-28T10:00:00Z', '2026-03-28T10:00:00Z', null],
    ['UTC', 'P1M', '2028-01-31T10:00:00Z', '2028-02-29T10:00:00Z', null],
    ['UTC', 'P1M', '2026-03-31T10:00:00Z', '2026-04-30T10:00:00Z', null],
    ['UTC', 'P1Y', '2028-02-29T12:00:00Z', '2029-02-28T12:00:00Z', null],
    ['UTC', 'P4Y', '2028-02-29T12:00:00Z', '2032-02-29T12:00:00Z', null],
    ['UTC', 'P1Y2M3DT4H5M6S', '2026-01-01T00:00:00Z', '2027-03-04T04:05:06Z', null],
    ['Europe/Berlin', 'P1M', '2026-03-15T12:00:00+01:00', '2026-04-15T12:00:00+02:00', null],
  ];
  for (const [zone, text, from, expected, elapsed] of cases) {
    test(`${zone} ${from} + ${text}`, () => {
      const fromMs = ms(from);
      const result = addInterval(fromMs, parseInterval(text), zone);
      assert.equal(iso(result, zone), expected);
      assert.ok(Number.isInteger(result));
      if (elapsed !== null) assert.equal(result - fromMs, elapsed);
    });
  }
});

describe('addInterval: the length of one interval depends on where it starts', () => {
  const cases: Array<[string, string, string, number]> = [
    ['Europe/Berlin', '60', '2026-03-29T01:59:30+01:00', 60_000],
    ['Europe/Berlin', 'PT1H', '2026-03-29T01:30:00+01:00', HOUR],
    ['Europe/Berlin', 'P1D', '2026-03-28T12:00:00+01:00', 23 * HOUR],
    ['Europe/Berlin', 'P1D', '2026-10-24T12:00:00+02:00', 25 * HOUR],
    ['Europe/Berlin', 'P1D', '2026-06-01T12:00:00+02:00', 24 * HOUR],
    ['UTC', 'P1M', '2026-02-01T00:00:00Z', 28 * 24 * HOUR],
    ['UTC', 'P1M', '2026-01-01T00:00:00Z', 31 * 24 * HOUR],
    ['UTC', 'P1Y', '2028-01-01T00:00:00Z', 366 * 24 * HOUR],
  ];
  for (const [zone, text, from, expected] of cases) {
    test(`${text} from ${from} in ${zone}`, () => {
      assert.equal(addInterval(ms(from), parseInterval(text), zone) - ms(from), expected);
    });
  }
});

describe('addIntervalTimes: k intervals in one step, not k steps of one', () => {
  // [zone, interval, from, times, expected local result]
  const cases: Array<[string, string, string, number, string]> = [
    // Jan 31 + 2 x P1M is Mar 31: the clamp to Feb 28 is not carried on (stepping would give Mar 28).
    ['UTC', 'P1M', '2026-01-31T10:00:00Z', 2, '2026-03-31T10:00:00Z'],
    ['UTC', 'P1M', '2026-01-31T10:00:00Z', 3, '2026-04-30T10:00:00Z'],
    ['UTC', 'P1M', '2028-01-31T10:00:00Z', 1, '2028-02-29T10:00:00Z'],
    // 02:30 on the day after spring forward exists again (stepping from 03:30 would stay at 03:30).
    ['Europe/Berlin', 'P1D', '2026-03-28T02:30:00+01:00', 2, '2026-03-30T02:30:00+02:00'],
    // A repeated local time takes the earlier instant, whatever offset the start had.
    ['Europe/Berlin', 'P1D', '2026-10-20T02:30:00+02:00', 5, '2026-10-25T02:30:00+02:00'],
    ['Europe/Berlin', 'P1W', '2026-10-04T02:30:00+02:00', 3, '2026-10-25T02:30:00+02:00'],
    // Mixed: the calendar part k-fold in the zone, then k x the clock part as elapsed time.
    ['Europe/Berlin', 'P1DT1H', '2026-03-28T01:30:00+01:00', 2, '2026-03-30T03:30:00+02:00'],
    ['UTC', 'P1DT1H', '2026-01-01T00:00:00Z', 24, '2026-01-26T00:00:00Z'],
    // Clock-only: k x the exact length.
    ['Europe/Berlin', 'PT90S', '2026-03-29T01:59:00+01:00', 2, '2026-03-29T03:02:00+02:00'],
    ['UTC', '90', '2026-01-01T00:00:00Z', 40, '2026-01-01T01:00:00Z'],
  ];
  for (const [zone, text, from, times, expected] of cases) {
    test(`${zone} ${from} + ${times} x ${text}`, () => {
      const result = addIntervalTimes(ms(from), parseInterval(text), zone, times);
      assert.equal(iso(result, zone), expected);
      assert.ok(Number.isInteger(result));
    });
  }
});
