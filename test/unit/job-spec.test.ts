/**
 * PUT parameters -> JobSpec -> first run, table-driven, with explicit "now" values (no real clock).
 *
 * Rules (SPEC.md, "PUT parameters"):
 * - one-off: exactly one of interval (the delay), first-run, immediate=true; no cron.
 * - periodic: exactly one of interval or cron; immediate excludes first-run.
 * - booleans: true/false/1/0/yes/no/on/off, case-insensitive; anything else names the parameter.
 * - first-run: RFC 3339 with any offset; a past time is kept (the job then runs at once).
 * - location: an IANA zone, default UTC; an unknown one names location.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DateTime } from 'luxon';
import {
  firstRunOf,
  MAX_CRON_CHARS,
  MAX_INTERVAL_CHARS,
  parseBoolean,
  parseJobSpec,
  parseRfc3339,
  type PUT_PARAMETERS,
  recurrenceOf,
  type JobSpec,
} from '../../src/jobs/job-spec.js';
import { firstSlot, type Recurrence } from '../../src/schedule/recurrence.js';
import { ScheduleError } from '../../src/schedule/schedule-error.js';

type Params = Partial<Record<(typeof PUT_PARAMETERS)[number], string>>;

const ms = (iso: string): number => {
  const parsed = DateTime.fromISO(iso, { setZone: true });
  assert.ok(parsed.isValid, `test data: ${iso} is a valid time`);
  return parsed.toMillis();
};
const utc = (t: number): string => new Date(t).toISOString();

/** A Thursday, a quarter of a second past ten. */
const NOW = '2026-01-15T10:00:00.250Z';

/** What a valid case must produce. */
interface Expected {
  recurrence: Recurrence['kind'];
  /** The interval column (canonical text), or null. */
  interval: string | null;
  cron: string | null;
  location: string;
  oneOff: boolean;
  start: JobSpec['start']['kind'];
  /** firstRunOf(spec, now). */
  first: string;
}

interface ValidCase {
  name: string;
  params: Params;
  now?: string;
  expected: Partial<Expected> & Pick<Expected, 'first'>;
}

/** Defaults of a periodic interval=60 job; each case overrides what differs. */
const PERIODIC: Omit<Expected, 'first'> = {
  recurrence: 'interval',
  interval: '60',
  cron: null,
  location: 'UTC',
  oneOff: false,
  start: 'regular',
};
const ONE_OFF: Omit<Expected, 'first'> = {
  recurrence: 'once',
  interval: null,
  cron: null,
  location: 'UTC',
  oneOff: true,
  start: 'after',
};

describe('parseJobSpec + firstRunOf: valid periodic jobs', () => {
  const cases: ValidCase[] = [
    // Interval in whole seconds: the first slot is now + interval.
    { name: 'interval=60', params: { interval: '60' }, expected: { first: '2026-01-15T10:01:00.250Z' } },
    { name: 'interval=1', params: { interval: '1' }, expected: { interval: '1', first: '2026-01-15T10:00:01.250Z' } },
    { name: 'interval with blanks is canonical', params: { interval: ' 60 ' }, expected: { first: '2026-01-15T10:01:00.250Z' } },
    { name: 'interval with leading zeros is canonical', params: { interval: '0060' }, expected: { first: '2026-01-15T10:01:00.250Z' } },
    // ISO 8601 durations: fixed units are elapsed time.
    { name: 'interval=PT1S', params: { interval: 'PT1S' }, expected: { interval: 'PT1S', first: '2026-01-15T10:00:01.250Z' } },
    {
      name: 'interval=pt1s (lower case, canonical upper)',
      params: { interval: 'pt1s' },
      expected: { interval: 'PT1S', first: '2026-01-15T10:00:01.250Z' },
    },
    { name: 'interval=PT60S', params: { interval: 'PT60S' }, expected: { interval: 'PT60S', first: '2026-01-15T10:01:00.250Z' } },
    { name: 'interval=PT1H30M', params: { interval: 'PT1H30M' }, expected: { interval: 'PT1H30M', first: '2026-01-15T11:30:00.250Z' } },
    { name: 'interval=PT0.5S', params: { interval: 'PT0.5S' }, expected: { interval: 'PT0.5S', first: '2026-01-15T10:00:00.750Z' } },
    { name: 'interval=P1W', params: { interval: 'P1W' }, expected: { interval: 'P1W', first: '2026-01-22T10:00:00.250Z' } },
    {
      name: 'interval=P1Y2M3DT4H5M6S',
      params: { interval: 'P1Y2M3DT4H5M6S' },
      expected: { interval: 'P1Y2M3DT4H5M6S', first: '2027-03-18T14:05:06.250Z' },
    },
    // Calendar units are computed in the location: P1D keeps the local time across DST.
    {
      name: 'interval=P1D in Europe/Berlin across the spring-forward day (23 h later)',
      params: { interval: 'P1D', location: 'Europe/Berlin' },
      now: '2026-03-28T09:00:00+01:00',
      expected: { interval: 'P1D', location: 'Europe/Berlin', first: '2026-03-29T07:00:00.000Z' },
    },
    {
      name: 'interval=P1D in America/New_York across the fall-back day (25 h later)',
      params: { interval: 'P1D', location: 'America/New_York' },
      now: '2026-10-31T09:00:00-04:00',
      expected: { interval: 'P1D', location: 'America/New_York', first: '2026-11-01T14:00:00.000Z' },
    },
    {
      name: 'interval=P1M clamps the month end',
      params: { interval: 'P1M' },
      now: '2026-01-31T10:00:00Z',
      expected: { interval: 'P1M', first: '2026-02-28T10:00:00.000Z' },
    },
    // Cron: the first occurrence strictly after now, in the location.
    {
      name: 'cron every 15 minutes',
      params: { cron: '*/15 * * * *' },
      expected: { recurrence: 'cron', interval: null, cron: '*/15 * * * *', first: '2026-01-15T10:15:00.000Z' },
    },
    {
      name: 'cron exactly on an occurrence: the next one',
      params: { cron: '*/15 * * * *' },
      now: '2026-01-15T10:15:00Z',
      expected: { recurrence: 'cron', interval: null, cron: '*/15 * * * *', first: '2026-01-15T10:30:00.000Z' },
    },
    {
      name: 'cron with seconds (6 fields)',
      params: { cron: '* * * * * *' },
      expected: { recurrence: 'cron', interval: null, cron: '* * * * * *', first: '2026-01-15T10:00:01.000Z' },
    },
    {
      name: 'cron is stored trimmed',
      params: { cron: '  0 9 * * *  ' },
      expected: { recurrence: 'cron', interval: null, cron: '0 9 * * *', first: '2026-01-16T09:00:00.000Z' },
    },
    // Cron macros: stored as given (trimmed, lower-cased), evaluated in the location.
    {
      name: 'cron=@hourly',
      params: { cron: '@hourly' },
      expected: { recurrence: 'cron', interval: null, cron: '@hourly', first: '2026-01-15T11:00:00.000Z' },
    },
    {
      name: 'cron=@DAILY in Asia/Tokyo: local midnight, stored lower-case',
      params: { cron: ' @DAILY ', location: 'Asia/Tokyo' },
      expected: { recurrence: 'cron', interval: null, cron: '@daily', location: 'Asia/Tokyo', first: '2026-01-15T15:00:00.000Z' },
    },
    {
      name: 'cron=@midnight is @daily',
      params: { cron: '@midnight' },
      expected: { recurrence: 'cron', interval: null, cron: '@midnight', first: '2026-01-16T00:00:00.000Z' },
    },
    {
      name: 'cron=@weekly: Sunday midnight',
      params: { cron: '@weekly' },
      expected: { recurrence: 'cron', interval: null, cron: '@weekly', first: '2026-01-18T00:00:00.000Z' },
    },
    {
      name: 'cron=@annually',
      params: { cron: '@annually' },
      expected: { recurrence: 'cron', interval: null, cron: '@annually', first: '2027-01-01T00:00:00.000Z' },
    },
    {
      name: 'cron in America/New_York',
      params: { cron: '0 9 * * *', location: 'America/New_York' },
      expected: { recurrence: 'cron', interval: null, cron: '0 9 * * *', location: 'America/New_York', first: '2026-01-15T14:00:00.000Z' },
    },
    {
      name: 'cron in America/New_York on the spring-forward day',
      params: { cron: '0 9 * * *', location: 'America/New_York' },
      now: '2026-03-07T09:00:00-05:00',
      expected: { recurrence: 'cron', interval: null, cron: '0 9 * * *', location: 'America/New_York', first: '2026-03-08T13:00:00.000Z' },
    },
    {
      name: 'cron in Asia/Kathmandu (+05:45)',
      params: { cron: '0 0 * * *', location: 'Asia/Kathmandu' },
      expected: { recurrence: 'cron', interval: null, cron: '0 0 * * *', location: 'Asia/Kathmandu', first: '2026-01-15T18:15:00.000Z' },
    },
    // immediate: run now, then continue on the recurrence.
    { name: 'interval + immediate=true', params: { interval: '60', immediate: 'true' }, expected: { start: 'immediate', first: NOW } },
    {
      name: 'cron + immediate=yes',
      params: { cron: '0 9 * * *', immediate: 'yes' },
      expected: { recurrence: 'cron', interval: null, cron: '0 9 * * *', start: 'immediate', first: NOW },
    },
    {
      name: 'interval + immediate=false is a regular job',
      params: { interval: '60', immediate: 'false' },
      expected: { first: '2026-01-15T10:01:00.250Z' },
    },
    // first-run: any offset, kept as given, past or future.
    {
      name: 'interval + first-run in UTC',
      params: { interval: '60', 'first-run': '2026-01-15T12:00:00Z' },
      expected: { start: 'at', first: '2026-01-15T12:00:00.000Z' },
    },
    {
      name: 'interval + first-run with +02:00',
      params: { interval: '60', 'first-run': '2026-01-15T13:30:00+02:00' },
      expected: { start: 'at', first: '2026-01-15T11:30:00.000Z' },
    },
    {
      name: 'interval + first-run with -05:00',
      params: { interval: '60', 'first-run': '2026-01-15T08:00:00-05:00' },
      expected: { start: 'at', first: '2026-01-15T13:00:00.000Z' },
    },
    {
      name: 'interval + first-run with +05:45 and fraction',
      params: { interval: '60', 'first-run': '2026-01-15T16:00:00.5+05:45' },
      expected: { start: 'at', first: '2026-01-15T10:15:00.500Z' },
    },
    {
      name: 'first-run in the past is kept (runs at once)',
      params: { interval: '60', 'first-run': '2026-01-01T00:00:00Z' },
      expected: { start: 'at', first: '2026-01-01T00:00:00.000Z' },
    },
    {
      name: 'first-run not on the cron is kept',
      params: { cron: '0 9 * * *', 'first-run': '2026-01-15T10:00:07Z' },
      expected: { recurrence: 'cron', interval: null, cron: '0 9 * * *', start: 'at', first: '2026-01-15T10:00:07.000Z' },
    },
    {
      name: 'first-run + immediate=false',
      params: { interval: '60', 'first-run': '2026-01-15T12:00:00Z', immediate: 'false' },
      expected: { start: 'at', first: '2026-01-15T12:00:00.000Z' },
    },
    {
      name: 'first-run does not depend on location',
      params: { interval: '60', 'first-run': '2026-01-15T12:00:00Z', location: 'Asia/Tokyo' },
      expected: { start: 'at', location: 'Asia/Tokyo', first: '2026-01-15T12:00:00.000Z' },
    },
    // one-off=false is a periodic job.
    { name: 'interval + one-off=false', params: { interval: '60', 'one-off': 'false' }, expected: { first: '2026-01-15T10:01:00.250Z' } },
    {
      name: 'cron + one-off=0',
      params: { cron: '0 9 * * *', 'one-off': '0' },
      expected: { recurrence: 'cron', interval: null, cron: '0 9 * * *', first: '2026-01-16T09:00:00.000Z' },
    },
    // location forms.
    {
      name: 'location in another case is canonical',
      params: { interval: '60', location: 'europe/berlin' },
      expected: { location: 'Europe/Berlin', first: '2026-01-15T10:01:00.250Z' },
    },
    { name: 'location=utc', params: { interval: '60', location: 'utc' }, expected: { location: 'UTC', first: '2026-01-15T10:01:00.250Z' } },
    { name: 'empty location is UTC', params: { interval: '60', location: '' }, expected: { location: 'UTC', first: '2026-01-15T10:01:00.250Z' } },
    {
      name: 'a link name is kept as written',
      params: { interval: '60', location: 'Asia/Kolkata' },
      expected: { location: 'Asia/Kolkata', first: '2026-01-15T10:01:00.250Z' },
    },
    {
      name: 'location=Etc/UTC',
      params: { interval: '60', location: 'Etc/UTC' },
      expected: { location: 'Etc/UTC', first: '2026-01-15T10:01:00.250Z' },
    },
  ];
  runValid(cases, PERIODIC);
});

describe('parseJobSpec + firstRunOf: valid one-off jobs', () => {
  const cases: ValidCase[] = [
    // interval is the delay; the interval column stays empty (JSON: 0).
    { name: 'one-off + interval=60 (the seed)', params: { 'one-off': 'true', interval: '60' }, expected: { first: '2026-01-15T10:01:00.250Z' } },
    { name: 'one-off + interval=PT90S', params: { 'one-off': 'true', interval: 'PT90S' }, expected: { first: '2026-01-15T10:01:30.250Z' } },
    {
      name: 'one-off + interval=P1D delays by a local day in Europe/Berlin',
      params: { 'one-off': 'yes', interval: 'P1D', location: 'Europe/Berlin' },
      now: '2026-03-28T09:00:00+01:00',
      expected: { location: 'Europe/Berlin', first: '2026-03-29T07:00:00.000Z' },
    },
    {
      name: 'one-off + interval + immediate=false',
      params: { 'one-off': 'on', interval: '60', immediate: 'false' },
      expected: { first: '2026-01-15T10:01:00.250Z' },
    },
    // first-run.
    {
      name: 'one-off + first-run',
      params: { 'one-off': 'true', 'first-run': '2026-01-15T10:00:02Z' },
      expected: { start: 'at', first: '2026-01-15T10:00:02.000Z' },
    },
    {
      name: 'one-off + first-run with -08:00',
      params: { 'one-off': '1', 'first-run': '2026-01-15T02:00:02-08:00' },
      expected: { start: 'at', first: '2026-01-15T10:00:02.000Z' },
    },
    {
      name: 'one-off + first-run in the past is kept',
      params: { 'one-off': 'true', 'first-run': '2020-02-29T23:59:59Z' },
      expected: { start: 'at', first: '2020-02-29T23:59:59.000Z' },
    },
    {
      name: 'one-off + first-run + immediate=no',
      params: { 'one-off': 'true', 'first-run': '2026-01-15T10:00:02Z', immediate: 'no' },
      expected: { start: 'at', first: '2026-01-15T10:00:02.000Z' },
    },
    // immediate.
    { name: 'one-off + immediate=true', params: { 'one-off': 'true', immediate: 'true' }, expected: { start: 'immediate', first: NOW } },
    // interval=0: the 2014 API's "now", the same as immediate=true.
    { name: 'one-off + interval=0 runs at once', params: { 'one-off': 'true', interval: '0' }, expected: { start: 'immediate', first: NOW } },
    { name: 'one-off + interval=00', params: { 'one-off': 'true', interval: '00' }, expected: { start: 'immediate', first: NOW } },
    { name: 'one-off + interval=" 0 "', params: { 'one-off': 'yes', interval: ' 0 ' }, expected: { start: 'immediate', first: NOW } },
    {
      name: 'one-off + interval=0 + immediate=false',
      params: { 'one-off': 'true', interval: '0', immediate: 'false' },
      expected: { start: 'immediate', first: NOW },
    },
    { name: 'one-off=TRUE + immediate=On', params: { 'one-off': 'TRUE', immediate: 'On' }, expected: { start: 'immediate', first: NOW } },
    {
      name: 'one-off + immediate + location',
      params: { 'one-off': 'true', immediate: 'true', location: 'Pacific/Chatham' },
      expected: { start: 'immediate', location: 'Pacific/Chatham', first: NOW },
    },
  ];
  runValid(cases, ONE_OFF);
});

function runValid(cases: ValidCase[], defaults: Omit<Expected, 'first'>): void {
  for (const { name, params, now, expected } of cases) {
    test(`${name}: ${JSON.stringify(params)}`, () => {
      const want: Expected = { ...defaults, ...expected };
      const spec = parseJobSpec(params);
      assert.deepEqual(
        {
          recurrence: spec.recurrence.kind,
          interval: spec.interval,
          cron: spec.cron,
          location: spec.location,
          oneOff: spec.oneOff,
          start: spec.start.kind,
        },
        {
          recurrence: want.recurrence,
          interval: want.interval,
          cron: want.cron,
          location: want.location,
          oneOff: want.oneOff,
          start: want.start,
        },
      );
      assert.equal(utc(firstRunOf(spec, ms(now ?? NOW))), utc(ms(want.first)));
      // The same spec gives the same first run whenever it is asked (no hidden clock).
      assert.equal(firstRunOf(spec, ms(now ?? NOW)), firstRunOf(spec, ms(now ?? NOW)));
    });
  }
}

describe('one-off with interval=0', () => {
  test('is the same job as one-off=true&immediate=true', () => {
    const zero = parseJobSpec({ 'one-off': 'true', interval: '0', location: 'Europe/Berlin' });
    const immediate = parseJobSpec({ 'one-off': 'true', immediate: 'true', location: 'Europe/Berlin' });
    assert.deepEqual(zero, immediate);
    assert.equal(zero.interval, null, 'the interval column stays empty, so the JSON says "interval":0');
    assert.equal(firstRunOf(zero, ms(NOW)), ms(NOW));
  });

  test('a periodic job with interval=0 is still refused', () => {
    assert.throws(() => parseJobSpec({ interval: '0' }), /^ScheduleError: interval: "0" must be greater than zero$/);
    assert.throws(() => parseJobSpec({ interval: '0', 'one-off': 'false' }), /^ScheduleError: interval: "0" must be greater than zero$/);
  });
});

describe('firstRunOf: the first run moves with now, except first-run', () => {
  test('regular, immediate and delayed starts follow now; first-run does not', () => {
    const t1 = ms('2026-06-01T00:00:00Z');
    const t2 = t1 + 12_345;
    const regular = parseJobSpec({ interval: '60' });
    const immediate = parseJobSpec({ interval: '60', immediate: 'true' });
    const delayed = parseJobSpec({ 'one-off': 'true', interval: '60' });
    const at = parseJobSpec({ interval: '60', 'first-run': '2026-06-01T00:00:30Z' });
    assert.equal(firstRunOf(regular, t2) - firstRunOf(regular, t1), 12_345);
    assert.equal(firstRunOf(immediate, t2) - firstRunOf(immediate, t1), 12_345);
    assert.equal(firstRunOf(delayed, t2) - firstRunOf(delayed, t1), 12_345);
    assert.equal(firstRunOf(at, t1), firstRunOf(at, t2));
  });

  test('a cron job created between occurrences waits for the next one', () => {
    const spec = parseJobSpec({ cron: '0 * * * *' });
    assert.equal(utc(firstRunOf(spec, ms('2026-01-15T10:59:59.999Z'))), '2026-01-15T11:00:00.000Z');
    assert.equal(utc(firstRunOf(spec, ms('2026-01-15T11:00:00.000Z'))), '2026-01-15T12:00:00.000Z');
  });
});

/** An invalid case: the parameter its error must name, and optionally more the message must say. */
interface InvalidCase {
  params: Params;
  parameter: string;
  mentions?: RegExp;
}

function runInvalid(cases: InvalidCase[]): void {
  for (const { params, parameter, mentions } of cases) {
    test(`${JSON.stringify(params)} -> ${parameter}`, () => {
      assert.throws(
        () => parseJobSpec(params),
        (error: unknown) => {
          assert.ok(error instanceof ScheduleError, `a ScheduleError, got ${String(error)}`);
          assert.equal(error.parameter, parameter);
          assert.ok(error.message.startsWith(`${parameter}:`), `the message names ${parameter}: ${error.message}`);
          if (mentions) assert.match(error.message, mentions);
          return true;
        },
      );
    });
  }
}

describe('parseJobSpec: invalid combinations', () => {
  runInvalid([
    // Periodic: exactly one of interval or cron.
    { params: {}, parameter: 'interval', mentions: /cron/ },
    { params: { location: 'UTC' }, parameter: 'interval' },
    { params: { immediate: 'true' }, parameter: 'interval' },
    { params: { 'first-run': '2026-01-15T12:00:00Z' }, parameter: 'interval' },
    { params: { 'one-off': 'false' }, parameter: 'interval' },
    { params: { interval: '60', cron: '* * * * *' }, parameter: 'cron', mentions: /interval/ },
    { params: { interval: '60', cron: '* * * * *', 'one-off': 'no' }, parameter: 'cron', mentions: /interval/ },
    // immediate excludes first-run.
    { params: { interval: '60', immediate: 'true', 'first-run': '2026-01-15T12:00:00Z' }, parameter: 'immediate', mentions: /first-run/ },
    { params: { cron: '0 9 * * *', immediate: '1', 'first-run': '2026-01-15T12:00:00Z' }, parameter: 'immediate', mentions: /first-run/ },
    // One-off: no cron.
    { params: { 'one-off': 'true', cron: '* * * * *' }, parameter: 'cron', mentions: /one-off/ },
    { params: { 'one-off': 'true', cron: '* * * * *', interval: '60' }, parameter: 'cron' },
    { params: { 'one-off': 'true', cron: '* * * * *', immediate: 'true' }, parameter: 'cron' },
    // One-off: exactly one of interval, first-run, immediate=true.
    { params: { 'one-off': 'true' }, parameter: 'one-off', mentions: /interval.*first-run.*immediate/ },
    { params: { 'one-off': 'true', immediate: 'false' }, parameter: 'one-off' },
    { params: { 'one-off': 'true', location: 'Europe/Berlin' }, parameter: 'one-off' },
    { params: { 'one-off': 'true', interval: '60', 'first-run': '2026-01-15T12:00:00Z' }, parameter: 'one-off' },
    { params: { 'one-off': 'true', interval: '60', immediate: 'true' }, parameter: 'one-off' },
    { params: { 'one-off': 'true', 'first-run': '2026-01-15T12:00:00Z', immediate: 'true' }, parameter: 'one-off' },
    // interval=0 is "now", so it is one of the three too.
    { params: { 'one-off': 'true', interval: '0', immediate: 'true' }, parameter: 'one-off' },
    { params: { 'one-off': 'true', interval: '0', 'first-run': '2026-01-15T12:00:00Z' }, parameter: 'one-off' },
    { params: { 'one-off': 'true', interval: '60', 'first-run': '2026-01-15T12:00:00Z', immediate: 'true' }, parameter: 'one-off' },
  ]);
});

describe('parseJobSpec: invalid values name their parameter', () => {
  runInvalid([
    // interval
    ...['', ' ', 'abc', '0', '00', '-5', '1.5', '+3', 'P', 'PT', 'PT0S', 'P1DT', '-PT1S', 'PT-1S', '60s', '1e3', 'P200Y', '3155695201'].map(
      (interval) => ({ params: { interval }, parameter: 'interval' }),
    ),
    { params: { interval: `PT${'0'.repeat(MAX_INTERVAL_CHARS)}1S` }, parameter: 'interval', mentions: /64/ },
    { params: { interval: 'abc', immediate: 'true' }, parameter: 'interval' },
    { params: { 'one-off': 'true', interval: 'abc' }, parameter: 'interval' },
    { params: { 'one-off': 'true', interval: 'PT0S' }, parameter: 'interval', mentions: /greater than zero/ },
    { params: { 'one-off': 'true', interval: '-0' }, parameter: 'interval' },
    // cron
    ...['', '* * * *', '* * * * * * *', '61 * * * *', '* 25 * * *', '@reboot', '@minutely', 'H * * * *', 'every minute', '0 0 30 2 *'].map(
      (cron) => ({ params: { cron }, parameter: 'cron' }),
    ),
    {
      params: { cron: `${Array.from({ length: 60 }, (_, i) => i).join(',')} ${Array.from({ length: 60 }, (_, i) => i).join(',')} * * * *` },
      parameter: 'cron',
      mentions: new RegExp(String(MAX_CRON_CHARS)),
    },
    // location: checked before anything else, with interval, cron and one-off alike.
    ...['Mars/Olympus', 'Europe/Berlinx', '+02:00', 'UTC+2', '../etc/passwd', 'Europe/', ' UTC'].map((location) => ({
      params: { interval: '60', location },
      parameter: 'location',
    })),
    { params: { cron: '0 9 * * *', location: 'Nowhere/Special' }, parameter: 'location' },
    { params: { 'one-off': 'true', immediate: 'true', location: 'Nowhere/Special' }, parameter: 'location' },
    { params: { location: 'Nowhere/Special' }, parameter: 'location' },
    // first-run: RFC 3339 only.
    ...[
      '',
      'tomorrow',
      '1768471200',
      '2026-01-15',
      '2026-01-15T10:00:00', // no offset
      '2026-01-15 10:00:00Z', // space instead of T
      '2026-01-15T10:00Z', // no seconds
      '2026-01-15T10:00:00+0100', // offset without colon
      '2026-01-15T10:00:00+01', // offset without minutes
      '2026-01-15T10:00:00 Z',
      '2026-02-30T10:00:00Z', // no such day
      '2025-02-29T10:00:00Z', // not a leap year
      '2026-13-01T10:00:00Z',
      '2026-01-15T24:00:00Z', // hour 24
      '2026-01-15T10:60:00Z',
      '2026-01-15T10:00:61Z',
      '2026-12-31T23:59:60Z', // leap second: refused, as Go's time.Parse does
      '2026-01-15T10:00:00+25:00', // offset hour out of range
      '2026-01-15T10:00:00+01:60', // offset minute out of range
      '2026-01-15T10:00:00.Z', // empty fraction
      '2026-01-15T10:00:00.1234567890Z', // more than nanoseconds
      'Thu, 15 Jan 2026 10:00:00 GMT',
    ].map((firstRun) => ({ params: { interval: '60', 'first-run': firstRun }, parameter: 'first-run' })),
    { params: { 'one-off': 'true', 'first-run': '2026-01-15T10:00:00' }, parameter: 'first-run' },
  ]);
});

const TRUE_WORDS = ['true', '1', 'yes', 'on', 'TRUE', 'True', 'YES', 'Yes', 'ON', 'oN'];
const FALSE_WORDS = ['false', '0', 'no', 'off', 'FALSE', 'False', 'NO', 'No', 'OFF', 'oFf'];
const NOT_BOOLEANS = [
  '',
  ' ',
  'y',
  'n',
  't',
  'f',
  '2',
  '-1',
  '01',
  'truee',
  ' true',
  'true ',
  'null',
  'undefined',
  'enabled',
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  'valueOf',
];

describe('booleans: true/false/1/0/yes/no/on/off, case-insensitive', () => {
  for (const word of TRUE_WORDS) {
    test(`"${word}" is true`, () => {
      assert.equal(parseBoolean('p', word), true);
      assert.equal(parseJobSpec({ interval: '60', immediate: word }).start.kind, 'immediate');
      assert.equal(parseJobSpec({ interval: '60', 'one-off': word }).oneOff, true);
    });
  }
  for (const word of FALSE_WORDS) {
    test(`"${word}" is false`, () => {
      assert.equal(parseBoolean('p', word), false);
      assert.equal(parseJobSpec({ interval: '60', immediate: word }).start.kind, 'regular');
      const spec = parseJobSpec({ interval: '60', 'one-off': word });
      assert.equal(spec.oneOff, false);
      assert.equal(spec.recurrence.kind, 'interval');
    });
  }
  for (const word of NOT_BOOLEANS) {
    test(`${JSON.stringify(word)} is an error naming the parameter`, () => {
      for (const parameter of ['immediate', 'one-off'] as const) {
        assert.throws(
          () => parseJobSpec({ interval: '60', [parameter]: word }),
          (error: unknown) =>
            error instanceof ScheduleError &&
            error.parameter === parameter &&
            error.message.startsWith(`${parameter}:`) &&
            error.message.includes(JSON.stringify(word)),
        );
      }
      for (const parameter of ['enable', 'disable']) {
        assert.throws(
          () => parseBoolean(parameter, word),
          (error: unknown) => error instanceof ScheduleError && error.parameter === parameter && error.message.startsWith(`${parameter}:`),
        );
      }
    });
  }
  test('parseBoolean always returns a real boolean', () => {
    for (const word of [...TRUE_WORDS, ...FALSE_WORDS]) assert.equal(typeof parseBoolean('p', word), 'boolean');
  });
});

describe('parseRfc3339: any offset, millisecond precision', () => {
  const cases: Array<[string, string]> = [
    ['2026-01-15T10:00:00Z', '2026-01-15T10:00:00.000Z'],
    ['2026-01-15t10:00:00z', '2026-01-15T10:00:00.000Z'], // RFC 3339 allows lower-case t and z
    ['2026-01-15T10:00:00+00:00', '2026-01-15T10:00:00.000Z'],
    ['2026-01-15T10:00:00-00:00', '2026-01-15T10:00:00.000Z'],
    ['2026-01-15T11:00:00+01:00', '2026-01-15T10:00:00.000Z'],
    ['2026-01-15T00:00:00-10:00', '2026-01-15T10:00:00.000Z'],
    ['2026-01-16T00:00:00+14:00', '2026-01-15T10:00:00.000Z'],
    ['2026-01-15T15:45:00+05:45', '2026-01-15T10:00:00.000Z'],
    ['2026-01-15T10:00:00+23:59', '2026-01-14T10:01:00.000Z'],
    ['2026-01-15T10:00:00.5Z', '2026-01-15T10:00:00.500Z'],
    ['2026-01-15T10:00:00.123Z', '2026-01-15T10:00:00.123Z'],
    ['2026-01-15T10:00:00.123456789Z', '2026-01-15T10:00:00.123Z'],
    ['2024-02-29T23:59:59Z', '2024-02-29T23:59:59.000Z'],
    ['2026-01-15T23:59:59Z', '2026-01-15T23:59:59.000Z'],
    ['2026-01-15T00:00:00Z', '2026-01-15T00:00:00.000Z'],
  ];
  for (const [text, expected] of cases) {
    test(text, () => assert.equal(utc(parseRfc3339('first-run', text)), expected));
  }
});

describe('recurrenceOf: rebuilds the recurrence of a stored job', () => {
  const FROM = ms('2026-01-15T10:00:00.250Z');

  test('one-off jobs have no recurrence, whatever else the columns hold', () => {
    assert.deepEqual(recurrenceOf({ interval: null, cron: null, location: 'UTC', oneOff: true }), { kind: 'once' });
    assert.deepEqual(recurrenceOf({ interval: '60', cron: null, location: 'UTC', oneOff: true }), { kind: 'once' });
  });

  test('seconds', () => {
    const rec = recurrenceOf({ interval: '60', cron: null, location: 'UTC', oneOff: false });
    assert.equal(rec.kind, 'interval');
    assert.deepEqual(rec.kind === 'interval' && rec.interval, { kind: 'seconds', seconds: 60, text: '60' });
  });

  test('an ISO duration, computed in the stored location', () => {
    const rec = recurrenceOf({ interval: 'P1D', cron: null, location: 'Europe/Berlin', oneOff: false });
    assert.equal(rec.kind, 'interval');
    // P1D from 09:00 CET on the day before spring-forward: 09:00 CEST, 23 hours later.
    assert.equal(utc(firstSlot(rec, 'Europe/Berlin', ms('2026-03-28T09:00:00+01:00'))), '2026-03-29T07:00:00.000Z');
  });

  test('cron is bound to the stored location', () => {
    const ny = recurrenceOf({ interval: null, cron: '0 9 * * *', location: 'America/New_York', oneOff: false });
    const tokyo = recurrenceOf({ interval: null, cron: '0 9 * * *', location: 'Asia/Tokyo', oneOff: false });
    assert.equal(ny.kind === 'cron' && utc(ny.cron.next(FROM)), '2026-01-15T14:00:00.000Z');
    assert.equal(tokyo.kind === 'cron' && utc(tokyo.cron.next(FROM)), '2026-01-16T00:00:00.000Z');
  });

  test('a row with neither interval nor cron is an error', () => {
    assert.throws(() => recurrenceOf({ interval: null, cron: null, location: 'UTC', oneOff: false }), /neither interval nor cron/);
  });

  test('round trip: the columns of every periodic spec give the same slots as the spec', () => {
    const specs: Params[] = [
      { interval: '60' },
      { interval: ' 0060 ' },
      { interval: 'pt1h30m' },
      { interval: 'P1M', location: 'Europe/Istanbul' },
      { interval: 'P1D', location: 'America/New_York' },
      { cron: '*/5 * * * *' },
      { cron: ' 30 2 * * * ', location: 'Europe/Berlin' },
      { cron: '15 * * * * *', location: 'Asia/Kathmandu' },
      { cron: '@Monthly', location: 'Europe/Berlin' },
    ];
    const froms = ['2026-01-15T10:00:00.250Z', '2026-03-29T00:30:00Z', '2026-10-25T00:30:00Z', '2026-11-01T05:30:00Z'].map(ms);
    for (const params of specs) {
      const spec = parseJobSpec(params);
      const rebuilt = recurrenceOf({ interval: spec.interval, cron: spec.cron, location: spec.location, oneOff: spec.oneOff });
      assert.equal(rebuilt.kind, spec.recurrence.kind, JSON.stringify(params));
      for (const from of froms) {
        assert.equal(
          firstSlot(rebuilt, spec.location, from),
          firstSlot(spec.recurrence, spec.location, from),
          `${JSON.stringify(params)} from ${utc(from)}`,
        );
      }
    }
  });
});
