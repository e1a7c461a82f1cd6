import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseLocation } from '../../src/schedule/location.js';
import { ScheduleError } from '../../src/schedule/schedule-error.js';

describe('parseLocation: valid', () => {
  const cases: Array<[string, string]> = [
    ['Europe/Berlin', 'Europe/Berlin'],
    ['America/New_York', 'America/New_York'],
    ['UTC', 'UTC'],
    ['europe/berlin', 'Europe/Berlin'],
    ['AMERICA/NEW_YORK', 'America/New_York'],
    ['utc', 'UTC'],
    ['Australia/Lord_Howe', 'Australia/Lord_Howe'],
    ['Etc/GMT+5', 'Etc/GMT+5'],
    // Links are kept as written (ICU would turn some current names into legacy ones).
    ['Asia/Kolkata', 'Asia/Kolkata'],
    ['Europe/Kyiv', 'Europe/Kyiv'],
    ['US/Eastern', 'US/Eastern'],
    ['Etc/UTC', 'Etc/UTC'],
  ];
  for (const [name, canonical] of cases) {
    test(JSON.stringify(name), () => {
      assert.equal(parseLocation(name), canonical);
    });
  }
});

describe('parseLocation: invalid', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /^location: must be an IANA time zone name/],
    ['Mars/Olympus', /^location: "Mars\/Olympus" is not a known IANA time zone name$/],
    ['Europe/Berln', /^location: "Europe\/Berln" is not a known IANA time zone name$/],
    ['+02:00', /is not a known IANA time zone name/],
    ['UTC+3', /is not a known IANA time zone name/],
    ['Local', /is not a known IANA time zone name/],
    ['Europe/Berlin ', /is not a known IANA time zone name/],
    ['../../etc/passwd', /is not a known IANA time zone name/],
  ];
  for (const [name, what] of cases) {
    test(JSON.stringify(name), () => {
      assert.throws(
        () => parseLocation(name),
        (err: unknown) => {
          assert.ok(err instanceof ScheduleError);
          assert.equal(err.parameter, 'location');
          assert.match(err.message, what);
          return true;
        },
      );
    });
  }

  test('undefined is not accepted (the caller defaults to UTC)', () => {
    assert.throws(() => parseLocation(undefined as unknown as string), ScheduleError);
  });
});
